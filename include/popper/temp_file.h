// A file written under a temporary name and then renamed over its target:
// removed on destruction unless it was committed. One owner for the users
// file editor and the index cache, which differ only in how the name is made.
#pragma once

#include "popper/io.h"
#include "popper/result.h"

#include <string>

namespace popper {

class TempFile {
public:
    // A fresh unique name beside `target` (".NAME.XXXXXX", mode 0600).
    static Result<TempFile> create_beside(const std::string& target);
    // `path` opened by the caller; the object now owns both.
    TempFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    TempFile(TempFile&& other) noexcept;
    TempFile& operator=(TempFile&&) = delete;
    ~TempFile();

    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }
    // Closes the file and renames it to `target`.
    Status commit_as(const std::string& target);

private:
    std::string path_;
    UniqueFd fd_;
    bool committed_ = false;
};

} // namespace popper
