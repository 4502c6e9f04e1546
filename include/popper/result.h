// Errors as values: every fallible operation returns Result<T>, shaped like
// C++23's std::expected, carrying errno, the operation and the path.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace popper {

// What a failure means for whoever answers it (a client gets RFC 3206's
// code for it): worth trying again later, a lock someone else holds, or
// something an administrator must fix first.
enum class ErrorKind {
    temporary, // I/O, a full disk, most failed system calls
    in_use,    // another process holds a lock we need
    permanent, // a file we must not touch, or that is not what it should be
};

struct Error {
    ErrorKind kind = ErrorKind::temporary;
    int errnum = 0;     // errno value, 0 when the error is not a system error
    std::string op;     // what was being done: "open", "parse", "lock" ...
    std::string path;   // the file or peer concerned, may be empty
    std::string detail; // free text; when set it is shown instead of strerror

    // "open /var/mail/alice: Permission denied", "users file /etc/x:3: bad uid"
    std::string message() const;

    // A failed system call; its errno gives the kind (kind_of_errno).
    static Error from_errno(std::string op, std::string path, int errnum = errno);
    // Errors found by our own checks, each of the kind it names.
    static Error because(std::string op, std::string path, std::string detail);
    static Error in_use(std::string op, std::string path, std::string detail);
    static Error permanent(std::string op, std::string path, std::string detail);

    bool is(ErrorKind k) const { return kind == k; }
};

// EWOULDBLOCK/EAGAIN (a lock held elsewhere) is in_use; the errnos of a
// file that is not what it must be (ELOOP: a symlink under O_NOFOLLOW,
// EISDIR, ENODEV, EMLINK, EPERM, EILSEQ) are permanent; the rest temporary.
ErrorKind kind_of_errno(int errnum);

template <class T> class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}

    bool has_value() const { return !failed_; }
    explicit operator bool() const { return !failed_; }
    const Error& error() const { return error_; }

private:
    Error error_;
    bool failed_ = false;
};

using Status = Result<void>;

} // namespace popper
