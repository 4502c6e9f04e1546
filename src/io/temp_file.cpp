#include "popper/temp_file.h"

#include <cstdlib>
#include <fcntl.h>

namespace popper {

Result<TempFile> TempFile::create_beside(const std::string& target) {
    std::string name = dirname_of(target) + "/." + basename_of(target) + ".XXXXXX";
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("create temporary file", name);
    return TempFile(std::move(name), UniqueFd(fd));
}

TempFile::TempFile(TempFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::move(other.fd_)), committed_(other.committed_) {
    other.committed_ = true;
}

TempFile::~TempFile() {
    if (!committed_)
        (void)unlink_path(path_);
}

Status TempFile::commit_as(const std::string& target) {
    fd_.reset();
    if (auto renamed = rename_path(path_, target); !renamed)
        return renamed;
    committed_ = true;
    return {};
}

Status replace_file_durably(const std::string& target, std::string_view text,
                            const std::function<Status(const TempFile&)>& prepare) {
    auto temp = TempFile::create_beside(target);
    if (!temp)
        return temp.error();
    if (prepare) {
        if (auto prepared = prepare(*temp); !prepared)
            return prepared;
    }
    if (auto written = write_all(temp->fd(), text, temp->path()); !written)
        return written;
    if (auto synced = fsync_fd(temp->fd(), temp->path()); !synced)
        return synced;
    if (auto renamed = temp->commit_as(target); !renamed)
        return renamed;
    return fsync_dir(dirname_of(target));
}

} // namespace popper
