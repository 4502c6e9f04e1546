// The standalone server: listening sockets (IPv4, IPv6, or passed by systemd),
// a forked child per connection, session limits, signals, pidfile.
#pragma once

#include "popper/config.h"
#include "popper/io.h"
#include "popper/result.h"
#include "popper/session.h"

#include <string>
#include <vector>

namespace popper {

struct ListeningSocket {
    UniqueFd fd;
    std::string name;                   // "127.0.0.1:110", "[::1]:110" with the port actually bound
    bool proxy = false;                 // `listen ... proxy`: connections start with a PROXY header
    Protocol protocol = Protocol::pop3; // POP2 on a `pop2_listen` address
};

// Binds every `listen` address of the config, then every `pop2_listen` one.
Result<std::vector<ListeningSocket>> bind_listeners(const Config& config);

// Sockets passed by systemd (LISTEN_FDS/LISTEN_PID, sd_listen_fds(3)
// protocol, without libsystemd). Empty when none were passed for us.
struct InheritedSockets {
    std::vector<ListeningSocket> listening; // Accept=no
    int connection_fd = -1;                 // Accept=yes: one connection
};
// A listening socket bound to the address of a `listen ... proxy` line of
// `config` is marked proxy.
InheritedSockets take_systemd_sockets(const Config& config);

// The client of an inetd-mode session (popperd -i) on descriptor `fd`: the
// socket's peer; when `fd` is no inet socket (ucspi-tcp's tcpserver) or a
// loopback one (stunnel's `exec`), the numeric address in REMOTE_HOST or
// TCPREMOTEIP if one is set. `tls_terminated`
// (popperd -i -S): the program that started us terminated TLS.
PeerInfo inetd_peer(int fd, bool tls_terminated);

// The admission of a `proxy` listener's session: the listener counts
// sessions per client address (max_sessions_per_ip), and only the PROXY
// header names the client, later, in the session. The session process asks
// on the admission socket the listener made for it; true: admitted and
// counted. -1 (no listener: inetd, systemd Accept=yes): always admitted.
inline constexpr size_t kMaxAdmissionOctets = 64; // an IPv6 address in text
bool ask_admission(int admission, const std::string& address);

// Runs the accept loop until SIGTERM/SIGINT; re-reads `config_path` on
// SIGHUP. Returns the exit status.
int run_listener(Config config, const std::string& config_path,
                 std::vector<ListeningSocket> sockets);

// Detaches from the terminal: fork (the parent exits), setsid, fork again
// (so no controlling terminal is ever reacquired), chdir("/"), stdin and
// stdout to /dev/null; stderr is kept for `log = stderr`. popperd calls it
// unless started with -f (foreground).
Status daemonize();

// Writes our pid to `path` (by rename from PATH.tmp), removed on
// destruction. An empty path writes nothing.
class Pidfile {
public:
    static Result<Pidfile> create(const std::string& path);
    Pidfile() = default;
    Pidfile(Pidfile&& other) noexcept;
    Pidfile& operator=(Pidfile&&) = delete;
    ~Pidfile();

private:
    std::string path_;
};

} // namespace popper
