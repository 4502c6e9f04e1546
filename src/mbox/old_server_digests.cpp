// The UIDLs of popa3d and solid-pop3d: MD5 digests of selected header
// lines, each server dividing the mailbox by its own rule (the rules, and
// where in each server's source they are, are in old_server_uidl.h).
#include "old_server_uidl.h"

#include "popper/md5.h"

#include <array>
#include <cstdint>
#include <optional>

namespace popper {
namespace {

// One message of the old server being hashed: the popperd message it
// begins with (none when it begins inside one), and whether a counted line
// was cut short, which leaves the digest unknown.
class DigestedMessage {
public:
    void begin(std::optional<size_t> message) {
        message_ = message;
        complete_ = true;
        md5_ = Md5();
    }
    void hash(std::string_view line, bool whole) {
        complete_ = complete_ && whole;
        md5_.update(line);
    }
    // The digest of a message that popperd begins at the same line.
    std::optional<std::pair<size_t, std::array<uint8_t, 16>>> finish() {
        std::optional<size_t> message = message_;
        message_.reset();
        auto digest = md5_.finish();
        if (!message || !complete_)
            return std::nullopt;
        return std::pair{*message, digest};
    }

private:
    std::optional<size_t> message_;
    bool complete_ = true;
    Md5 md5_;
};

// popa3d 1.0.3, mailbox.c mailbox_parse.
class Popa3dReader final : public OldServerReader {
public:
    void message_start(size_t message, std::string_view from_line) override {
        // popa3d begins a message at "From " only after a line that is just
        // LF; after a CRLF blank line popperd's From_ line is content to it.
        if (!blank_) {
            line(from_line, true);
            return;
        }
        finish_message();
        current_.begin(message);
        header_ = true;
        fixed_ = received_ = false;
        // blank_ stays set over the From_ line, as in popa3d.
    }

    void line(std::string_view line, bool whole) override {
        blank_ = line.starts_with('\n');
        if (!header_)
            return;
        if (blank_) {
            header_ = false;
            return;
        }
        switch (line.front()) {
        case ' ':
        case '\t':
            break; // a continuation line is counted with its field
        case 'R':
        case 'r':
            // One Received: header, from the local MTA, is enough (popa3d).
            fixed_ = !received_ && (received_ = starts_with_ignoring_case(line, "received:"));
            break;
        case 'D':
        case 'd':
            fixed_ = starts_with_ignoring_case(line, "delivered-to:") ||
                     (!received_ && starts_with_ignoring_case(line, "date:"));
            break;
        case 'M':
        case 'm':
            fixed_ = !received_ && starts_with_ignoring_case(line, "message-id:");
            break;
        case 'X': // a capital X only, as in popa3d's switch
            fixed_ = starts_with_ignoring_case(line, "x-delivery-id:");
            break;
        default:
            fixed_ = false;
        }
        if (fixed_)
            current_.hash(line, whole);
    }

    // A header ended by a CRLF blank line runs on for popa3d.
    bool wants_every_line() const override { return header_; }

    OldServerNames finish() override {
        finish_message();
        return std::move(names_);
    }

private:
    void finish_message() {
        auto digest = current_.finish();
        if (!digest)
            return;
        // pop_trans.c prints hash[3], [2], [1], [0], [7], [6], [5], [4].
        const auto& d = digest->second;
        const uint8_t half[8] = {d[3], d[2], d[1], d[0], d[7], d[6], d[5], d[4]};
        names_.add(digest->first, to_hex(half, sizeof half));
    }

    OldServerNames names_;
    DigestedMessage current_;
    bool blank_ = true; // the previous line was LF alone (or none was read yet)
    bool header_ = false;
    bool fixed_ = false;
    bool received_ = false;
};

// solid-pop3d reads the mailbox in pieces of 128 octets (fdfgets.c); a
// From_ line counts when its first piece has "From " + username + date,
// 28 octets (mailbox.c mb_parse).
constexpr size_t kSolidFromLineMinOctets = 5 + 2 + 21;

// solid-pop3d 0.15, mailbox.c mb_parse.
class SolidPop3dReader final : public OldServerReader {
public:
    void message_start(size_t message, std::string_view from_line) override {
        if (!is_separator(from_line, true)) {
            line(from_line, true); // too short for solid-pop3d: a content line
            return;
        }
        begin(message);
    }

    void line(std::string_view line, bool whole) override {
        if (is_separator(line, whole)) {
            begin(std::nullopt); // a message popperd does not begin here
            return;
        }
        if (!header_)
            return;
        // mb_fixed: case-sensitive prefixes, tested on each line's start
        // only, so continuation lines are never counted.
        if (line.starts_with("Received:") || line.starts_with("Date:") ||
            line.starts_with("Message-Id:") || line.starts_with("Subject:"))
            current_.hash(line, whole);
        if (line == "\n")
            header_ = false;
    }

    // A header ended by a CRLF blank line runs on for solid-pop3d.
    bool wants_every_line() const override { return header_; }

    OldServerNames finish() override {
        finish_message();
        return std::move(names_);
    }

private:
    static bool is_separator(std::string_view line, bool whole) {
        return line.starts_with("From ") && (!whole || line.size() >= kSolidFromLineMinOctets);
    }

    void begin(std::optional<size_t> message) {
        finish_message();
        current_.begin(message);
        header_ = true;
    }

    void finish_message() {
        if (auto digest = current_.finish())
            names_.add(digest->first, to_hex(digest->second.data(), digest->second.size()));
    }

    OldServerNames names_;
    DigestedMessage current_;
    bool header_ = false;
};

} // namespace

std::unique_ptr<OldServerReader> make_popa3d_reader() {
    return std::make_unique<Popa3dReader>();
}

std::unique_ptr<OldServerReader> make_solid_pop3d_reader() {
    return std::make_unique<SolidPop3dReader>();
}

} // namespace popper
