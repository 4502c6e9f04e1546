#include "popper/result.h"

#include <cstring>

namespace popper {

std::string Error::message() const {
    std::string text = op;
    if (!path.empty()) {
        if (!text.empty()) text += ' ';
        text += path;
    }
    // A detail, when given, says more than strerror and replaces it; errnum
    // then only classifies the error (EWOULDBLOCK = in use, ...).
    std::string cause = detail.empty() && errnum != 0 ? std::string(std::strerror(errnum)) : detail;
    if (text.empty()) return cause;
    if (cause.empty()) return text;
    return text + ": " + cause;
}

Error Error::from_errno(std::string op, std::string path, int errnum) {
    return Error{errnum, std::move(op), std::move(path), {}};
}

Error Error::because(std::string op, std::string path, std::string detail) {
    return Error{0, std::move(op), std::move(path), std::move(detail)};
}

Error Error::classified(int errnum, std::string op, std::string path, std::string detail) {
    return Error{errnum, std::move(op), std::move(path), std::move(detail)};
}

} // namespace popper
