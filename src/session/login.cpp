// The login (the end of RFC 1939 §4's AUTHORIZATION), in the privileged
// process once the credentials are granted: it becomes the mailbox owner for
// good, opens the maildrop (locks, recovery, the spool moved into the drop,
// the index) and answers +OK in the TRANSACTION state.
#include "commands.h"
#include "popper/log.h"
#include "popper/mailbox_owner.h"
#include "popper/privileges.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <sys/stat.h>
#include <thread>

namespace popper {

namespace {

// How often a takeover looks whether the old session has let go.
constexpr auto kTakeoverPoll = std::chrono::milliseconds(50);

// `takeover = yes`: the session holding the mailbox is told to end
// (SIGUSR1: it answers -ERR [SYS/TEMP], puts the mail back, exits; one in
// its QUIT finishes that first), and the login waits for it up to
// lock_timeout. Both run as the mailbox owner, so the signal can only reach
// this user's own processes.
Result<Maildrop> take_over(Session& s, const MaildropSettings& settings, Error in_use) {
    auto holder = Maildrop::holder(settings);
    if (!holder)
        return in_use; // gone meanwhile, or not ours to name: try no harder
    if (::kill(*holder, SIGUSR1) != 0) {
        log_warning("takeover: user=" + s.user + " cannot signal pid=" + std::to_string(*holder) +
                    ": " + std::strerror(errno));
        return in_use;
    }
    log_notice("takeover: user=" + s.user + " addr=" + s.peer.address +
               " ends the session pid=" + std::to_string(*holder));
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(s.config.lock_timeout_s);
    for (;;) {
        auto drop = Maildrop::open(settings);
        if (drop || !drop.error().is(ErrorKind::in_use) ||
            std::chrono::steady_clock::now() >= deadline)
            return drop;
        std::this_thread::sleep_for(kTakeoverPoll);
    }
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

void enter_transaction(Session& s, const GrantedLogin& login) {
    const UserEntry& entry = login.entry;
    s.user = entry.name;
    s.user_policy = login.policy;
    auto owner = resolve_owner(s.config, entry);
    if (!owner) {
        log_error("cannot serve user=" + entry.name + ": " + owner.error().message());
        s.writer.err("[SYS/PERM] Mailbox not available, please contact the administrator");
        s.done = true;
        return;
    }
    if (auto dropped =
            become_user(owner->uid, owner->gid, s.config.mail_privileged_group, entry.name);
        !dropped) {
        log_error("cannot become user=" + entry.name + ": " + dropped.error().message());
        s.writer.err("[SYS/TEMP] Internal error, try again later");
        s.done = true;
        return;
    }
    if (refuse_early_login(s))
        return;
    MaildropSettings settings;
    settings.user = entry.name;
    settings.spool_path = owner->spool_path;
    settings.drop_dir = s.config.drop_dir;
    settings.locks.methods = s.config.lock_methods;
    settings.locks.timeout_s = s.config.lock_timeout_s;
    settings.locks.dotlock_stale_s = s.config.dotlock_stale_s;
    settings.uidl_format = s.config.uidl_format;
    auto drop = Maildrop::open(settings);
    if (!drop && drop.error().is(ErrorKind::in_use) && s.config.takeover)
        drop = take_over(s, settings, drop.error());
    if (!drop)
        return answer_maildrop_failure(s, drop.error());
    s.maildrop.emplace(std::move(*drop));
    s.deleted.assign(s.maildrop->index().messages.size(), false);
    start_policy_state(s);
    s.state = Pop3State::transaction;
    set_session_title(s);
    uint64_t octets = 0;
    for (const auto& m : s.maildrop->index().messages)
        octets += m.pop_size;
    std::string summary =
        std::to_string(s.deleted.size()) + " messages (" + std::to_string(octets) + " octets)";
    log_info("login: user=" + s.user + " addr=" + s.peer.address +
             " messages=" + std::to_string(s.deleted.size()) + " octets=" + std::to_string(octets) +
             std::string(protocol_log_field(s.peer)));
    // RFC 937: HELO is answered with the message count, "#nnn".
    if (s.peer.protocol == Protocol::pop2)
        return s.writer.raw("#" + std::to_string(s.deleted.size()) + " messages\r\n");
    s.writer.ok("Logged in, " + summary);
}

} // namespace popper
