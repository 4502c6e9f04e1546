// Log lines for an admin and fail2ban: syslog (facility mail, ident popperd)
// or stderr. Lines are stable "key=value" sentences; never a password.
#pragma once

#include <string>
#include <string_view>

namespace popper {

enum class LogLevel { error, warning, notice, info, debug };
enum class LogTarget { syslog, stderr_stream };

// Parses "error".."debug"; false on an unknown word.
bool parse_log_level(std::string_view word, LogLevel& out);
std::string_view log_level_name(LogLevel level);

void log_open(LogTarget target, LogLevel threshold);
// In -i mode stderr may be the client's connection: send it to syslog instead.
void log_redirect_stderr_to_syslog_if_socket();
LogTarget log_target();

void log_line(LogLevel level, std::string_view text);
inline void log_error(std::string_view t) {
    log_line(LogLevel::error, t);
}
inline void log_warning(std::string_view t) {
    log_line(LogLevel::warning, t);
}
inline void log_notice(std::string_view t) {
    log_line(LogLevel::notice, t);
}
inline void log_info(std::string_view t) {
    log_line(LogLevel::info, t);
}
inline void log_debug(std::string_view t) {
    log_line(LogLevel::debug, t);
}

} // namespace popper
