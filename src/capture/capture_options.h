// Private to popperd-uidl: its command line, parsed into one Options value.
#pragma once

#include "capture.h"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#ifndef POPPER_DEFAULT_CONFIG
#define POPPER_DEFAULT_CONFIG "/etc/popperd/popperd.conf"
#endif

namespace popper::capture {

inline constexpr int kExitError = 1;  // some account or map failed
inline constexpr int kExitUsage = 64; // sysexits.h EX_USAGE

enum class Command { capture, check };

struct Options {
    Command command = Command::capture;
    std::string config_path = POPPER_DEFAULT_CONFIG;
    bool dry_run = false; // -n: print the maps, write nothing
    OldServer server;
    std::string accounts_file;
    std::string master_password_file;
    std::vector<std::string> users; // check
};

void print_usage(std::FILE* to);
// Parses argv; returns an exit code when the program should stop (-h, -V,
// or a usage error already reported on standard error).
std::optional<int> parse_options(int argc, char** argv, Options& options);
// "popperd-uidl: TEXT" on standard error.
void say(const std::string& text);

// The commands; each returns the exit status.
int run_capture(const Options& options, const Config& config);
int run_check(const Options& options, const Config& config);

} // namespace popper::capture
