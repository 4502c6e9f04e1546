// forkrate: how fast this machine forks, the floor under a forking server's
// session rate.
//
//   forkrate [--seconds T] [--name ROW] [--server LABEL]
//
// Repeats fork(); the child _exit(0)s; the parent waitpid()s, for T seconds,
// from a small process (as popperd's listener is), and prints forks/s.
#include "tool.h"

#include <cerrno>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    try {
        bench::Flags flags(argc, argv, 1);
        double limit_s = flags.real("seconds", 2);
        long forks = 0;
        auto start = bench::Clock::now();
        while (forks % 64 != 0 || bench::seconds_since(start) < limit_s) {
            pid_t pid = ::fork();
            if (pid < 0)
                throw bench::Failure(std::string("fork: ") + std::strerror(errno));
            if (pid == 0)
                ::_exit(0);
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            ++forks;
        }
        double seconds = bench::seconds_since(start);
        bench::print_result(flags.text("name", "fork_exit_wait"), flags.text("server", "machine"),
                            static_cast<double>(forks) / seconds, "forks/s",
                            "forks=" + std::to_string(forks) + " us_per_fork=" +
                                std::to_string(seconds / static_cast<double>(forks) * 1e6));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "forkrate: %s\n", e.what());
        return 1;
    }
}
