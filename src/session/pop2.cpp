// POP2 (RFC 937), for the clients that still speak it: the same session as
// POP3 (login through the pre-login process and the privileged check, the
// maildrop, UPDATE at QUIT, timeouts, logs), with RFC 937's commands and
// replies. Before login: HELO (which logs in) and QUIT. After it: FOLD
// (INBOX only), READ, RETR, ACKS, ACKD, NACK and QUIT. Replies are "+", "-",
// "#nnn" (a message count) and "=nnn" (a message's octets, 0 for none).
#include "commands.h"
#include "popper/log.h"
#include "popper/pop2_command.h"

#include <strings.h>

namespace popper {

namespace {

const MessageList& messages(const Session& s) {
    return s.maildrop->index().messages;
}

// "=ccc": the octets RETR would send for the current message, which are its
// POP3 size (RFC 937 sends the message without dot-stuffing, so the count
// is of the message as sent: CRLF lines). "=0" when there is no such
// message, or it is deleted: RFC 937's "no more messages".
void reply_length(Session& s) {
    Pop2Position& at = s.pop2;
    at.read = at.current >= 1 && at.current <= messages(s).size() && !s.deleted[at.current - 1];
    uint64_t octets = at.read ? messages(s)[at.current - 1].pop_size : 0;
    at.read = at.read && octets > 0;
    s.writer.raw("=" + std::to_string(octets) + "\r\n");
}

void handle_helo(Session& s, const Pop2Command& cmd) {
    // HELO sends the password itself, like USER/PASS.
    if (!s.policy.offered(LoginMechanism::user_pass))
        return refuse_plaintext(s);
    submit_credentials(s, AuthRequest{std::string(login_mechanism_name(LoginMechanism::user_pass)),
                                      cmd.user,
                                      cmd.password,
                                      {}});
}

// RFC 937 FOLD: only the INBOX, the maildrop HELO opened, is served; its
// message count again, and READ starts from its first message.
void handle_fold(Session& s, const Pop2Command& cmd) {
    if (::strcasecmp(cmd.folder.c_str(), "INBOX") != 0)
        return s.writer.err("No such folder, only INBOX is served");
    s.pop2 = {};
    s.writer.raw("#" + std::to_string(messages(s).size()) + "\r\n");
}

void handle_read(Session& s, const Pop2Command& cmd) {
    if (cmd.number)
        s.pop2.current = *cmd.number;
    reply_length(s);
}

void handle_retr(Session& s, const Pop2Command&) {
    if (!s.pop2.read)
        return s.writer.err("No message to send, READ one first");
    const size_t index = s.pop2.current - 1;
    if (!send_message(s, messages(s)[index], WireEncoder::unframed_message(), std::nullopt)) {
        s.done = true;
        return;
    }
    s.pop2.read = false;
    s.pop2.sent = true;
    count_retrieval(s, index);
}

// ACKS, ACKD: the message arrived; ACKD deletes it at QUIT as POP3's DELE
// does (RFC 1939 §6: only in UPDATE). Either moves on to the next message.
void acknowledge(Session& s, bool keep) {
    if (!keep) {
        s.deleted[s.pop2.current - 1] = true;
        ++s.stats.deleted;
    }
    s.pop2.sent = false;
    ++s.pop2.current;
    reply_length(s);
}

void handle_acks(Session& s, const Pop2Command&) {
    acknowledge(s, true);
}

void handle_ackd(Session& s, const Pop2Command&) {
    acknowledge(s, false);
}

// NACK: the client did not get the message; it stays, and is offered again.
void handle_nack(Session& s, const Pop2Command&) {
    s.pop2.sent = false;
    reply_length(s);
}

void handle_quit_pop2(Session& s, const Pop2Command&) {
    if (s.state == Pop3State::authorization) {
        s.done = true;
        return s.writer.ok("Bye");
    }
    handle_quit(s, CommandLine{"QUIT", {}, {}});
}

// When each command may come: before login, after it, and (RETR sent, its
// ACK awaited) RFC 937's NEXT state.
enum When : unsigned { kBeforeLogin = 1, kLoggedIn = 2, kAwaitingAck = 4 };

struct Pop2Row {
    Pop2Verb verb;
    void (*handler)(Session&, const Pop2Command&);
    unsigned when;
};

constexpr Pop2Row kPop2Commands[] = {
    {Pop2Verb::helo, handle_helo, kBeforeLogin},
    {Pop2Verb::fold, handle_fold, kLoggedIn},
    {Pop2Verb::read, handle_read, kLoggedIn},
    {Pop2Verb::retr, handle_retr, kLoggedIn},
    {Pop2Verb::acks, handle_acks, kAwaitingAck},
    {Pop2Verb::ackd, handle_ackd, kAwaitingAck},
    {Pop2Verb::nack, handle_nack, kAwaitingAck},
    {Pop2Verb::quit, handle_quit_pop2, kBeforeLogin | kLoggedIn | kAwaitingAck},
};

unsigned current_state(const Session& s) {
    if (s.state == Pop3State::authorization)
        return kBeforeLogin;
    return s.pop2.sent ? kAwaitingAck : kLoggedIn;
}

const char* wrong_state(unsigned when, unsigned state) {
    if (state == kBeforeLogin)
        return "Not logged in, send HELO";
    if (state == kAwaitingAck)
        return "Send ACKS, ACKD or NACK for the message sent";
    return when == kBeforeLogin ? "Already logged in" : "No message sent to acknowledge";
}

} // namespace

void dispatch_pop2_command(Session& s, const std::string& line) {
    Pop2Parsed parsed = parse_pop2_command(line);
    if (const auto* why = std::get_if<std::string_view>(&parsed))
        return s.writer.err(*why);
    const Pop2Command& cmd = std::get<Pop2Command>(parsed);
    const unsigned state = current_state(s);
    for (const auto& row : kPop2Commands) {
        if (row.verb != cmd.verb)
            continue;
        if ((row.when & state) == 0)
            return s.writer.err(wrong_state(row.when, state));
        return row.handler(s, cmd);
    }
    s.writer.err("Unknown command");
}

} // namespace popper
