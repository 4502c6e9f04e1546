// The names of the UIDL formats (uidl_format.h).
#include "popper/uidl_format.h"

namespace popper {

std::string_view uidl_format_name(UidlFormat format) {
    switch (format) {
    case UidlFormat::popperd:
        return "popperd";
    case UidlFormat::popa3d:
        return "popa3d";
    case UidlFormat::solid_pop3d:
        return "solid-pop3d";
    case UidlFormat::uw:
        return "uw";
    case UidlFormat::dovecot:
        return "dovecot";
    case UidlFormat::x_uidl:
        return "x-uidl";
    case UidlFormat::qpopper:
        return "qpopper";
    }
    return "popperd";
}

std::optional<UidlFormat> parse_uidl_format(std::string_view name) {
    for (UidlFormat format : kUidlFormats)
        if (uidl_format_name(format) == name)
            return format;
    return std::nullopt;
}

} // namespace popper
