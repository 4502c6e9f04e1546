#include "popper/result.h"

#include <cstring>

namespace popper {

std::string Error::message() const {
    std::string text = op;
    if (!path.empty()) {
        if (!text.empty())
            text += ' ';
        text += path;
    }
    // A detail, when given, says more than strerror and replaces it.
    std::string cause = detail.empty() && errnum != 0 ? std::string(std::strerror(errnum)) : detail;
    if (text.empty())
        return cause;
    if (cause.empty())
        return text;
    return text + ": " + cause;
}

ErrorKind kind_of_errno(int errnum) {
    switch (errnum) {
    case EWOULDBLOCK:
        return ErrorKind::in_use;
    case ELOOP:
    case EISDIR:
    case ENODEV:
    case EMLINK:
    case EPERM:
    case EILSEQ:
        return ErrorKind::permanent;
    default:
        return ErrorKind::temporary;
    }
}

Error Error::from_errno(std::string op, std::string path, int errnum) {
    return Error{kind_of_errno(errnum), errnum, std::move(op), std::move(path), {}};
}

Error Error::because(std::string op, std::string path, std::string detail) {
    return Error{ErrorKind::temporary, 0, std::move(op), std::move(path), std::move(detail)};
}

Error Error::in_use(std::string op, std::string path, std::string detail) {
    return Error{ErrorKind::in_use, 0, std::move(op), std::move(path), std::move(detail)};
}

Error Error::permanent(std::string op, std::string path, std::string detail) {
    return Error{ErrorKind::permanent, 0, std::move(op), std::move(path), std::move(detail)};
}

} // namespace popper
