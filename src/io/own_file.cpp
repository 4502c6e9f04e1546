// The check that a file found in a shared directory is really ours to trust.
#include "popper/io.h"

#include <cerrno>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace popper {

Status check_own_regular_file(const struct stat& st, const std::string& path) {
    if (S_ISLNK(st.st_mode))
        return Error::permanent("refuse", path, "is a symlink");
    if (S_ISDIR(st.st_mode))
        return Error::permanent("refuse", path, "is a directory");
    if (!S_ISREG(st.st_mode))
        return Error::permanent("refuse", path, "is not a regular file");
    if (st.st_uid != ::geteuid())
        return Error::permanent("refuse", path,
                                "owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
                                    std::to_string(::geteuid()));
    if (st.st_nlink != 1)
        return Error::permanent("refuse", path,
                                "has " + std::to_string(st.st_nlink) + " hard links");
    return {};
}

} // namespace popper
