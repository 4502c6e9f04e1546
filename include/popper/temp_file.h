// A file written under a temporary name and then renamed over its target:
// removed on destruction unless it was committed. One owner for the users
// file editor and the index cache, which differ only in how the name is made.
#pragma once

#include "popper/io.h"
#include "popper/result.h"

#include <functional>
#include <string>
#include <string_view>

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

// Replaces `target` with `text` so that a crash leaves the old file or the
// new, never a torn one: a TempFile beside it, `prepare` (mode, owner)
// applied before it is visible, the text written and fsynced, the rename,
// and an fsync of the directory. The users file editor and the LOGIN-DELAY
// and EXPIRE state (policy_state.h) use it.
Status replace_file_durably(const std::string& target, std::string_view text,
                            const std::function<Status(const TempFile&)>& prepare = nullptr);

} // namespace popper
