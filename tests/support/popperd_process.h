// The real popperd binary (POPPERD_BINARY) run by a test: as a standalone
// daemon in the foreground on an ephemeral port, as an inetd-mode session on
// a real TCP connection, or once for -t / -n / -V. Every wait is bounded and
// every process started here is ended by its owner object.
#pragma once

#include "support/mail_host.h"
#include "support/pop_client.h"
#include "support/wait_until.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace popper::test {

// Waits for `pid` (a child of ours) to exit: its exit code, or 128 + signal
// number when a signal killed it; nullopt when it is still running at the end.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout = kDefaultWait);

// The text after the first NUL-free prefix of /proc/PID/cmdline: what ps
// shows as the process title. Empty when the process is gone.
std::string process_title(pid_t pid);

// `popperd -f -c CONF` with stderr (and stdout) appended to a log file in
// the host's directory. The constructor returns once the daemon logged
// "listening on ADDR:PORT" and throws (with the log) if it does not.
class Daemon {
public:
    explicit Daemon(const MailHost& host);
    ~Daemon(); // stop() if still running
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    pid_t pid() const { return pid_; }
    // Port of the first listening address; listen_names() has them all as
    // logged: "127.0.0.1:40123", "[::1]:40124".
    uint16_t port() const { return port_; }
    const std::vector<std::string>& listen_names() const { return listen_names_; }
    // Port of the first `pop2_listen` address; 0 when there is none.
    uint16_t pop2_port() const { return pop2_port_; }
    const std::string& log_path() const { return log_path_; }
    std::string log_text() const;
    // Waits until the log contains `needle` (counting from the start).
    bool wait_for_log(std::string_view needle,
                      std::chrono::milliseconds timeout = kDefaultWait) const;
    // Log lines (without LF) that contain `needle`.
    std::vector<std::string> log_lines_with(std::string_view needle) const;

    // A client connected to port(); the greeting is not read yet.
    PopClient connect() const { return PopClient(port_); }
    // The pid of the session process that logged the `nth` (0-based)
    // "connect: addr=" line, waiting for it; nullopt when none came.
    std::optional<pid_t> session_pid(size_t nth = 0) const;

    void send_signal(int signo) const;
    bool running();
    // SIGTERM, then waits; after kDefaultWait SIGKILL and a test failure.
    // Returns the exit code (128 + signal when killed).
    int stop();

private:
    std::string log_path_;
    pid_t pid_ = -1;
    bool reaped_ = false;
    uint16_t port_ = 0;
    uint16_t pop2_port_ = 0;
    std::vector<std::string> listen_names_;
};

// `popperd -i -c CONF` serving one real TCP connection: the test listens on
// 127.0.0.1:0, connects client(), accepts, and gives the accepted socket to
// popperd as its stdin and stdout (stderr goes to a log file).
class InetdSession {
public:
    // `extra_args` follow "-i -c CONF" (e.g. {"-2"} for POP2).
    explicit InetdSession(const MailHost& host, const std::vector<std::string>& extra_args = {});
    ~InetdSession(); // SIGKILL if still running
    InetdSession(const InetdSession&) = delete;
    InetdSession& operator=(const InetdSession&) = delete;

    PopClient& client() { return *client_; }
    pid_t pid() const { return pid_; }
    std::string log_text() const;
    // Exit code of popperd once it ends; nullopt when it did not in time.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout = kDefaultWait);

private:
    std::string log_path_;
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::optional<PopClient> client_;
};

struct RunResult {
    int exit_code = -1; // 128 + signal when killed; -1 when it had to be killed
    std::string out;
    std::string err;
};

// Runs popperd with `args` (e.g. {"-t", "-c", path}) to completion, stdin
// from /dev/null, output captured through files in the host's directory.
RunResult run_popperd(const MailHost& host, const std::vector<std::string>& args);
// The same for another program (popperd-uidl, say).
RunResult run_program(const MailHost& host, const std::string& binary,
                      const std::vector<std::string>& args);

} // namespace popper::test
