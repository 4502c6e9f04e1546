// Reading a new password or secret (secret_prompt.h).
#include "secret_prompt.h"

#include "popper/apop.h"
#include "popper/io.h"
#include "popper/sasl.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace popper::passwd {
namespace {

// A password or secret is one typed line; longer input is refused, never cut.
constexpr size_t kMaxPasswordOctets = kMaxApopSecretOctets;

// The terminal whose echo is off, restored by the signal handler too, so an
// interrupted prompt never leaves the admin's terminal silent.
int g_tty_fd = -1;
struct termios g_tty_saved;

void restore_tty_and_reraise(int signo) {
    if (g_tty_fd >= 0)
        ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_tty_saved);
    ::signal(signo, SIG_DFL);
    ::raise(signo);
}

// One line from `fd`, byte by byte (nothing past the newline is consumed),
// without its "\n" or "\r\n". Errors on end of input before anything, on a
// line too long, and on read errors.
Result<std::string> read_line(int fd, const std::string& what) {
    std::string line;
    for (;;) {
        char c;
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("read", what);
        if (n == 0 || c == '\n')
            break;
        if (line.size() == kMaxPasswordOctets + 1) {
            wipe_secret(line);
            return Error::because("read", what,
                                  "longer than " + std::to_string(kMaxPasswordOctets) + " octets");
        }
        line += c;
    }
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

// Prompts on /dev/tty with echo off and reads one line. Echo goes off
// before the prompt shows, so nothing typed after it can appear.
Result<std::string> ask_tty(int fd, const std::string& prompt) {
    struct termios quiet = g_tty_saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL; // the newline still shows
    g_tty_fd = fd;
    if (::tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
        return Error::from_errno("tcsetattr", "/dev/tty");
    Result<std::string> line = std::string();
    if (auto shown = write_all(fd, prompt, "/dev/tty"); !shown)
        line = shown.error();
    else
        line = read_line(fd, "/dev/tty");
    ::tcsetattr(fd, TCSAFLUSH, &g_tty_saved);
    g_tty_fd = -1;
    return line;
}

Result<std::string> read_secret_from_tty(const std::string& what) {
    auto tty = open_file("/dev/tty", O_RDWR | O_NOCTTY);
    if (!tty)
        return Error::because("read " + what, "", "no terminal to ask on: use --stdin");
    if (::tcgetattr(tty->get(), &g_tty_saved) != 0)
        return Error::from_errno("tcgetattr", "/dev/tty");
    for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        ::signal(signo, restore_tty_and_reraise);
    // Stopped at the prompt, the shell would get a terminal without echo.
    ::signal(SIGTSTP, SIG_IGN);
    auto first = ask_tty(tty->get(), "New " + what + ": ");
    if (!first)
        return first;
    auto second = ask_tty(tty->get(), "Retype new " + what + ": ");
    if (!second)
        return second;
    const bool same = *first == *second;
    wipe_secret(*second);
    if (!same) {
        wipe_secret(*first);
        return Error::because("read " + what, "", "the two entries differ; nothing changed");
    }
    return first;
}

} // namespace

Result<std::string> read_secret(bool from_stdin, const std::string& what, const std::string& user) {
    auto secret = from_stdin ? read_line(STDIN_FILENO, "standard input")
                             : read_secret_from_tty(what + " for " + user);
    if (secret && secret->empty())
        return Error::because("read " + what, "", "empty; nothing changed");
    return secret;
}

} // namespace popper::passwd
