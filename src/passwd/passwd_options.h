// popper-passwd's command line: the usage text, the options and their
// checks, parsed into one Options value that the commands read.
#pragma once

#include "popper/users_file.h"

#include <cstdio>
#include <optional>
#include <string>

#ifndef POPPER_DEFAULT_CONFIG
#define POPPER_DEFAULT_CONFIG "/etc/popperd/popperd.conf"
#endif
// Used when the configuration cannot be read (key apop_secrets_file) and
// --apop-file is not given.
#ifndef POPPER_DEFAULT_APOP_SECRETS
#define POPPER_DEFAULT_APOP_SECRETS "/etc/popperd/apop-secrets"
#endif

namespace popper::passwd {

inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 64; // sysexits.h EX_USAGE

// `delete` on the command line: `delete` is a C++ keyword.
enum class Command { add, passwd, disable, enable, remove, apop };

struct Options {
    std::string config_path = POPPER_DEFAULT_CONFIG;
    std::optional<std::string> users_file; // -f, else popperd's users_file
    std::optional<std::string> apop_file;  // --apop-file, else popperd's apop_secrets_file
    Command command = Command::add;
    std::string user;
    UserEntry entry; // add: uid, gid, home, mailbox
    bool from_stdin = false;
    bool clear = false;
    bool has_entry_options = false;
};

void print_usage(std::FILE* to);

// Parses argv into `options`; returns an exit code when the program should
// stop (-h, -V, or a usage error already reported on standard error).
std::optional<int> parse_options(int argc, char** argv, Options& options);

// "popper-passwd: TEXT" on standard error.
void say(const std::string& text);

} // namespace popper::passwd
