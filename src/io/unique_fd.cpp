#include "popper/io.h"

#include <unistd.h>

namespace popper {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other)
        reset(other.release());
    return *this;
}

UniqueFd::~UniqueFd() {
    reset();
}

int UniqueFd::release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
}

void UniqueFd::reset(int fd) {
    // close(2) must not be retried on EINTR on Linux: the descriptor is gone.
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = fd;
}

} // namespace popper
