// The x-uidl and qpopper formats: the UIDL that GNU Mailutils, vm-pop3d and
// qpopper keep in an X-UIDL header of each message (rules in
// old_server_uidl.h).
#include "old_server_uidl.h"

#include "message_identity.h"
#include "popper/wire.h"

namespace popper {
namespace {

// qpopper's MIN_UIDL_LENGTH and MAX_UIDL_LENGTH (pop_dropcopy.c), which
// count the line ending: (DIG_SIZE * 2) + 1 with DIG_SIZE 16.
constexpr size_t kQpopperMinOctets = 12;
constexpr size_t kQpopperMaxOctets = 33;

class XUidlReader final : public OldServerReader {
public:
    explicit XUidlReader(bool qpopper_lengths) : qpopper_lengths_(qpopper_lengths) {}

    void message_start(size_t message, std::string_view) override {
        message_ = message;
        in_header_ = true;
        named_ = false;
    }

    void line(std::string_view line, bool whole) override {
        if (!in_header_)
            return;
        if (line == "\n" || line == "\r\n") {
            in_header_ = false;
            return;
        }
        // qpopper compares "X-UIDL:" ignoring case (pop_dropcopy.c) and takes
        // the first one it accepts; a continuation line is not part of it.
        if (named_ || !whole || !starts_with_ignoring_case(line, "x-uidl:"))
            return;
        std::string_view value = line.substr(7);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        if (qpopper_lengths_) {
            if (value.size() < kQpopperMinOctets || value.size() > kQpopperMaxOctets)
                return;                         // qpopper passes it over and looks further
            value = without_line_ending(value); // blanks stay: no valid UIDL then
        }
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r' ||
                                  value.back() == ' ' || value.back() == '\t'))
            value.remove_suffix(1);
        if (!is_valid_uidl(value))
            return;
        names_.add(message_, value);
        named_ = true;
    }

    OldServerNames finish() override { return std::move(names_); }

private:
    OldServerNames names_;
    size_t message_ = 0;
    bool in_header_ = false;
    bool named_ = false;
    const bool qpopper_lengths_;
};

} // namespace

std::unique_ptr<OldServerReader> make_x_uidl_reader(bool qpopper_lengths) {
    return std::make_unique<XUidlReader>(qpopper_lengths);
}

} // namespace popper
