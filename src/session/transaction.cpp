// The TRANSACTION state (RFC 1939 §5), entered by login.cpp with the
// maildrop open: STAT LIST UIDL RETR TOP DELE NOOP RSET, RFC 1460's LAST for
// old clients, and CAPA. QUIT leads to UPDATE (update.cpp).
#include "commands.h"
#include "popper/io.h"
#include "popper/log.h"
#include "popper/wire.h"

#include <algorithm>
#include <memory>

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
        if (s.deleted[i])
            continue;
        ++count;
        octets += messages(s)[i].pop_size;
    }
    return std::to_string(count) + " " + std::to_string(octets);
}

// RETR and TOP read the message from the drop with pread into a buffer of
// the message's size up to this cap, and encode each piece straight into the
// reply buffer: a 100 KB message costs one pread and one write, the cost of
// a page-table walk per message (mmap+munmap) is avoided, and a session's
// memory stays bounded whatever the message or line size (the encoder takes
// pieces that split lines anywhere).
constexpr size_t kMessageReadOctets = 128 * 1024;

bool cannot_read(Session& s, const Error& error, bool replied) {
    log_error("cannot read message: user=" + s.user + ": " + error.message());
    // Once the +OK and part of the message are out, an -ERR would read as
    // message text: the client sees the connection close before ".".
    if (!replied)
        s.writer.err("[SYS/TEMP] Cannot read the message");
    return false;
}

} // namespace

bool send_message(Session& s, const MessageEntry& m, WireEncoder encoder,
                  std::optional<std::string_view> status) {
    const int fd = s.maildrop->drop_fd();
    const std::string& path = s.maildrop->drop_path();
    const size_t buffer_octets =
        static_cast<size_t>(std::min<uint64_t>(kMessageReadOctets, m.stored_length()));
    auto piece = std::make_unique_for_overwrite<char[]>(buffer_octets);
    // POP2 has no status line: any text now would be read as the message.
    bool replied = !status;
    for (uint64_t pos = m.start; pos < m.end && !encoder.complete();) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buffer_octets, m.end - pos));
        auto got = pread_full(fd, piece.get(), want, static_cast<off_t>(pos), path);
        if (!got)
            return cannot_read(s, got.error(), replied);
        if (*got != want)
            return cannot_read(s, Error::because("read", path, "drop file shrank"), replied);
        pos += want;
        if (!replied) {
            s.writer.ok(*status); // only once the message could be read
            replied = true;
        }
        // Earlier replies and pieces go out first when this one could make
        // the buffer larger than its flush threshold.
        size_t room = max_wire_octets(want);
        if (s.writer.buffered() > 0 && s.writer.buffered() + room > kReplyBufferOctets &&
            !s.writer.flush())
            return false;
        char* out = s.writer.room(room);
        s.writer.commit(encoder.encode({piece.get(), want}, out));
    }
    if (!replied)
        s.writer.ok(*status); // an empty message
    s.writer.commit(encoder.finish(s.writer.room(max_wire_octets(0))));
    return s.writer.flush_if_large();
}

void count_retrieval(Session& s, size_t index) {
    note_retrieval(s, index);
    ++s.stats.retrieved;
    s.stats.retrieved_octets += s.maildrop->index().messages[index].pop_size;
    s.highest_accessed = std::max<uint32_t>(s.highest_accessed, static_cast<uint32_t>(index + 1));
}

namespace {

void handle_stat(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty())
        return s.writer.err("STAT takes no argument");
    s.writer.ok(maildrop_summary(s));
}

void handle_list(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() > 1)
        return s.writer.err("Usage: LIST [message]");
    if (cmd.args.size() == 1) {
        auto index = message_index(s, cmd.args[0]);
        if (!index)
            return;
        return s.writer.ok(cmd.args[0] + " " + std::to_string(messages(s)[*index].pop_size));
    }
    s.writer.ok("Scan list follows");
    for (size_t i = 0; i < messages(s).size(); ++i) {
        if (s.deleted[i])
            continue;
        const auto& m = messages(s)[i];
        s.writer.raw(std::to_string(i + 1) + ' ' + std::to_string(m.pop_size) + "\r\n");
        s.writer.flush_if_large();
    }
    s.writer.raw(".\r\n");
}

void handle_uidl(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() > 1)
        return s.writer.err("Usage: UIDL [message]");
    const MboxIndex& index = s.maildrop->index();
    if (cmd.args.size() == 1) {
        auto i = message_index(s, cmd.args[0]);
        if (!i)
            return;
        return s.writer.ok(cmd.args[0] + " " + index.uidl(*i));
    }
    s.writer.ok("Unique-ID listing follows");
    for (size_t i = 0; i < index.messages.size(); ++i) {
        if (s.deleted[i])
            continue;
        s.writer.raw(std::to_string(i + 1) + ' ' + index.uidl(i) + "\r\n");
        s.writer.flush_if_large();
    }
    s.writer.raw(".\r\n");
}

void handle_retr(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() != 1)
        return s.writer.err("Usage: RETR message");
    auto index = message_index(s, cmd.args[0]);
    if (!index)
        return;
    const MessageEntry& m = messages(s)[*index];
    if (!send_message(s, m, WireEncoder::whole_message(), std::to_string(m.pop_size) + " octets")) {
        s.done = true;
        return;
    }
    count_retrieval(s, *index);
}

void handle_top(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() != 2)
        return s.writer.err("Usage: TOP message lines");
    auto index = message_index(s, cmd.args[0]);
    if (!index)
        return;
    auto lines = parse_number(cmd.args[1]);
    if (!lines)
        return s.writer.err("Invalid number of lines");
    if (!send_message(s, messages(s)[*index], WireEncoder::top(*lines), "Top of message follows"))
        s.done = true;
}

void handle_dele(Session& s, const CommandLine& cmd) {
    if (cmd.args.size() != 1)
        return s.writer.err("Usage: DELE message");
    auto index = message_index(s, cmd.args[0]);
    if (!index)
        return;
    s.deleted[*index] = true;
    ++s.stats.deleted;
    s.writer.ok("Message " + cmd.args[0] + " deleted");
}

void handle_noop(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty())
        return s.writer.err("NOOP takes no argument");
    s.writer.ok("");
}

void handle_rset(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty())
        return s.writer.err("RSET takes no argument");
    s.deleted.assign(s.deleted.size(), false);
    s.stats.deleted = 0;
    s.highest_accessed = 0;
    s.writer.ok("Maildrop has " + maildrop_summary(s));
}

void handle_last(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty())
        return s.writer.err("LAST takes no argument");
    s.writer.ok(std::to_string(s.highest_accessed));
}

void capa_after_login(Session& s, const CommandLine& cmd) {
    // RFC 2449 §6.5, §6.6: in TRANSACTION, the user's own values.
    reply_capabilities(s, cmd,
                       s.config.policy_file.empty() ? "" : policy_capability_lines(s.user_policy));
}

bool last_enabled(const Config& config) {
    return config.enable_last;
}

constexpr Command kCommands[] = {
    {"CAPA", capa_after_login},
    {"STAT", handle_stat},
    {"LIST", handle_list},
    {"UIDL", handle_uidl},
    {"RETR", handle_retr},
    {"TOP", handle_top},
    {"DELE", handle_dele},
    {"NOOP", handle_noop},
    {"RSET", handle_rset},
    {.keyword = "LAST", .handler = handle_last, .enabled = last_enabled},
    {"QUIT", handle_quit},
};

} // namespace

std::span<const Command> transaction_commands() {
    return kCommands;
}

} // namespace popper
