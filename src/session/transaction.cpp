// The TRANSACTION state (RFC 1939 §5): STAT LIST UIDL RETR TOP DELE NOOP
// RSET, and RFC 1460's LAST for old clients.
#include "popper/io.h"
#include "popper/log.h"
#include "popper/wire.h"
#include "session_state.h"

#include <algorithm>

namespace popper {

namespace {

const MessageList& messages(const Session& s) {
    return s.maildrop->index().messages;
}

// The 0-based index of message `arg`, or nullopt after answering -ERR.
std::optional<size_t> message_index(Session& s, const std::string& arg) {
    auto number = parse_number(arg);
    if (!number) {
        s.writer.err("Invalid message number");
        return std::nullopt;
    }
    if (*number == 0 || *number > messages(s).size()) {
        s.writer.err("No such message");
        return std::nullopt;
    }
    size_t index = *number - 1;
    if (s.deleted[index]) {
        s.writer.err("Message " + arg + " already deleted");
        return std::nullopt;
    }
    return index;
}

std::string maildrop_summary(const Session& s) {
    uint64_t count = 0, octets = 0;
    for (size_t i = 0; i < messages(s).size(); ++i) {
        if (s.deleted[i]) continue;
        ++count;
        octets += messages(s)[i].pop_size;
    }
    return std::to_string(count) + " " + std::to_string(octets);
}

// Read size for RETR: large sequential preads, cut at line ends, keep the
// session's memory bounded and cost no page-table work (mmap+munmap of each
// message was most of RETR's time).
constexpr size_t kRetrReadOctets = 256 * 1024;

bool cannot_read(Session& s, const Error& error) {
    log_error("cannot read message: user=" + s.user + ": " + error.message());
    s.writer.err("[SYS/TEMP] Cannot read the message");
    return false;
}

// RETR: the whole message in POP3 form, streamed from the drop.
bool send_whole_message(Session& s, const MessageEntry& m) {
    const int fd = s.maildrop->drop_fd();
    const std::string& path = s.maildrop->drop_path();
    s.writer.ok(std::to_string(m.pop_size) + " octets");
    std::string& out = s.writer.buffer();
    std::string pending; // stored octets read but not yet encoded: a line's start
    pending.reserve(kRetrReadOctets);
    uint64_t pos = m.start;
    for (;;) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(kRetrReadOctets, m.end - pos));
        size_t had = pending.size();
        pending.resize(had + want);
        auto got = pread_full(fd, pending.data() + had, want, static_cast<off_t>(pos), path);
        if (!got) return cannot_read(s, got.error());
        if (*got != want) return cannot_read(s, Error::because("read", path, "drop file shrank"));
        pos += want;
        bool last = pos == m.end;
        // Each piece starts at a line start, so unescaping and dot-stuffing
        // see whole lines; a line longer than a read waits for the next one.
        size_t cut = last ? pending.size() : pending.rfind('\n') + 1;
        if (cut == 0 && !last) continue; // npos + 1: no line end yet
        WireEncoder encoder(std::string_view(pending).substr(0, cut));
        while (!encoder.encode(out, kReplyBufferOctets))
            if (!s.writer.flush()) return false;
        if (last) {
            encoder.finish(out);
            return s.writer.flush_if_large();
        }
        pending.erase(0, cut);
        if (out.size() >= kReplyBufferOctets && !s.writer.flush()) return false;
    }
}

// TOP: the header section and `top_lines` body lines, from a mapping.
bool send_message_top(Session& s, const MessageEntry& m, uint64_t top_lines) {
    auto region = MappedRegion::map(s.maildrop->drop_fd(), static_cast<off_t>(m.start),
                                    m.stored_length(), s.maildrop->drop_path());
    if (!region) return cannot_read(s, region.error());
    std::string_view stored = region->view();
    stored = stored.substr(0, top_prefix_length(stored, top_lines));
    s.writer.ok("Top of message follows");
    WireEncoder encoder(stored);
    std::string& out = s.writer.buffer();
    while (!encoder.encode(out, kReplyBufferOctets)) {
        if (!s.writer.flush()) return false;
        region->drop_pages_before(encoder.position());
    }
    encoder.finish(out);
    return s.writer.flush_if_large();
}

} // namespace

void handle_stat(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty()) return s.writer.err("STAT takes no argument");
    s.writer.ok(maildrop_summary(s));
}

void handle_list(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() > 1) return s.writer.err("Usage: LIST [message]");
    if (cmd.args.size() == 1) {
        auto index = message_index(s, cmd.args[0]);
        if (!index) return;
        return s.writer.ok(cmd.args[0] + " " + std::to_string(messages(s)[*index].pop_size));
    }
    s.writer.ok("Scan list follows");
    std::string& out = s.writer.buffer();
    for (size_t i = 0; i < messages(s).size(); ++i) {
        if (s.deleted[i]) continue;
        out += std::to_string(i + 1);
        out += ' ';
        out += std::to_string(messages(s)[i].pop_size);
        out += "\r\n";
        s.writer.flush_if_large();
    }
    out += ".\r\n";
}

void handle_uidl(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() > 1) return s.writer.err("Usage: UIDL [message]");
    const MboxIndex& index = s.maildrop->index();
    if (cmd.args.size() == 1) {
        auto i = message_index(s, cmd.args[0]);
        if (!i) return;
        return s.writer.ok(cmd.args[0] + " " + index.uidl(*i));
    }
    s.writer.ok("Unique-ID listing follows");
    std::string& out = s.writer.buffer();
    for (size_t i = 0; i < index.messages.size(); ++i) {
        if (s.deleted[i]) continue;
        out += std::to_string(i + 1);
        out += ' ';
        out += index.uidl(i);
        out += "\r\n";
        s.writer.flush_if_large();
    }
    out += ".\r\n";
}

void handle_retr(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() != 1) return s.writer.err("Usage: RETR message");
    auto index = message_index(s, cmd.args[0]);
    if (!index) return;
    if (!send_whole_message(s, messages(s)[*index])) {
        s.done = true;
        return;
    }
    ++s.stats.retrieved;
    s.stats.retrieved_octets += messages(s)[*index].pop_size;
    s.highest_accessed = std::max<uint32_t>(s.highest_accessed, static_cast<uint32_t>(*index + 1));
}

void handle_top(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() != 2) return s.writer.err("Usage: TOP message lines");
    auto index = message_index(s, cmd.args[0]);
    if (!index) return;
    auto lines = parse_number(cmd.args[1]);
    if (!lines) return s.writer.err("Invalid number of lines");
    if (!send_message_top(s, messages(s)[*index], *lines)) s.done = true;
}

void handle_dele(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() != 1) return s.writer.err("Usage: DELE message");
    auto index = message_index(s, cmd.args[0]);
    if (!index) return;
    s.deleted[*index] = true;
    ++s.stats.deleted;
    s.writer.ok("Message " + cmd.args[0] + " deleted");
}

void handle_noop(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty()) return s.writer.err("NOOP takes no argument");
    s.writer.ok("");
}

void handle_rset(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty()) return s.writer.err("RSET takes no argument");
    s.deleted.assign(s.deleted.size(), false);
    s.stats.deleted = 0;
    s.highest_accessed = 0;
    s.writer.ok("Maildrop has " + maildrop_summary(s));
}

void handle_last(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty()) return s.writer.err("LAST takes no argument");
    s.writer.ok(std::to_string(s.highest_accessed));
}

} // namespace popper
