// APOP: stamps, digest check, and the `name:secret` secrets file.
#include "popper/apop.h"
#include "popper/hmac_md5.h"
#include "popper/log.h"
#include "popper/md5.h"
#include "popper/sasl.h"
#include "popper/users_file.h"
#include "popper/users_file_edit.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace popper {

namespace {

bool is_host_octet(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
}

bool is_blank_or_comment(std::string_view line) {
    const auto first = line.find_first_not_of(" \t");
    return first == std::string_view::npos || line[first] == '#';
}

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

} // namespace

ApopSecret::~ApopSecret() {
    wipe_secret(secret);
}

std::string make_apop_stamp(pid_t pid, time_t time, std::string_view random_hex,
                            std::string_view host) {
    std::string clean_host;
    for (char c : host) {
        if (is_host_octet(c))
            clean_host += c;
    }
    if (clean_host.empty())
        clean_host = "localhost";
    return "<" + std::to_string(pid) + "." + std::to_string(time) + "." + std::string(random_hex) +
           "@" + clean_host + ">";
}

Result<std::string> new_apop_stamp(std::string_view host) {
    uint8_t random[kApopStampRandomOctets];
    size_t got = 0;
    while (got < sizeof random) {
        const ssize_t n = ::getrandom(random + got, sizeof random - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::from_errno("getrandom", "");
        }
        got += static_cast<size_t>(n);
    }
    return make_apop_stamp(::getpid(), std::time(nullptr), to_hex(random, sizeof random), host);
}

bool verify_apop(std::string_view secret, std::string_view stamp, std::string_view digest_hex) {
    std::string input;
    input.reserve(stamp.size() + secret.size());
    input.append(stamp).append(secret);
    const std::string expected = md5_hex(input);
    wipe_secret(input);
    return hex_digest_matches(expected, digest_hex);
}

std::optional<ApopSecret> parse_apop_secret_line(std::string_view line, std::string& why) {
    why.clear();
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (is_blank_or_comment(line))
        return std::nullopt;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
        why = "no ':' (want name:secret)";
        return std::nullopt;
    }
    if (!is_valid_user_name(line.substr(0, colon))) {
        why = "invalid user name";
        return std::nullopt;
    }
    const std::string_view secret = line.substr(colon + 1);
    if (secret.empty()) {
        why = "empty secret";
        return std::nullopt;
    }
    if (secret.size() > kMaxApopSecretOctets) {
        why = "secret longer than " + std::to_string(kMaxApopSecretOctets) + " octets";
        return std::nullopt;
    }
    // A NUL would cut the secret short for a C API; a CR mid-line is garbage.
    if (secret.find_first_of(std::string_view("\0\r", 2)) != std::string_view::npos) {
        why = "NUL or CR in secret";
        return std::nullopt;
    }
    ApopSecret entry;
    entry.name = line.substr(0, colon);
    entry.secret = secret;
    return entry;
}

Result<std::optional<std::string>> find_apop_secret(const std::string& path,
                                                    std::string_view name) {
    auto file = read_text_file(path, kMaxApopSecretsFileOctets);
    if (!file)
        return file.error();
    std::string* text = &file->text;
    std::optional<std::string> found;
    for_each_entry(*text, "apop secrets file", path, parse_apop_secret_line,
                   [&](ApopSecret& entry) {
                       // First match wins.
                       if (!found && entry.name == name)
                           found = std::move(entry.secret);
                   });
    wipe_secret(*text);
    return found;
}

Status check_secret_file_permissions(const std::string& label, const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        return Error::from_errno(label, path);
    if (S_ISLNK(st.st_mode))
        return Error::because(label, path,
                              "is a symbolic link (want a regular file, mode 0600, owner root)");
    if (!S_ISREG(st.st_mode))
        return Error::because(label, path, "is not a regular file");
    if ((st.st_mode & 077) != 0)
        return Error::because(label, path,
                              "mode " + octal_mode(st.st_mode) +
                                  " lets group or others in (want 0600: chmod 600)");
    const uid_t euid = ::geteuid();
    if (st.st_uid != 0 && (euid == 0 || st.st_uid != euid))
        return Error::because(
            label, path, "owned by uid " + std::to_string(st.st_uid) + " (want root: chown root)");
    return {};
}

} // namespace popper
