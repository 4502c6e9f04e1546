#include "popper/listener.h"

#include <fcntl.h>
#include <unistd.h>

namespace popper {

Status daemonize() {
    pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork", "");
    if (pid > 0)
        ::_exit(0);
    if (::setsid() < 0)
        return Error::from_errno("setsid", "");
    pid = ::fork(); // never reacquire a controlling terminal
    if (pid < 0)
        return Error::from_errno("fork", "");
    if (pid > 0)
        ::_exit(0);
    if (::chdir("/") != 0)
        return Error::from_errno("chdir", "/");
    auto null = open_file("/dev/null", O_RDWR);
    if (!null)
        return null.error();
    ::dup2(null->get(), STDIN_FILENO);
    ::dup2(null->get(), STDOUT_FILENO);
    return {};
}

Result<Pidfile> Pidfile::create(const std::string& path) {
    Pidfile pidfile;
    if (path.empty())
        return pidfile;
    std::string tmp = path + ".tmp";
    auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
    if (!fd)
        return fd.error();
    if (auto w = write_all(fd->get(), std::to_string(::getpid()) + "\n", tmp); !w)
        return w.error();
    if (auto r = rename_path(tmp, path); !r)
        return r.error();
    pidfile.path_ = path;
    return pidfile;
}

Pidfile::Pidfile(Pidfile&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
}

Pidfile::~Pidfile() {
    if (!path_.empty())
        ::unlink(path_.c_str());
}

} // namespace popper
