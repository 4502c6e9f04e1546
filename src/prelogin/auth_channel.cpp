// The auth channel's messages (popper/auth_channel.h): one datagram each,
// fields separated by NUL, refused when malformed or oversized.
#include "popper/auth_channel.h"

#include <cerrno>
#include <memory>
#include <sys/socket.h>
#include <vector>

namespace popper {

namespace {

std::string join(std::initializer_list<std::string_view> fields) {
    std::string out;
    for (auto f : fields) {
        out.append(f);
        out.push_back('\0');
    }
    return out;
}

// Splits at the first `count - 1` NULs; the last field keeps the rest.
std::vector<std::string> split(const std::string& message, size_t count) {
    std::vector<std::string> fields;
    size_t pos = 0;
    while (fields.size() + 1 < count) {
        size_t nul = message.find('\0', pos);
        if (nul == std::string::npos)
            return {};
        fields.push_back(message.substr(pos, nul - pos));
        pos = nul + 1;
    }
    std::string last = message.substr(pos);
    if (last.empty() || last.back() != '\0')
        return {};
    last.pop_back();
    fields.push_back(std::move(last));
    return fields;
}

Status send_message(int fd, const std::string& message) {
    if (message.size() > kMaxAuthMessageOctets)
        return Error::because("auth channel", "", "message too large");
    for (;;) {
        ssize_t n = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL);
        if (n == static_cast<ssize_t>(message.size()))
            return {};
        if (n < 0 && errno == EINTR)
            continue;
        return Error::from_errno("send", "auth channel");
    }
}

// nullopt at EOF.
Result<std::optional<std::string>> receive_message(int fd) {
    // Not zero-filled: a std::string of this size cost a 64 KiB memset per
    // message, a few per login (measured 4% of a session's CPU).
    auto buf = std::make_unique_for_overwrite<char[]>(kMaxAuthMessageOctets + 1);
    for (;;) {
        ssize_t n = ::recv(fd, buf.get(), kMaxAuthMessageOctets + 1, MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            return Error::from_errno("recv", "auth channel", EINTR);
        if (n < 0)
            return Error::from_errno("recv", "auth channel");
        if (n == 0)
            return std::optional<std::string>();
        if (static_cast<size_t>(n) > kMaxAuthMessageOctets)
            return Error::because("auth channel", "", "message too large");
        return std::optional<std::string>(std::in_place, buf.get(), static_cast<size_t>(n));
    }
}

Error malformed() {
    return Error::because("auth channel", "", "malformed message");
}

// What the pre-login side waits for from the privileged process: a signal
// does not end the wait, the end of file is an error.
Result<std::string> receive_from_privileged(int fd) {
    for (;;) {
        auto got = receive_message(fd);
        if (!got && got.error().errnum == EINTR)
            continue;
        if (!got)
            return got.error();
        if (!*got)
            return Error::because("auth channel", "", "privileged process gone");
        return std::move(**got);
    }
}

} // namespace

Status send_auth_request(int fd, const AuthRequest& r) {
    return send_message(fd, join({"REQUEST", r.mechanism, r.user, r.challenge, r.secret}));
}

Status send_auth_verdict(int fd, const AuthVerdict& v) {
    return send_message(fd, join({v.ok ? "OK" : "NO", v.reason}));
}

Status send_handover(int fd, const Handover& h) {
    return send_message(fd, join({"HANDOVER", h.user, h.pending_input}));
}

Status send_preauth_end(int fd, const PreauthEnd& end) {
    return send_message(fd, join({"ENDED", end.said_goodbye ? "goodbye" : "quiet"}));
}

Status send_client_address(int fd, const ClientAddress& c) {
    return send_message(fd, join({"CLIENT", c.address, c.under_tls ? "tls" : "clear"}));
}

Status send_login_challenges(int fd, const LoginChallenges& c) {
    std::string message = join({"CHALLENGES", c.apop_stamp, c.capa_policy_lines});
    for (const auto& cram : c.cram)
        message += join({cram});
    return send_message(fd, message);
}

Result<LoginChallenges> receive_login_challenges(int fd) {
    auto got = receive_from_privileged(fd);
    if (!got)
        return got.error();
    const std::string& message = *got;
    if (message.empty() || message.back() != '\0')
        return malformed();
    std::vector<std::string> fields;
    for (size_t pos = 0; pos < message.size();) {
        size_t nul = message.find('\0', pos);
        fields.push_back(message.substr(pos, nul - pos));
        pos = nul + 1;
    }
    if (fields.size() < 3 || fields[0] != "CHALLENGES")
        return malformed();
    LoginChallenges out;
    out.apop_stamp = std::move(fields[1]);
    out.capa_policy_lines = std::move(fields[2]);
    out.cram.assign(std::make_move_iterator(fields.begin() + 3),
                    std::make_move_iterator(fields.end()));
    return out;
}

Result<std::optional<AuthMessage>> receive_auth_message(int fd) {
    auto got = receive_message(fd);
    if (!got)
        return got.error();
    if (!*got)
        return std::optional<AuthMessage>();
    const std::string& message = **got;
    AuthMessage out;
    if (message.rfind("REQUEST", 0) == 0) {
        auto f = split(message, 5);
        if (f.size() != 5 || f[0] != "REQUEST")
            return malformed();
        out.request = AuthRequest{f[1], f[2], f[4], f[3]};
    } else if (message.rfind("HANDOVER", 0) == 0) {
        auto f = split(message, 3);
        if (f.size() != 3 || f[0] != "HANDOVER")
            return malformed();
        out.handover = Handover{f[1], f[2]};
    } else if (message.rfind("ENDED", 0) == 0) {
        auto f = split(message, 2);
        if (f.size() != 2 || f[0] != "ENDED" || (f[1] != "goodbye" && f[1] != "quiet"))
            return malformed();
        out.ended = PreauthEnd{f[1] == "goodbye"};
    } else if (message.rfind("CLIENT", 0) == 0) {
        auto f = split(message, 3);
        if (f.size() != 3 || f[0] != "CLIENT" || (f[2] != "tls" && f[2] != "clear"))
            return malformed();
        out.client = ClientAddress{f[1], f[2] == "tls"};
    } else {
        return malformed();
    }
    return std::optional<AuthMessage>(std::move(out));
}

Result<AuthVerdict> receive_auth_verdict(int fd) {
    auto got = receive_from_privileged(fd);
    if (!got)
        return got.error();
    auto f = split(*got, 2);
    if (f.size() != 2 || (f[0] != "OK" && f[0] != "NO"))
        return malformed();
    return AuthVerdict{f[0] == "OK", f[1]};
}

namespace {
const std::string kControl = "pre-login control socket";
} // namespace

Status send_preauth_connection(int control, int client_fd, int channel_fd,
                               const std::string& peer_address, bool expects_proxy_header) {
    int fds[] = {client_fd, channel_fd};
    return send_with_fds(
        control, join({"CONNECTION", peer_address, expects_proxy_header ? "proxy" : "direct"}), fds,
        kControl);
}

Result<std::optional<PreauthConnection>> receive_preauth_connection(int control) {
    auto got = receive_with_fds(control, 256, 2, kControl);
    if (!got)
        return got.error();
    if (!*got)
        return std::optional<PreauthConnection>();
    auto f = split((*got)->message, 3);
    if (f.size() != 3 || f[0] != "CONNECTION" || (f[2] != "proxy" && f[2] != "direct") ||
        (*got)->fds.size() != 2)
        return malformed();
    PreauthConnection out{std::move((*got)->fds[0]), std::move((*got)->fds[1]), std::move(f[1]),
                          f[2] == "proxy"};
    return std::optional<PreauthConnection>(std::move(out));
}

Status send_preauth_idle(int control) {
    return send_message(control, join({"IDLE"}));
}

Result<bool> receive_preauth_report(int control) {
    auto got = receive_message(control);
    if (!got)
        return got.error();
    if (!*got)
        return false;
    if (**got != join({"IDLE"}))
        return malformed();
    return true;
}

} // namespace popper
