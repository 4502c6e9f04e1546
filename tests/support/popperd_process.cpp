#include "support/popperd_process.h"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace popper::test {

namespace {

// Log and output files of one test process get distinct names.
std::atomic<unsigned> next_file_number{0};

std::string unique_file(const MailHost& host, std::string_view stem, std::string_view suffix) {
    return host.path(std::string(stem) + "-" + std::to_string(next_file_number++) +
                     std::string(suffix));
}

int open_or_throw(const std::string& path, int flags, mode_t mode = 0644) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0)
        throw std::runtime_error("open " + path + ": " + std::strerror(errno));
    return fd;
}

// Our environment minus systemd's socket-activation variables, which would
// make popperd look for inherited sockets.
std::vector<char*> child_environment() {
    std::vector<char*> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view entry(*e);
        if (entry.starts_with("LISTEN_PID=") || entry.starts_with("LISTEN_FDS=") ||
            entry.starts_with("LISTEN_FDNAMES="))
            continue;
        env.push_back(*e);
    }
    env.push_back(nullptr);
    return env;
}

// Starts POPPERD_BINARY with `args` and the given descriptors as 0, 1, 2, in
// a process group of its own (so its sessions can be ended with it), with
// default signal dispositions and an empty signal mask.
pid_t spawn_program(const std::string& binary, const std::vector<std::string>& args, int in_fd,
                    int out_fd, int err_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int signo : {SIGPIPE, SIGTERM, SIGHUP, SIGINT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2})
        sigaddset(&defaults, signo);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);

    std::vector<std::string> storage;
    storage.emplace_back(binary);
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : storage)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<char*> env = child_environment();

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw std::runtime_error("posix_spawn " + binary + ": " + std::strerror(rc));
    return pid;
}

pid_t spawn_popperd(const std::vector<std::string>& args, int in_fd, int out_fd, int err_fd) {
    return spawn_program(POPPERD_BINARY, args, in_fd, out_fd, err_fd);
}

int decode_status(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

// Ends a process group we started, then reaps its leader.
void kill_group(pid_t pid) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

size_t count_listen_lines(const std::string& config_text) {
    size_t count = 0;
    size_t pos = 0;
    while (pos < config_text.size()) {
        size_t end = config_text.find('\n', pos);
        if (end == std::string::npos)
            end = config_text.size();
        std::string_view line(config_text.data() + pos, end - pos);
        size_t first = line.find_first_not_of(" \t");
        std::string_view key = first == std::string_view::npos ? "" : line.substr(first);
        if (key.starts_with("pop2_"))
            key.remove_prefix(5); // pop2_listen: a listening socket too
        if (key.starts_with("listen")) {
            std::string_view rest = key.substr(6);
            size_t next = rest.find_first_not_of(" \t");
            if (next != std::string_view::npos && rest[next] == '=')
                ++count;
        }
        pos = end + 1;
    }
    return count;
}

} // namespace

std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
    std::optional<int> code;
    wait_until(
        [&] {
            int status = 0;
            pid_t got = ::waitpid(pid, &status, WNOHANG);
            if (got == pid)
                code = decode_status(status);
            if (got < 0 && errno != EINTR)
                code = -1;
            return code.has_value();
        },
        timeout);
    return code;
}

std::string process_title(pid_t pid) {
    auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    if (!cmdline)
        return {};
    return cmdline->substr(0, cmdline->find('\0'));
}

Daemon::Daemon(const MailHost& host) : log_path_(unique_file(host, "popperd", ".log")) {
    int log_fd = open_or_throw(log_path_, O_WRONLY | O_CREAT | O_APPEND);
    int null_fd = open_or_throw("/dev/null", O_RDONLY);
    try {
        pid_ = spawn_popperd({"-f", "-c", host.config_path()}, null_fd, log_fd, log_fd);
    } catch (...) {
        ::close(log_fd);
        ::close(null_fd);
        throw;
    }
    ::close(log_fd);
    ::close(null_fd);

    const size_t wanted = std::max<size_t>(1, count_listen_lines(host.config_text()));
    std::optional<int> exited;
    bool listening = wait_until([&] {
        if (log_lines_with("listening on ").size() >= wanted)
            return true;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_)
            exited = decode_status(status);
        return exited.has_value();
    });
    if (exited) {
        reaped_ = true;
        throw std::runtime_error("popperd exited with status " + std::to_string(*exited) +
                                 " before listening; its log:\n" + log_text());
    }
    if (!listening) {
        kill_group(pid_);
        reaped_ = true;
        throw std::runtime_error("popperd did not log \"listening on\" within " +
                                 std::to_string(kDefaultWait.count()) + " ms; its log:\n" +
                                 log_text());
    }
    for (const auto& line : log_lines_with("listening on ")) {
        std::string name = line.substr(line.find("listening on ") + 13);
        const bool pop2 = line.find(" pop2 ") != std::string::npos;
        name = name.substr(0, name.find(' '));
        if (pop2 && pop2_port_ == 0)
            pop2_port_ = static_cast<uint16_t>(std::stoul(name.substr(name.rfind(':') + 1)));
        listen_names_.push_back(name);
    }
    const std::string& first = listen_names_.front();
    port_ = static_cast<uint16_t>(std::stoul(first.substr(first.rfind(':') + 1)));
}

Daemon::~Daemon() {
    if (!reaped_)
        stop();
}

std::string Daemon::log_text() const {
    return read_file(log_path_).value_or("");
}

bool Daemon::wait_for_log(std::string_view needle, std::chrono::milliseconds timeout) const {
    return wait_until([&] { return log_text().find(needle) != std::string::npos; }, timeout);
}

std::vector<std::string> Daemon::log_lines_with(std::string_view needle) const {
    std::vector<std::string> lines;
    std::string text = log_text();
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            break; // a line still being written
        std::string_view line(text.data() + pos, end - pos);
        if (line.find(needle) != std::string_view::npos)
            lines.emplace_back(line);
        pos = end + 1;
    }
    return lines;
}

std::optional<pid_t> Daemon::session_pid(size_t nth) const {
    std::vector<std::string> lines;
    wait_until([&] {
        lines = log_lines_with(": connect: addr=");
        return lines.size() > nth;
    });
    if (lines.size() <= nth)
        return std::nullopt;
    // "popperd[PID]: info: connect: addr=127.0.0.1"
    const std::string& line = lines[nth];
    size_t open = line.find('[');
    size_t close = line.find(']');
    if (open == std::string::npos || close == std::string::npos || close < open)
        return std::nullopt;
    return static_cast<pid_t>(std::stol(line.substr(open + 1, close - open - 1)));
}

void Daemon::send_signal(int signo) const {
    if (!reaped_)
        ::kill(pid_, signo);
}

bool Daemon::running() {
    if (reaped_)
        return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return false;
    }
    return true;
}

int Daemon::stop() {
    if (reaped_)
        return -1;
    ::kill(pid_, SIGTERM);
    auto code = wait_for_exit(pid_);
    reaped_ = true;
    if (code)
        return *code;
    ADD_FAILURE() << "popperd did not exit within " << kDefaultWait.count()
                  << " ms of SIGTERM; killed. Its log:\n"
                  << log_text();
    kill_group(pid_);
    return 128 + SIGKILL;
}

InetdSession::InetdSession(const MailHost& host, const std::vector<std::string>& extra_args)
    : log_path_(unique_file(host, "inetd", ".log")) {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0)
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    struct sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener, reinterpret_cast<struct sockaddr*>(&addr), len) != 0 ||
        ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) {
        std::string why = std::strerror(errno);
        ::close(listener);
        throw std::runtime_error("listening on 127.0.0.1:0: " + why);
    }
    try {
        client_.emplace(ntohs(addr.sin_port));
    } catch (...) {
        ::close(listener);
        throw;
    }
    int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(listener);
    if (connection < 0)
        throw std::runtime_error(std::string("accept: ") + std::strerror(errno));
    int log_fd = -1;
    try {
        log_fd = open_or_throw(log_path_, O_WRONLY | O_CREAT | O_APPEND);
        std::vector<std::string> args = {"-i", "-c", host.config_path()};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        pid_ = spawn_popperd(args, connection, connection, log_fd);
    } catch (...) {
        ::close(connection);
        if (log_fd >= 0)
            ::close(log_fd);
        throw;
    }
    ::close(connection);
    ::close(log_fd);
}

InetdSession::~InetdSession() {
    if (reaped_)
        return;
    client_.reset(); // a dropped connection ends the session
    if (!wait_for_exit(pid_))
        kill_group(pid_);
}

std::string InetdSession::log_text() const {
    return read_file(log_path_).value_or("");
}

std::optional<int> InetdSession::wait_exit(std::chrono::milliseconds timeout) {
    if (reaped_)
        return std::nullopt;
    auto code = wait_for_exit(pid_, timeout);
    if (code)
        reaped_ = true;
    return code;
}

RunResult run_popperd(const MailHost& host, const std::vector<std::string>& args) {
    return run_program(host, POPPERD_BINARY, args);
}

RunResult run_program(const MailHost& host, const std::string& binary,
                      const std::vector<std::string>& args) {
    const std::string out_path = unique_file(host, "run", ".out");
    const std::string err_path = unique_file(host, "run", ".err");
    int out_fd = open_or_throw(out_path, O_WRONLY | O_CREAT | O_TRUNC);
    int err_fd = open_or_throw(err_path, O_WRONLY | O_CREAT | O_TRUNC);
    int null_fd = open_or_throw("/dev/null", O_RDONLY);
    pid_t pid = -1;
    try {
        pid = spawn_program(binary, args, null_fd, out_fd, err_fd);
    } catch (...) {
        ::close(out_fd);
        ::close(err_fd);
        ::close(null_fd);
        throw;
    }
    ::close(out_fd);
    ::close(err_fd);
    ::close(null_fd);
    RunResult result;
    auto code = wait_for_exit(pid);
    if (code) {
        result.exit_code = *code;
    } else {
        ADD_FAILURE() << binary << " did not exit within " << kDefaultWait.count() << " ms";
        kill_group(pid);
    }
    result.out = read_file(out_path).value_or("");
    result.err = read_file(err_path).value_or("");
    return result;
}

} // namespace popper::test
