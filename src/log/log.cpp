#include "popper/log.h"

#include <array>
#include <cstdio>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

namespace popper {

namespace {

struct LogState {
    LogTarget target = LogTarget::stderr_stream;
    LogLevel threshold = LogLevel::info;
    bool syslog_open = false;
};

LogState& state() {
    static LogState s;
    return s;
}

constexpr std::array<std::string_view, 5> kLevelNames = {"error", "warning", "notice", "info",
                                                         "debug"};

int syslog_priority(LogLevel level) {
    switch (level) {
    case LogLevel::error:
        return LOG_ERR;
    case LogLevel::warning:
        return LOG_WARNING;
    case LogLevel::notice:
        return LOG_NOTICE;
    case LogLevel::info:
        return LOG_INFO;
    case LogLevel::debug:
        return LOG_DEBUG;
    }
    return LOG_INFO;
}

void open_syslog() {
    if (!state().syslog_open) {
        ::openlog("popperd", LOG_PID | LOG_NDELAY, LOG_MAIL);
        state().syslog_open = true;
    }
}

} // namespace

bool parse_log_level(std::string_view word, LogLevel& out) {
    for (size_t i = 0; i < kLevelNames.size(); ++i) {
        if (kLevelNames[i] == word) {
            out = static_cast<LogLevel>(i);
            return true;
        }
    }
    return false;
}

std::string_view log_level_name(LogLevel level) {
    return kLevelNames[static_cast<size_t>(level)];
}

void log_open(LogTarget target, LogLevel threshold) {
    state().target = target;
    state().threshold = threshold;
    if (target == LogTarget::syslog)
        open_syslog();
}

void log_redirect_stderr_to_syslog_if_socket() {
    struct stat st {};
    if (state().target == LogTarget::stderr_stream && ::fstat(STDERR_FILENO, &st) == 0 &&
        S_ISSOCK(st.st_mode)) {
        state().target = LogTarget::syslog;
        open_syslog();
    }
}

LogTarget log_target() {
    return state().target;
}

void log_line(LogLevel level, std::string_view text) {
    if (level > state().threshold)
        return;
    // Control characters from clients never reach the log verbatim.
    std::string clean;
    clean.reserve(text.size());
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\x%02x", c);
            clean += esc;
        } else {
            clean += static_cast<char>(c);
        }
    }
    if (state().target == LogTarget::syslog) {
        ::syslog(syslog_priority(level), "%s", clean.c_str());
        return;
    }
    std::string line = "popperd[" + std::to_string(::getpid()) +
                       "]: " + std::string(log_level_name(level)) + ": " + clean + "\n";
    // One write per line so lines from concurrent sessions do not interleave.
    (void)!::write(STDERR_FILENO, line.data(), line.size());
}

} // namespace popper
