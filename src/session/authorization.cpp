// The AUTHORIZATION state (RFC 1939 §4, §7): USER, PASS, and becoming the
// mailbox owner with the maildrop open. QUIT lives here for both states.
#include "popper/apop.h"
#include "popper/log.h"
#include "popper/sasl.h"
#include "popper/privileges.h"
#include "popper/users_file.h"
#include "session_state.h"

#include <sys/stat.h>
#include <thread>

namespace popper {

namespace {

struct MailboxOwner {
    std::string spool_path;
    uid_t uid = 0;
    gid_t gid = 0;
};

Result<MailboxOwner> resolve_owner(const Config& config, const UserEntry& entry) {
    MailboxOwner owner;
    owner.spool_path = entry.mailbox.empty() ? config.spool_dir + "/" + entry.name : entry.mailbox;
    if (!entry.uid || !entry.gid) {
        struct stat st {};
        if (::lstat(owner.spool_path.c_str(), &st) != 0)
            return Error::permanent("owner of", owner.spool_path,
                                     "users file leaves uid/gid empty and the spool is missing");
        if (!S_ISREG(st.st_mode))
            return Error::permanent("owner of", owner.spool_path, "not a regular file");
        owner.uid = entry.uid.value_or(st.st_uid);
        owner.gid = entry.gid.value_or(st.st_gid);
    } else {
        owner.uid = *entry.uid;
        owner.gid = *entry.gid;
    }
    if (owner.uid == 0)
        return Error::permanent("owner of", owner.spool_path,
                                 "mailbox would be served as root");
    return owner;
}

void answer_maildrop_failure(Session& s, const Error& error) {
    switch (error.kind) {
    case ErrorKind::in_use:
        log_notice("mailbox in use: user=" + s.user + " addr=" + s.peer.address + ": " +
                   error.message());
        s.writer.err("[IN-USE] Mailbox is locked by another session or program");
        break;
    case ErrorKind::permanent:
        log_error("cannot open maildrop: user=" + s.user + ": " + error.message());
        s.writer.err("[SYS/PERM] Cannot open the mailbox, please contact the administrator");
        break;
    case ErrorKind::temporary:
        log_error("cannot open maildrop: user=" + s.user + ": " + error.message());
        s.writer.err("[SYS/TEMP] Cannot open the mailbox, try again later");
        break;
    }
    // Privileges are already dropped to this user: no second login here.
    s.done = true;
}

} // namespace

void fail_login(Session& s, const std::string& name, const char* reason) {
    ++s.auth_failures;
    log_notice("authentication failure: user=" + name + " addr=" + s.peer.address +
               " reason=" + reason);
    // RFC 2449 AUTH-RESP-CODE; one reply and one delay for every reason, so
    // user names cannot be told apart (invariant 5).
    std::this_thread::sleep_for(std::chrono::milliseconds(s.config.auth_failure_delay_ms));
    if (s.auth_failures >= s.config.max_auth_failures) {
        s.writer.err("[AUTH] Authentication failed, closing connection");
        log_notice("too many authentication failures: addr=" + s.peer.address);
        s.done = true;
        return;
    }
    s.writer.err("[AUTH] Authentication failed");
}

void enter_transaction(Session& s, const UserEntry& entry) {
    s.user = entry.name;
    auto owner = resolve_owner(s.config, entry);
    if (!owner) {
        log_error("cannot serve user=" + entry.name + ": " + owner.error().message());
        s.writer.err("[SYS/PERM] Mailbox not available, please contact the administrator");
        s.done = true;
        return;
    }
    if (auto dropped = become_user(owner->uid, owner->gid, s.config.mail_privileged_group,
                                   entry.name);
        !dropped) {
        log_error("cannot become user=" + entry.name + ": " + dropped.error().message());
        s.writer.err("[SYS/TEMP] Internal error, try again later");
        s.done = true;
        return;
    }
    MaildropSettings settings;
    settings.user = entry.name;
    settings.spool_path = owner->spool_path;
    settings.drop_dir = s.config.drop_dir;
    settings.locks.methods = s.config.lock_methods;
    settings.locks.timeout_s = s.config.lock_timeout_s;
    settings.locks.dotlock_stale_s = s.config.dotlock_stale_s;
    auto drop = Maildrop::open(settings);
    if (!drop) return answer_maildrop_failure(s, drop.error());
    s.maildrop.emplace(std::move(*drop));
    s.deleted.assign(s.maildrop->index().messages.size(), false);
    s.state = Pop3State::transaction;
    set_session_title(s);
    uint64_t octets = 0;
    for (const auto& m : s.maildrop->index().messages) octets += m.pop_size;
    std::string summary = std::to_string(s.deleted.size()) + " messages (" +
                          std::to_string(octets) + " octets)";
    log_info("login: user=" + s.user + " addr=" + s.peer.address + " messages=" +
             std::to_string(s.deleted.size()) + " octets=" + std::to_string(octets));
    s.writer.ok("Logged in, " + summary);
}

void handle_user(Session& s, const CommandLine& cmd) {
    if (!s.policy.offered(LoginMechanism::user_pass))
        return s.writer.err("[AUTH] Plaintext authentication disallowed");
    if (cmd.args.size() != 1) return s.writer.err("Usage: USER name");
    // Same answer for every name: whether it exists is told by PASS only.
    s.pending_user = cmd.args[0];
    s.writer.ok("Send your password");
}

void submit_credentials(Session& s, AuthRequest request) {
    const std::string name = request.user;
    if (s.auth_channel < 0) {
        // No separate pre-login process (tests of the session alone).
        static const AuthContext none;
        std::optional<UserEntry> entry;
        AuthVerdict verdict = check_credentials(s.config, s.auth ? *s.auth : none, request, entry);
        wipe_secret(request.secret);
        if (!verdict.ok) return fail_login(s, name, verdict.reason.c_str());
        return enter_transaction(s, *entry);
    }
    auto sent = send_auth_request(s.auth_channel, request);
    wipe_secret(request.secret);
    auto verdict = sent ? receive_auth_verdict(s.auth_channel) : Result<AuthVerdict>(sent.error());
    if (!verdict) {
        log_error("authentication unavailable: " + verdict.error().message());
        s.writer.err("[SYS/TEMP] Authentication unavailable, try again later");
        s.done = true;
        return;
    }
    if (!verdict->ok) return fail_login(s, name, verdict->reason.c_str());
    // The privileged process answers once it has the maildrop; it also gets
    // what the client pipelined after the credentials.
    if (!s.writer.flush()) {
        s.done = true;
        return;
    }
    if (auto handed = send_handover(s.auth_channel, {name, s.reader.take_buffered()}); !handed)
        log_error("handing the session over: " + handed.error().message());
    s.handed_over = true;
    s.done = true;
}

void handle_pass(Session& s, const CommandLine& cmd) {
    if (!s.policy.offered(LoginMechanism::user_pass))
        return s.writer.err("[AUTH] Plaintext authentication disallowed");
    if (s.pending_user.empty()) return s.writer.err("Send USER first");
    std::string name = std::move(s.pending_user);
    s.pending_user.clear();
    submit_credentials(s, AuthRequest{std::string(login_mechanism_name(LoginMechanism::user_pass)),
                                      name, cmd.rest, {}});
}

void handle_quit(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty()) return s.writer.err("QUIT takes no argument");
    s.done = true;
    if (s.state == Pop3State::authorization) return s.writer.ok("Bye");
    s.state = Pop3State::update;
    set_session_title(s);
    size_t left = 0;
    for (bool d : s.deleted) left += d ? 0 : 1;
    auto committed = s.maildrop->commit(s.deleted);
    s.retired_mail_file = s.maildrop->release_retired_file();
    s.maildrop.reset(); // the session lock goes now, the old mailbox after the reply
    if (!committed) {
        // RFC 1939 §6: -ERR when deletions could not be made; the drop
        // stays and the next login merges it back, nothing lost.
        log_error("update failed: user=" + s.user + ": " + committed.error().message());
        s.stats.deleted = 0;
        log_logout(s, "quit-failed");
        return s.writer.err("[SYS/TEMP] Deletions not performed, try again later");
    }
    log_logout(s, "quit");
    s.writer.ok("Bye (" + std::to_string(left) + (left == 1 ? " message" : " messages") +
                " left)");
}

} // namespace popper
