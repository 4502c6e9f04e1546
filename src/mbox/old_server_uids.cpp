// The UIDLs of UW ipop3d and of Dovecot on mbox: IMAP UIDs that the server
// wrote into the mailbox, the UID validity in the first message's
// X-IMAPbase header (or UW's X-IMAP in its pseudo-message) and each
// message's own in X-UID. The rules, and where in each server's source they
// are, are in old_server_uidl.h. Both servers renumber a mailbox whose UIDs
// they cannot trust, with a new validity taken from the clock: no message
// of such a mailbox can be named.
#include "old_server_uidl.h"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <vector>

namespace popper {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Dovecot's IS_LWSP_LF.
bool is_lwsp_lf(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Leading decimal digits, accumulated modulo 2^64 as an unsigned long in
// UW (a 64-bit build); `text` is left after them.
uint64_t take_digits(std::string_view& text) {
    uint64_t value = 0;
    while (!text.empty() && is_digit(text.front())) {
        value = value * 10 + static_cast<uint64_t>(text.front() - '0');
        text.remove_prefix(1);
    }
    return value;
}

void skip_spaces(std::string_view& text) {
    while (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
}

std::string_view without_eol(std::string_view line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.remove_suffix(1);
    return line;
}

// What one header section says, in order: the X-IMAPbase (or X-IMAP) it
// carries and its X-UID values, each as parsed by the server's own rules.
struct HeaderFacts {
    std::optional<UidBase> base; // a valid X-IMAPbase or X-IMAP
    bool pseudo = false;         // X-IMAP: the pseudo-message
    size_t uids_before_base = 0; // X-UID headers that came before it
    // Each X-UID; nullopt for one whose value the server finds broken.
    std::vector<std::optional<uint64_t>> uids;
};

// A header field being gathered: the servers read these fields' values
// (Dovecot with their continuation lines).
enum class Field { none, imapbase, imap, uid };

class XImapReader final : public OldServerReader {
public:
    XImapReader(UidlFormat format, UidBase remembered)
        : uw_(format == UidlFormat::uw), remembered_(remembered) {}

    void message_start(size_t message, std::string_view) override {
        end_header();
        message_ = message;
        in_header_ = true;
        facts_ = {};
    }

    void line(std::string_view line, bool whole) override {
        if (!in_header_)
            return;
        if (line == "\n" || line == "\r\n") {
            end_header();
            return;
        }
        if (line.starts_with(' ') || line.starts_with('\t')) {
            if (field_ != Field::none)
                value_ += "\n" + std::string(without_eol(line));
            return;
        }
        end_field();
        field_ = whole ? field_of(line) : Field::none;
        if (field_ != Field::none)
            value_ = std::string(value_of(line));
    }

    OldServerNames finish() override {
        end_header();
        if (broken_)
            return {};
        return std::move(names_);
    }

    UidBase uid_base() const override { return found_base_; }

private:
    Field field_of(std::string_view line) const {
        if (uw_) {
            // unix_parse compares these names octet by octet.
            if (line.starts_with("X-IMAPbase:"))
                return Field::imapbase;
            if (line.starts_with("X-IMAP:"))
                return Field::imap;
            if (line.starts_with("X-UID:"))
                return Field::uid;
            return Field::none;
        }
        // Dovecot: any case, blanks allowed before the colon.
        size_t colon = line.find(':');
        if (colon == std::string_view::npos)
            return Field::none;
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t'))
            name.remove_suffix(1);
        auto is = [&](std::string_view lower) {
            return name.size() == lower.size() && starts_with_ignoring_case(name, lower);
        };
        if (is("x-imapbase"))
            return Field::imapbase;
        if (is("x-imap"))
            return Field::imap;
        if (is("x-uid"))
            return Field::uid;
        return Field::none;
    }

    // The value as the server takes it: UW from just after the colon, to be
    // parsed with its own blank rules; Dovecot without the blanks after the
    // colon, and without the line ending.
    std::string_view value_of(std::string_view line) const {
        std::string_view value = without_eol(line.substr(line.find(':') + 1));
        if (!uw_) {
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.remove_prefix(1);
        }
        return value;
    }

    void end_field() {
        Field field = std::exchange(field_, Field::none);
        if (field == Field::uid) {
            facts_.uids.push_back(uw_ ? uw_uid(value_) : dovecot_uid(value_));
        } else if (field != Field::none && !facts_.base) {
            facts_.base = uw_ ? uw_base(value_) : dovecot_base(value_);
            facts_.pseudo = facts_.base && field == Field::imap;
            facts_.uids_before_base = facts_.uids.size();
        }
        value_.clear();
    }

    // unix_parse: blanks (spaces only), a non-zero validity, blanks, then at
    // least one digit of the last UID; keywords may follow. Only the first
    // line of the field is read.
    static std::optional<UidBase> uw_base(std::string_view value) {
        value = value.substr(0, value.find('\n'));
        skip_spaces(value);
        UidBase base;
        base.validity = take_digits(value);
        skip_spaces(value);
        if (base.validity == 0 || value.empty() || !is_digit(value.front()))
            return std::nullopt;
        base.last = take_digits(value);
        return base;
    }

    // parse_x_imap_base: a non-zero 32-bit validity ended by a space (or the
    // value), blanks, the last UID ended by a blank (or the value).
    static std::optional<UidBase> dovecot_base(std::string_view value) {
        UidBase base;
        uint32_t validity = 0, last = 0;
        size_t i = 0;
        for (; i < value.size() && is_digit(value[i]); ++i)
            validity = validity * 10 + static_cast<uint32_t>(value[i] - '0');
        if (i < value.size() && value[i] != ' ')
            return std::nullopt;
        if (validity == 0)
            return std::nullopt;
        while (i < value.size() && is_lwsp_lf(value[i]))
            ++i;
        for (; i < value.size() && is_digit(value[i]); ++i)
            last = last * 10 + static_cast<uint32_t>(value[i] - '0');
        if (i < value.size() && !is_lwsp_lf(value[i]))
            return std::nullopt;
        base.validity = validity;
        base.last = last;
        return base;
    }

    // unix_parse: spaces, then digits; whatever follows is ignored.
    static std::optional<uint64_t> uw_uid(std::string_view value) {
        value = value.substr(0, value.find('\n'));
        skip_spaces(value);
        return take_digits(value);
    }

    // parse_x_uid: 32-bit digits, then nothing but blanks.
    static std::optional<uint64_t> dovecot_uid(std::string_view value) {
        uint32_t uid = 0;
        size_t i = 0;
        for (; i < value.size() && is_digit(value[i]); ++i)
            uid = uid * 10 + static_cast<uint32_t>(value[i] - '0');
        for (; i < value.size(); ++i)
            if (!is_lwsp_lf(value[i]))
                return std::nullopt;
        return uid;
    }

    void end_header() {
        if (!in_header_)
            return;
        end_field();
        in_header_ = false;
        const bool first = message_ == 0;
        size_t uids_from = 0; // X-UIDs before any validity do not count
        if (first) {
            if (facts_.base) {
                found_base_ = *facts_.base;
                use_base(*facts_.base);
                uids_from = facts_.uids_before_base;
            } else if (remembered_.validity != 0) {
                use_base(remembered_);
            } else {
                broken_ = true; // the server would start a new validity
            }
            if (facts_.pseudo)
                return; // UW and Dovecot hide it; popperd lists it, as its own
        }
        if (broken_)
            return;
        std::optional<uint64_t> uid;
        for (size_t k = uids_from; k < facts_.uids.size() && !broken_; ++k)
            uid = uw_ ? uw_accepts(facts_.uids[k], uid) : dovecot_accepts(facts_.uids[k], uid);
        if (broken_)
            return;
        // Without an X-UID the server never saw it as a message: it would
        // have written one. It is new mail, or a part of one of the
        // server's messages that popperd divides off: no UID to list, and
        // none the next messages' X-UIDs must be above.
        if (uid)
            names_.add(message_, name_of(*uid));
    }

    void use_base(const UidBase& base) {
        validity_ = base.validity;
        last_ = base.last;
        next_uid_ = base.last + 1;
    }

    // unix_parse: a second X-UID in a message, or one not above the
    // previous message's UID, makes UW renumber the whole mailbox.
    std::optional<uint64_t> uw_accepts(std::optional<uint64_t> value,
                                       std::optional<uint64_t> taken) {
        if (taken || !value || *value <= previous_uid_) {
            broken_ = true;
            return std::nullopt;
        }
        previous_uid_ = *value;
        if (*value > last_)
            last_ = *value; // UW's "temporary kludge for UIDPLUS"
        return value;
    }

    // parse_x_uid: the first X-UID that fits counts; one above the next UID
    // or not above the previous message's is dropped (the message gets the
    // next UID instead).
    std::optional<uint64_t> dovecot_accepts(std::optional<uint64_t> value,
                                            std::optional<uint64_t> taken) {
        if (taken)
            return taken;
        if (!value || *value > next_uid_ || *value <= previous_uid_)
            return std::nullopt;
        if (*value == next_uid_)
            ++next_uid_;
        previous_uid_ = *value;
        return value;
    }

    std::string name_of(uint64_t uid) const {
        char text[40];
        if (uw_) // ipop3d: "%08lx%08lx", validity then UID
            std::snprintf(text, sizeof text, "%08llx%08llx",
                          static_cast<unsigned long long>(validity_),
                          static_cast<unsigned long long>(uid));
        else // Dovecot's %08Xu%08Xv: UID then validity
            std::snprintf(text, sizeof text, "%08llx%08llx", static_cast<unsigned long long>(uid),
                          static_cast<unsigned long long>(validity_));
        return text;
    }

    const bool uw_;
    const UidBase remembered_;
    OldServerNames names_;
    UidBase found_base_;
    size_t message_ = 0;
    bool in_header_ = false;
    HeaderFacts facts_;
    Field field_ = Field::none;
    std::string value_;
    bool broken_ = false;
    uint64_t validity_ = 0;
    uint64_t last_ = 0;         // UW: uid_last
    uint64_t next_uid_ = 1;     // Dovecot: next_uid
    uint64_t previous_uid_ = 0; // the previous message's UID
};

} // namespace

std::unique_ptr<OldServerReader> make_x_imap_reader(UidlFormat format, UidBase remembered) {
    return std::make_unique<XImapReader>(format, remembered);
}

} // namespace popper
