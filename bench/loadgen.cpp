// loadgen: the POP3 load generator of the benchmark (bench/run drives it).
//
// Every mode speaks POP3 as an ordinary client does: one command, then its
// whole reply (status line; multi-line bodies read to the ".\r\n" line and
// dot-unstuffed), no TCP tricks. Each RETR body is counted and must equal the
// size LIST gave; any -ERR, short reply, bare LF or count mismatch ends the
// run with exit status 1 and no number. Results are `bench name=... server=...
// value=... unit=...` lines on stdout.
//
//   loadgen sessions --port P --user-prefix s --users K --pass PW --concurrency C
//                    (--sessions N | --seconds T) [--expect-count M]
//       connect, USER, PASS, STAT, QUIT (then wait for the server's close),
//       C connections at a time, connection slot i always as user s<i % K>
//       (so no mailbox is ever opened twice at once) -> sessions/s
//   loadgen retr     --port P --user U --pass PW [--expect-count M]
//       login, LIST, then RETR 1..M one at a time -> MB/s (10^6 octets/s)
//   loadgen login    --port P --user U --pass PW [--expect-count M] [--probe]
//       connect..STAT latency (ms), then QUIT latency (NAME.quit, ms)
//   loadgen quit     --port P --user U --pass PW --dele none|half|all
//                    [--deliver MBOX --spool PATH] [--probe]
//       login, DELE none, the first half, or all (pipelined, untimed),
//       optionally append MBOX to the spool as an MTA would (dotlock + fcntl),
//       then time the QUIT (ms)
//   loadgen hold     --port P --user-prefix u --users N --pass PW [--concurrency C]
//                    [--expect-count M] [--ready-file F]
//       logs in u0..u<N-1> (C logins in flight, default 100) and holds them
//       -> NAME.login_all (s), NAME.errors; creates F, then reads a line:
//       "quit" QUITs each (NAME.quit, s), "drain" waits while the harness
//       stops the server: each must get -ERR [SYS/TEMP] and a close
//       (NAME.drain, s; goodbyes=, resets=)
//   loadgen storm    --port P --user-prefix u --clients M [--within S] --pass PW
//                    [--greeting-only]
//       M clients connect evenly within S s (default 1), each as u<i>:
//       greeting, USER, PASS, STAT, QUIT -> NAME.greeting_p50/p99 and
//       NAME.pass_p50/p99 (ms from connect), NAME.errors, NAME.refused;
//       --greeting-only: greeting, QUIT (no password check in the way)
//   loadgen tcp      [--seconds T]
//       loopback TCP throughput with the RETR client's read size -> MB/s
//   loadgen freeport
//       prints a free loopback port
//
// Common: --host 127.0.0.1, --name ROW, --server LABEL. --probe reads
// VmHWM/VmRSS of the server process holding the connection's other end
// (found through /proc/net/tcp and /proc/PID/fd) after STAT (after the DELEs
// in quit mode) and prints NAME.vmhwm (KiB).
#include "tool.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using bench::Failure;

// What an ordinary client reads per recv(); loopback TCP is measured with it too.
constexpr size_t kReadBufferOctets = 64 * 1024;
// DELE commands per write in quit mode: the DELEs are not what is timed.
constexpr size_t kDelePipelineDepth = 128;
// A server that says nothing for this long is broken, not slow.
constexpr int kStallTimeoutS = 600;

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        reset(other.release());
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

sockaddr_in loopback_address(const bench::Flags& flags) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(flags.integer("port", 110)));
    if (::inet_pton(AF_INET, flags.text("host", "127.0.0.1").c_str(), &addr.sin_addr) != 1)
        throw Failure("--host must be a numeric IPv4 address");
    return addr;
}

Fd connect_to(const sockaddr_in& addr) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0)
        throw Failure(errno_text("socket"));
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        throw Failure(errno_text("connect"));
    timeval timeout{kStallTimeoutS, 0}; // a hung server fails the run instead of stalling it
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

void send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw Failure(errno_text("send"));
        data.remove_prefix(static_cast<size_t>(n));
    }
}

// A blocking POP3 client connection with one read buffer.
class Pop3Client {
public:
    explicit Pop3Client(Fd fd) : fd_(std::move(fd)), buf_(kReadBufferOctets) {}

    int fd() const { return fd_.get(); }

    // Sends `command` + CRLF and returns the status line (without CRLF),
    // which must be +OK.
    std::string command(const std::string& command) {
        send_all(fd_.get(), command + "\r\n");
        return expect_ok(command);
    }

    // Reads one status line; it must be +OK.
    std::string expect_ok(const std::string& after) {
        std::string_view line = next_line();
        line.remove_suffix(2);
        if (!line.starts_with("+OK"))
            throw Failure(after + ": " + std::string(line));
        return std::string(line);
    }

    // The rest of a multi-line reply (RFC 1939 §3): octets of the body after
    // dot-unstuffing, CRLFs included, i.e. what LIST counts.
    uint64_t body_octets() {
        uint64_t octets = 0;
        for (;;) {
            std::string_view line = next_line();
            if (line[0] == '.') {
                if (line.size() == 3)
                    return octets;
                octets += line.size() - 1;
            } else {
                octets += line.size();
            }
        }
    }

    // A small multi-line reply (LIST), unstuffed lines without CRLF.
    std::vector<std::string> body_lines() {
        std::vector<std::string> lines;
        for (;;) {
            std::string_view line = next_line();
            line.remove_suffix(2);
            if (line == ".")
                return lines;
            if (line.starts_with('.'))
                line.remove_prefix(1);
            lines.emplace_back(line);
        }
    }

    // After QUIT: the server closes; anything else is a protocol error.
    void expect_close() {
        if (rpos_ != wpos_ || fill())
            throw Failure("data after QUIT's reply");
    }

private:
    // The next line, CRLF included; valid until the next read.
    std::string_view next_line() {
        for (;;) {
            char* start = buf_.data() + rpos_;
            auto* lf = static_cast<char*>(std::memchr(start, '\n', wpos_ - rpos_));
            if (lf != nullptr) {
                size_t length = static_cast<size_t>(lf - start) + 1;
                if (length < 2 || lf[-1] != '\r')
                    throw Failure("line not ended by CRLF: " + std::string(start, length));
                rpos_ += length;
                return {start, length};
            }
            if (!fill())
                throw Failure("server closed the connection in mid-reply");
        }
    }

    bool fill() {
        if (rpos_ == wpos_) {
            rpos_ = wpos_ = 0;
        } else if (buf_.size() - wpos_ < buf_.size() / 2) {
            if (rpos_ == 0) {
                buf_.resize(buf_.size() * 2); // a line longer than half the buffer
            } else {
                std::memmove(buf_.data(), buf_.data() + rpos_, wpos_ - rpos_);
                wpos_ -= rpos_;
                rpos_ = 0;
            }
        }
        for (;;) {
            ssize_t n = ::recv(fd_.get(), buf_.data() + wpos_, buf_.size() - wpos_, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                throw Failure(errno_text("recv"));
            wpos_ += static_cast<size_t>(n);
            return n > 0;
        }
    }

    Fd fd_;
    std::vector<char> buf_;
    size_t rpos_ = 0, wpos_ = 0;
};

struct Stat {
    uint64_t count = 0, octets = 0;
};

Stat parse_stat(const std::string& line) {
    Stat stat;
    if (std::sscanf(line.c_str(), "+OK %lu %lu", &stat.count, &stat.octets) != 2)
        throw Failure("STAT: unparsable reply: " + line);
    return stat;
}

void check_count(const bench::Flags& flags, uint64_t count) {
    long long expected = flags.integer("expect-count", -1);
    if (expected >= 0 && count != static_cast<uint64_t>(expected))
        throw Failure("STAT: " + std::to_string(count) + " messages, expected " +
                      std::to_string(expected));
}

Pop3Client login(const sockaddr_in& addr, const std::string& user, const std::string& pass) {
    Pop3Client client(connect_to(addr));
    client.expect_ok("greeting");
    client.command("USER " + user);
    client.command("PASS " + pass);
    return client;
}

double ms_since(bench::Clock::time_point start) {
    return bench::seconds_since(start) * 1e3;
}

// ---- memory probe -----------------------------------------------------------

uint16_t port_of(int fd, bool peer) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                  : ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    if (rc != 0)
        throw Failure(errno_text("getsockname"));
    return ntohs(addr.sin_port);
}

// The inode of the server's end of our connection, from /proc/net/tcp.
unsigned long server_socket_inode(int fd) {
    unsigned ours = port_of(fd, false), theirs = port_of(fd, true);
    std::ifstream table("/proc/net/tcp");
    std::string line;
    std::getline(table, line); // header
    while (std::getline(table, line)) {
        unsigned local_addr, local_port, remote_addr, remote_port, state;
        unsigned long inode;
        if (std::sscanf(line.c_str(), " %*d: %x:%x %x:%x %x %*x:%*x %*x:%*x %*x %*u %*d %lu",
                        &local_addr, &local_port, &remote_addr, &remote_port, &state,
                        &inode) == 6 &&
            local_port == theirs && remote_port == ours)
            return inode;
    }
    throw Failure("probe: the server's socket is not in /proc/net/tcp");
}

long status_field_kb(const std::string& status, const std::string& field) {
    size_t at = status.find("\n" + field + ":");
    return at == std::string::npos
               ? -1
               : std::strtol(status.c_str() + at + field.size() + 2, nullptr, 10);
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// VmHWM of the process(es) holding the server end of `fd`: the largest wins.
void probe_server_memory(int fd, const std::string& name, const std::string& server) {
    std::string target = "socket:[" + std::to_string(server_socket_inode(fd)) + "]";
    std::string self = std::to_string(::getpid());
    long best_hwm = -1, best_rss = -1;
    std::string best_pid, best_comm, holders;
    DIR* proc = ::opendir("/proc");
    while (dirent* entry = proc ? ::readdir(proc) : nullptr) {
        std::string pid = entry->d_name;
        if (pid.find_first_not_of("0123456789") != std::string::npos || pid == self)
            continue;
        std::string fd_dir = "/proc/" + pid + "/fd";
        DIR* fds = ::opendir(fd_dir.c_str());
        if (fds == nullptr)
            continue;
        bool holds = false;
        while (dirent* f = ::readdir(fds)) {
            char link[64];
            ssize_t n = ::readlink((fd_dir + "/" + f->d_name).c_str(), link, sizeof link - 1);
            if (n > 0 && std::string_view(link, static_cast<size_t>(n)) == target) {
                holds = true;
                break;
            }
        }
        ::closedir(fds);
        if (!holds)
            continue;
        std::string status = "\n" + read_text("/proc/" + pid + "/status");
        long hwm = status_field_kb(status, "VmHWM"), rss = status_field_kb(status, "VmRSS");
        std::string comm = read_text("/proc/" + pid + "/comm");
        if (!comm.empty() && comm.back() == '\n')
            comm.pop_back();
        holders += (holders.empty() ? "" : ",") + pid;
        if (hwm > best_hwm) {
            best_hwm = hwm;
            best_rss = rss;
            best_pid = pid;
            best_comm = comm;
        }
    }
    if (proc != nullptr)
        ::closedir(proc);
    if (best_hwm < 0)
        throw Failure("probe: no process holds " + target + " (run as root?)");
    bench::print_result(name + ".vmhwm", server, static_cast<double>(best_hwm), "KiB",
                        "vmrss_kb=" + std::to_string(best_rss) + " pid=" + best_pid +
                            " comm=" + best_comm + " holders=" + holders);
}

// ---- modes --------------------------------------------------------------------

// One connection slot of the sessions mode: a non-blocking state machine.
struct Slot {
    enum Step { greeting, user, pass, stat, quit, closing };
    Fd fd;
    Step step = greeting;
    std::string in;
    bench::Clock::time_point started;
};

class SessionRun {
public:
    explicit SessionRun(const bench::Flags& flags)
        : addr_(loopback_address(flags)), prefix_(flags.text("user-prefix", "s")),
          users_(flags.integer("users", 1)), pass_(flags.required("pass")),
          expect_count_(flags.integer("expect-count", -1)),
          slots_(static_cast<size_t>(flags.integer("concurrency", 1))),
          limit_sessions_(flags.integer("sessions", 0)), limit_s_(flags.real("seconds", 0)) {
        if (limit_sessions_ <= 0 && limit_s_ <= 0)
            throw Failure("sessions: give --sessions N or --seconds T");
        if (users_ < static_cast<long long>(slots_.size()))
            throw Failure("sessions: need --users >= --concurrency (one mailbox per slot)");
    }

    void run(const std::string& name, const std::string& server) {
        epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
        start_ = bench::Clock::now();
        auto last_progress = start_;
        for (size_t i = 0; i < slots_.size(); ++i)
            start_session(i);
        std::vector<epoll_event> events(slots_.size() + 1);
        while (active_ > 0) {
            int n =
                ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), 1000);
            if (n < 0 && errno != EINTR)
                throw Failure(errno_text("epoll_wait"));
            for (int i = 0; i < n; ++i)
                advance(events[static_cast<size_t>(i)].data.u32);
            if (n > 0)
                last_progress = bench::Clock::now();
            else if (bench::seconds_since(last_progress) > kStallTimeoutS)
                throw Failure("sessions: no reply for " + std::to_string(kStallTimeoutS) + " s");
        }
        double elapsed = std::chrono::duration<double>(last_done_ - start_).count();
        std::sort(latencies_ms_.begin(), latencies_ms_.end());
        auto pct = [&](double p) {
            return latencies_ms_.empty() ? 0.0
                                         : latencies_ms_[static_cast<size_t>(
                                               p * static_cast<double>(latencies_ms_.size() - 1))];
        };
        std::ostringstream extra;
        extra << "sessions=" << done_ << " errors=" << errors_ << " seconds=" << elapsed
              << " concurrency=" << slots_.size() << " p50_ms=" << pct(0.5)
              << " p99_ms=" << pct(0.99);
        if (errors_ > 0)
            throw Failure("sessions: " + std::to_string(errors_) +
                          " failed, first: " + first_error_);
        bench::print_result(name, server, static_cast<double>(done_) / elapsed, "sessions/s",
                            extra.str());
    }

private:
    bool may_start() const {
        if (limit_sessions_ > 0)
            return started_ < limit_sessions_;
        return bench::seconds_since(start_) < limit_s_;
    }

    void start_session(size_t index) {
        Slot& slot = slots_[index];
        slot.fd.reset();
        if (!may_start())
            return;
        ++started_;
        slot.fd = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        slot.step = Slot::greeting;
        slot.in.clear();
        slot.started = bench::Clock::now();
        if (::connect(slot.fd.get(), reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) !=
                0 &&
            errno != EINPROGRESS) {
            // Not restarted: a server that is gone would otherwise recurse here.
            record_error(index, errno_text("connect"));
            slot.fd.reset();
            return;
        }
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u32 = static_cast<uint32_t>(index);
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, slot.fd.get(), &event) != 0)
            throw Failure(errno_text("epoll_ctl"));
        ++active_;
    }

    // Closes the slot's connection (done or failed) and starts the next session.
    void finish(size_t index) {
        slots_[index].fd.reset();
        --active_;
        last_done_ = bench::Clock::now();
        start_session(index);
    }

    void record_error(size_t index, const std::string& why) {
        if (errors_++ == 0)
            first_error_ = "user " + user_of(index) + ": " + why;
    }

    void fail(size_t index, const std::string& why) {
        record_error(index, why);
        finish(index);
    }

    std::string user_of(size_t index) const {
        return prefix_ + std::to_string(static_cast<long long>(index) % users_);
    }

    void advance(uint32_t index) {
        Slot& slot = slots_[index];
        char chunk[512];
        ssize_t n = ::recv(slot.fd.get(), chunk, sizeof chunk, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            if (n == 0 && slot.step == Slot::closing) {
                latencies_ms_.push_back(ms_since(slot.started));
                ++done_;
                return finish(index);
            }
            return fail(index, n == 0 ? "connection closed" : errno_text("recv"));
        }
        slot.in.append(chunk, static_cast<size_t>(n));
        size_t lf;
        while ((lf = slot.in.find('\n')) != std::string::npos) {
            std::string line = slot.in.substr(0, lf + 1);
            slot.in.erase(0, lf + 1);
            if (!line.ends_with("\r\n") || !line.starts_with("+OK") || slot.step == Slot::closing)
                return fail(index, "step " + std::to_string(slot.step) + ": " + line);
            if (!reply_ok(index, line))
                return;
        }
    }

    // Sends the next command after an +OK; false when the slot failed.
    bool reply_ok(size_t index, const std::string& line) {
        Slot& slot = slots_[index];
        std::string next;
        switch (slot.step) {
        case Slot::greeting:
            next = "USER " + user_of(index);
            break;
        case Slot::user:
            next = "PASS " + pass_;
            break;
        case Slot::pass:
            next = "STAT";
            break;
        case Slot::stat:
            if (expect_count_ >= 0 &&
                parse_stat(line).count != static_cast<uint64_t>(expect_count_)) {
                fail(index, "STAT: " + line);
                return false;
            }
            next = "QUIT";
            break;
        case Slot::quit:
            slot.step = Slot::closing;
            return true;
        case Slot::closing:
            return false;
        }
        slot.step = static_cast<Slot::Step>(slot.step + 1);
        next += "\r\n";
        if (::send(slot.fd.get(), next.data(), next.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(next.size())) {
            fail(index, errno_text("send"));
            return false;
        }
        return true;
    }

    sockaddr_in addr_;
    std::string prefix_;
    long long users_;
    std::string pass_;
    long long expect_count_;
    std::vector<Slot> slots_;
    long long limit_sessions_;
    double limit_s_;
    Fd epoll_;
    bench::Clock::time_point start_, last_done_;
    long long started_ = 0, done_ = 0, errors_ = 0;
    size_t active_ = 0;
    std::string first_error_;
    std::vector<double> latencies_ms_;
};

void run_retr(const bench::Flags& flags, const std::string& name, const std::string& server) {
    Pop3Client client =
        login(loopback_address(flags), flags.required("user"), flags.required("pass"));
    Stat stat = parse_stat(client.command("STAT"));
    check_count(flags, stat.count);
    client.command("LIST");
    std::vector<uint64_t> sizes;
    uint64_t listed = 0;
    for (const std::string& line : client.body_lines()) {
        unsigned long number, octets;
        if (std::sscanf(line.c_str(), "%lu %lu", &number, &octets) != 2 ||
            number != sizes.size() + 1)
            throw Failure("LIST: unexpected line: " + line);
        sizes.push_back(octets);
        listed += octets;
    }
    if (sizes.size() != stat.count || listed != stat.octets)
        throw Failure("LIST disagrees with STAT");
    auto start = bench::Clock::now();
    for (size_t i = 0; i < sizes.size(); ++i) {
        std::string retr = "RETR " + std::to_string(i + 1);
        client.command(retr);
        uint64_t octets = client.body_octets();
        if (octets != sizes[i])
            throw Failure(retr + ": " + std::to_string(octets) + " octets, LIST said " +
                          std::to_string(sizes[i]));
    }
    double seconds = bench::seconds_since(start);
    client.command("QUIT");
    client.expect_close();
    bench::print_result(name, server, static_cast<double>(listed) / seconds / 1e6, "MB/s",
                        "octets=" + std::to_string(listed) + " messages=" +
                            std::to_string(sizes.size()) + " seconds=" + std::to_string(seconds));
}

void run_login(const bench::Flags& flags, const std::string& name, const std::string& server) {
    auto start = bench::Clock::now();
    Pop3Client client =
        login(loopback_address(flags), flags.required("user"), flags.required("pass"));
    Stat stat = parse_stat(client.command("STAT"));
    double login_ms = ms_since(start);
    check_count(flags, stat.count);
    if (flags.has("probe"))
        probe_server_memory(client.fd(), name, server);
    auto quit_start = bench::Clock::now();
    client.command("QUIT");
    double quit_ms = ms_since(quit_start);
    client.expect_close();
    std::string extra =
        "messages=" + std::to_string(stat.count) + " octets=" + std::to_string(stat.octets);
    bench::print_result(name, server, login_ms, "ms", extra);
    bench::print_result(name + ".quit", server, quit_ms, "ms", extra);
}

// Appends `mbox` to `spool` the way procmail and Postfix local do: dotlock
// (O_EXCL) then an fcntl write lock; a file it creates gets the spool
// directory's owner.
void deliver(const std::string& mbox, const std::string& spool) {
    std::string data = read_text(mbox);
    if (data.empty())
        throw Failure("deliver: empty or unreadable " + mbox);
    std::string lock = spool + ".lock";
    auto start = bench::Clock::now();
    for (;;) {
        Fd fd(::open(lock.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (fd.get() >= 0) {
            std::string pid = std::to_string(::getpid()) + "\n";
            (void)!::write(fd.get(), pid.data(), pid.size());
            break;
        }
        if (errno != EEXIST)
            throw Failure(errno_text("deliver: create " + lock));
        if (bench::seconds_since(start) > 30)
            throw Failure("deliver: " + lock + " held for 30 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    Fd fd(::open(spool.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (fd.get() < 0)
        throw Failure(errno_text("deliver: open " + spool));
    struct flock range {};
    range.l_type = F_WRLCK;
    range.l_whence = SEEK_SET;
    if (::fcntl(fd.get(), F_SETLKW, &range) != 0)
        throw Failure(errno_text("deliver: lock " + spool));
    struct stat file {
    }, dir{};
    std::string dir_path = spool.substr(0, spool.rfind('/'));
    if (::fstat(fd.get(), &file) == 0 && ::stat(dir_path.c_str(), &dir) == 0 && ::geteuid() == 0 &&
        (file.st_uid != dir.st_uid || file.st_gid != dir.st_gid) &&
        ::fchown(fd.get(), dir.st_uid, dir.st_gid) != 0)
        throw Failure(errno_text("deliver: chown " + spool));
    for (std::string_view rest = data; !rest.empty();) {
        ssize_t n = ::write(fd.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            throw Failure(errno_text("deliver: write " + spool));
        rest.remove_prefix(static_cast<size_t>(n));
    }
    if (::fsync(fd.get()) != 0)
        throw Failure(errno_text("deliver: fsync " + spool));
    fd.reset(); // releases the fcntl lock
    ::unlink(lock.c_str());
}

void run_quit(const bench::Flags& flags, const std::string& name, const std::string& server) {
    auto start = bench::Clock::now();
    Pop3Client client =
        login(loopback_address(flags), flags.required("user"), flags.required("pass"));
    Stat stat = parse_stat(client.command("STAT"));
    double login_ms = ms_since(start);
    check_count(flags, stat.count);
    std::string mode = flags.text("dele", "none");
    uint64_t last = mode == "all" ? stat.count : mode == "half" ? stat.count / 2 : 0;
    if (mode != "all" && mode != "half" && mode != "none")
        throw Failure("quit: --dele none|half|all");
    for (uint64_t first = 1; first <= last; first += kDelePipelineDepth) {
        uint64_t end = std::min<uint64_t>(last + 1, first + kDelePipelineDepth);
        std::string batch;
        for (uint64_t i = first; i < end; ++i)
            batch += "DELE " + std::to_string(i) + "\r\n";
        send_all(client.fd(), batch);
        for (uint64_t i = first; i < end; ++i)
            client.expect_ok("DELE " + std::to_string(i));
    }
    if (flags.has("deliver"))
        deliver(flags.required("deliver"), flags.required("spool"));
    if (flags.has("probe"))
        probe_server_memory(client.fd(), name, server);
    auto quit_start = bench::Clock::now();
    client.command("QUIT");
    double quit_ms = ms_since(quit_start);
    client.expect_close();
    std::string extra =
        "messages=" + std::to_string(stat.count) + " deleted=" + std::to_string(last);
    bench::print_result(name + ".login", server, login_ms, "ms", extra);
    bench::print_result(name, server, quit_ms, "ms", extra);
}

// ---- many connections at once: hold and storm -----------------------------------

// Raises our descriptor limit for `connections` sockets (as root, the hard
// limit too): the scale rows hold 10,000 connections from one process.
void raise_file_limit(size_t connections) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    rlim_t need = static_cast<rlim_t>(connections) + 64;
    if (limit.rlim_cur >= need)
        return;
    if (limit.rlim_max < need)
        limit.rlim_max = need; // allowed to root only; checked below
    limit.rlim_cur = need;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
        throw Failure(errno_text("setrlimit RLIMIT_NOFILE " + std::to_string(need)));
}

double percentile(std::vector<double> values, double p) {
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

// One client of a fleet: non-blocking, driven by epoll, one step at a time.
struct FleetClient {
    enum Step { greeting, user, pass, stat, held, quit, goodbye, closed, failed };
    Fd fd;
    Step step = greeting;
    std::string in;
    bench::Clock::time_point started;
    double greeting_ms = -1, pass_ms = -1;
    bool refused = false; // greeted with -ERR [SYS/TEMP]
    std::string goodbye_line;
};

// A set of clients that log in as USER-PREFIX<i>, and either stay (hold) or
// QUIT at once (storm). Every failure is counted, never fatal: the counts are
// what the scale rows report.
class Fleet {
public:
    Fleet(const bench::Flags& flags, size_t clients)
        : addr_(loopback_address(flags)), prefix_(flags.text("user-prefix", "u")),
          pass_(flags.required("pass")), expect_count_(flags.integer("expect-count", -1)),
          clients_(clients) {
        raise_file_limit(clients + 16);
        epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
    }

    // Connects client i; false (and counted) when connect fails at once.
    bool start(size_t i) {
        FleetClient& c = clients_[i];
        c.started = bench::Clock::now();
        c.fd = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (c.fd.get() < 0 ||
            (::connect(c.fd.get(), reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) != 0 &&
             errno != EINPROGRESS)) {
            fail(i, errno_text("connect"));
            return false;
        }
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.u64 = i;
        if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.fd.get(), &event) != 0)
            throw Failure(errno_text("epoll_ctl"));
        ++in_flight_;
        return true;
    }

    // Waits up to timeout_ms for replies and advances the clients they are for.
    void poll_once(int timeout_ms) {
        epoll_event events[256];
        int n = ::epoll_wait(epoll_.get(), events, 256, timeout_ms);
        if (n < 0 && errno != EINTR)
            throw Failure(errno_text("epoll_wait"));
        for (int k = 0; k < n; ++k)
            advance(events[k].data.u64);
        if (n > 0)
            last_progress_ = bench::Clock::now();
        else if (bench::seconds_since(last_progress_) > kStallTimeoutS)
            throw Failure("no reply for " + std::to_string(kStallTimeoutS) + " s");
    }

    // Sends `command` to every held client: QUIT (expect +OK, close), or
    // nothing ("" : the server is being stopped; expect a goodbye, close).
    void release_all(const std::string& command) {
        for (size_t i = 0; i < clients_.size(); ++i) {
            FleetClient& c = clients_[i];
            if (c.step != FleetClient::held)
                continue;
            c.step = command.empty() ? FleetClient::goodbye : FleetClient::quit;
            ++in_flight_;
            if (!command.empty())
                send_line(i, command);
        }
    }

    size_t in_flight() const { return in_flight_; }
    size_t held() const { return held_; }
    const std::vector<FleetClient>& clients() const { return clients_; }
    long long errors() const { return errors_; }
    long long resets() const { return resets_; }
    const std::string& first_error() const { return first_error_; }
    // In storm mode each client QUITs after PASS instead of staying.
    bool quit_after_pass = false;
    // In storm mode with --greeting-only: QUIT right after the greeting, so
    // that no password check competes with the greetings for the CPU.
    bool greeting_only = false;

private:
    void send_line(size_t i, const std::string& line) {
        std::string data = line + "\r\n";
        if (::send(clients_[i].fd.get(), data.data(), data.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(data.size()))
            fail(i, errno_text("send " + line));
    }

    void done(size_t i, FleetClient::Step step) {
        clients_[i].step = step;
        clients_[i].fd.reset();
        --in_flight_;
    }

    void fail(size_t i, const std::string& why) {
        if (errors_++ == 0)
            first_error_ = prefix_ + std::to_string(i) + ": " + why;
        // A held client is no longer counted in flight (a server that ends
        // an idle session, say); any other open one still is.
        bool was_active = clients_[i].fd.get() >= 0 && clients_[i].step != FleetClient::held;
        clients_[i].step = FleetClient::failed;
        clients_[i].fd.reset();
        if (was_active)
            --in_flight_;
    }

    void advance(size_t i) {
        FleetClient& c = clients_[i];
        if (c.fd.get() < 0)
            return;
        char chunk[512];
        ssize_t n = ::recv(c.fd.get(), chunk, sizeof chunk, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0) {
            if (errno == ECONNRESET)
                ++resets_;
            return fail(i, errno_text("recv"));
        }
        if (n == 0) {
            bool clean = c.step == FleetClient::closed || (c.refused && c.in.empty()) ||
                         (c.step == FleetClient::goodbye && !c.goodbye_line.empty());
            if (!clean)
                return fail(i, "closed at step " + std::to_string(c.step));
            return done(i, c.refused ? FleetClient::failed : FleetClient::closed);
        }
        c.in.append(chunk, static_cast<size_t>(n));
        size_t lf;
        while (c.fd.get() >= 0 && (lf = c.in.find('\n')) != std::string::npos) {
            std::string line = c.in.substr(0, lf + 1);
            c.in.erase(0, lf + 1);
            if (!line.ends_with("\r\n"))
                return fail(i, "bare LF: " + line);
            line.resize(line.size() - 2);
            reply(i, line);
        }
    }

    void reply(size_t i, const std::string& line) {
        FleetClient& c = clients_[i];
        if (c.step == FleetClient::goodbye) { // the server's SIGTERM
            c.goodbye_line = line;
            c.step = FleetClient::closed;
            return;
        }
        if (c.step == FleetClient::greeting && line.starts_with("-ERR [SYS/TEMP]")) {
            c.refused = true;
            c.greeting_ms = ms_since(c.started);
            return;
        }
        if (!line.starts_with("+OK") || c.step >= FleetClient::closed)
            return fail(i, "step " + std::to_string(c.step) + ": " + line);
        switch (c.step) {
        case FleetClient::greeting:
            c.greeting_ms = ms_since(c.started);
            if (greeting_only) {
                c.step = FleetClient::quit;
                return send_line(i, "QUIT");
            }
            c.step = FleetClient::user;
            return send_line(i, "USER " + prefix_ + std::to_string(i));
        case FleetClient::user:
            c.step = FleetClient::pass;
            return send_line(i, "PASS " + pass_);
        case FleetClient::pass:
            c.pass_ms = ms_since(c.started);
            c.step = FleetClient::stat;
            return send_line(i, "STAT");
        case FleetClient::stat:
            if (expect_count_ >= 0 &&
                parse_stat(line).count != static_cast<uint64_t>(expect_count_))
                return fail(i, "STAT: " + line);
            if (quit_after_pass) {
                c.step = FleetClient::quit;
                return send_line(i, "QUIT");
            }
            c.step = FleetClient::held;
            ++held_;
            --in_flight_;
            return;
        case FleetClient::quit:
            c.step = FleetClient::closed;
            return;
        default:
            return fail(i, "unexpected: " + line);
        }
    }

    sockaddr_in addr_;
    std::string prefix_, pass_;
    long long expect_count_;
    std::vector<FleetClient> clients_;
    Fd epoll_;
    size_t in_flight_ = 0, held_ = 0;
    long long errors_ = 0, resets_ = 0;
    std::string first_error_;
    bench::Clock::time_point last_progress_ = bench::Clock::now();
};

// hold: logs N users in (at most --concurrency logins in flight), reports the
// time, then holds them until a line on stdin says what to do: "quit" (QUIT
// each, timed) or "drain" (the harness stops the server: each must get a
// goodbye line and a close, timed, resets counted).
void run_hold(const bench::Flags& flags, const std::string& name, const std::string& server) {
    size_t n = static_cast<size_t>(flags.integer("users", 1));
    size_t concurrency = static_cast<size_t>(flags.integer("concurrency", 100));
    Fleet fleet(flags, n);
    auto start = bench::Clock::now();
    size_t next = 0;
    while (next < n || fleet.in_flight() > 0) {
        while (next < n && fleet.in_flight() < concurrency)
            fleet.start(next++);
        fleet.poll_once(100);
    }
    double seconds = bench::seconds_since(start);
    std::string counts = "held=" + std::to_string(fleet.held()) +
                         " errors=" + std::to_string(fleet.errors()) +
                         " resets=" + std::to_string(fleet.resets());
    if (fleet.errors() > 0)
        std::fprintf(stderr, "loadgen hold: %lld failed, first: %s\n", fleet.errors(),
                     fleet.first_error().c_str());
    bench::print_result(name + ".login_all", server, seconds, "s", counts);
    bench::print_result(name + ".errors", server, static_cast<double>(fleet.errors()), "count",
                        counts);
    if (flags.has("ready-file"))
        std::fclose(std::fopen(flags.required("ready-file").c_str(), "w"));
    char command[64] = {};
    if (std::fgets(command, sizeof command, stdin) == nullptr)
        return;
    std::string what = std::string(command).substr(0, std::strcspn(command, "\r\n"));
    start = bench::Clock::now();
    fleet.release_all(what == "quit" ? "QUIT" : "");
    while (fleet.in_flight() > 0)
        fleet.poll_once(100);
    seconds = bench::seconds_since(start);
    long long goodbyes = 0;
    for (const FleetClient& c : fleet.clients())
        goodbyes += c.step == FleetClient::closed && !c.goodbye_line.empty() &&
                    c.goodbye_line.starts_with("-ERR [SYS/TEMP]");
    bench::print_result(name + "." + what, server, seconds, "s",
                        "errors=" + std::to_string(fleet.errors()) +
                            " resets=" + std::to_string(fleet.resets()) +
                            " goodbyes=" + std::to_string(goodbyes));
}

// storm: --clients M connect within --within S seconds (evenly spaced), each
// logs in, STAT, QUIT; p50/p99 of connect->greeting and connect->+OK after
// PASS; refusals (-ERR [SYS/TEMP] greeting) and errors (resets included).
void run_storm(const bench::Flags& flags, const std::string& name, const std::string& server) {
    size_t n = static_cast<size_t>(flags.integer("clients", 2000));
    double within_s = flags.real("within", 1.0);
    Fleet fleet(flags, n);
    fleet.quit_after_pass = true;
    fleet.greeting_only = flags.has("greeting-only");
    auto start = bench::Clock::now();
    size_t next = 0;
    while (next < n || fleet.in_flight() > 0) {
        double now_s = bench::seconds_since(start);
        while (next < n && static_cast<double>(next) * within_s / static_cast<double>(n) <= now_s)
            fleet.start(next++);
        fleet.poll_once(next < n ? 1 : 100);
    }
    std::vector<double> greeting, pass;
    long long refused = 0;
    for (const FleetClient& c : fleet.clients()) {
        if (c.greeting_ms >= 0)
            greeting.push_back(c.greeting_ms);
        if (c.pass_ms >= 0)
            pass.push_back(c.pass_ms);
        refused += c.refused;
    }
    if (fleet.errors() > 0)
        std::fprintf(stderr, "loadgen storm: %lld failed, first: %s\n", fleet.errors(),
                     fleet.first_error().c_str());
    std::string counts =
        "clients=" + std::to_string(n) + " errors=" + std::to_string(fleet.errors()) +
        " resets=" + std::to_string(fleet.resets()) + " refused=" + std::to_string(refused) +
        " seconds=" + std::to_string(bench::seconds_since(start));
    bench::print_result(name + ".greeting_p50", server, percentile(greeting, 0.5), "ms", counts);
    bench::print_result(name + ".greeting_p99", server, percentile(greeting, 0.99), "ms", counts);
    bench::print_result(name + ".pass_p50", server, percentile(pass, 0.5), "ms", counts);
    bench::print_result(name + ".pass_p99", server, percentile(pass, 0.99), "ms", counts);
    bench::print_result(name + ".errors", server, static_cast<double>(fleet.errors()), "count",
                        counts);
    bench::print_result(name + ".refused", server, static_cast<double>(refused), "count", counts);
}

Fd listen_loopback() {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd.get(), 8) != 0)
        throw Failure(errno_text("listen"));
    return fd;
}

void run_tcp(const bench::Flags& flags, const std::string& name, const std::string& server) {
    Fd listener = listen_loopback();
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_of(listener.get(), false));
    pid_t sender = ::fork();
    if (sender < 0)
        throw Failure(errno_text("fork"));
    if (sender == 0) { // the sender: large writes until the reader hangs up
        int fd = ::accept(listener.get(), nullptr, nullptr);
        std::string block(256 * 1024, 'x');
        while (::send(fd, block.data(), block.size(), MSG_NOSIGNAL) > 0) {
        }
        ::_exit(0);
    }
    listener.reset();
    Fd fd = connect_to(addr);
    std::vector<char> buf(kReadBufferOctets);
    double limit_s = flags.real("seconds", 2);
    uint64_t octets = 0;
    auto start = bench::Clock::now();
    for (unsigned reads = 1;; ++reads) {
        ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
        if (n <= 0)
            throw Failure(errno_text("tcp: recv"));
        octets += static_cast<uint64_t>(n);
        if (reads % 64 == 0 && bench::seconds_since(start) >= limit_s)
            break;
    }
    double seconds = bench::seconds_since(start);
    fd.reset();
    ::waitpid(sender, nullptr, 0);
    bench::print_result(name, server, static_cast<double>(octets) / seconds / 1e6, "MB/s",
                        "octets=" + std::to_string(octets) +
                            " read_octets=" + std::to_string(kReadBufferOctets));
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: loadgen sessions|retr|login|quit|hold|storm|tcp|freeport [--flags]\n"
                     "(see the comment at the top of bench/loadgen.cpp)\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    std::string mode = argv[1];
    try {
        bench::Flags flags(argc, argv, 2);
        std::string name = flags.text("name", mode), server = flags.text("server", "server");
        if (mode == "sessions")
            SessionRun(flags).run(name, server);
        else if (mode == "retr")
            run_retr(flags, name, server);
        else if (mode == "login")
            run_login(flags, name, server);
        else if (mode == "quit")
            run_quit(flags, name, server);
        else if (mode == "hold")
            run_hold(flags, name, server);
        else if (mode == "storm")
            run_storm(flags, name, server);
        else if (mode == "tcp")
            run_tcp(flags, name, server);
        else if (mode == "freeport")
            std::printf("%u\n", port_of(listen_loopback().get(), false));
        else
            throw Failure("unknown mode " + mode);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "loadgen %s: %s\n", mode.c_str(), e.what());
        return 1;
    }
}
