// The UPDATE state (RFC 1939 §6): QUIT commits the deletions to the
// maildrop and says how many messages are left. A session that ends any
// other way (the client gone, a timeout, SIGTERM) puts all of its mail back
// through the same commit with nothing deleted.
#include "commands.h"
#include "popper/log.h"

#include <cstdio>
#include <sys/resource.h>

namespace popper {

namespace {

void log_logout(const Session& s, const char* how) {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - s.stats.started).count();
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.3f", seconds);
    log_info("logout: user=" + s.user + " addr=" + s.peer.address + " how=" + how + " retrieved=" +
             std::to_string(s.stats.retrieved) + "/" + std::to_string(s.stats.retrieved_octets) +
             " deleted=" + std::to_string(s.stats.deleted) + " seconds=" + secs +
             " peak_rss_kb=" + std::to_string(usage.ru_maxrss));
}

} // namespace

void handle_quit(Session& s, const CommandLine& cmd) {
    if (!cmd.args.empty())
        return s.writer.err("QUIT takes no argument");
    s.done = true;
    s.state = Pop3State::update;
    set_session_title(s);
    // RFC 2449 §6.6: expired messages go with the DELEted ones.
    std::vector<bool> deleting = s.deleted;
    const size_t expired = add_expired(s, deleting);
    size_t left = 0;
    for (bool d : deleting)
        left += d ? 0 : 1;
    auto committed = s.maildrop->commit(deleting);
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
    if (expired > 0)
        log_info("expired: user=" + s.user + " messages=" + std::to_string(expired));
    log_logout(s, "quit");
    s.writer.ok("Bye (" + std::to_string(left) + (left == 1 ? " message" : " messages") + " left)");
}

void abandon_session(Session& s, const char* why) {
    if (!s.maildrop)
        return;
    // Nothing is deleted: RFC 1939 §6 removes messages only in UPDATE.
    std::vector<bool> none(s.deleted.size(), false);
    save_policy_state_for(s, none); // this session's retrievals count
    if (auto put_back = s.maildrop->commit(none); !put_back) {
        log_error(
            "returning mail to the spool for user=" + s.user +
            " failed, it stays in the drop until the next login: " + put_back.error().message());
    }
    s.maildrop.reset();
    s.stats.deleted = 0;
    log_logout(s, why);
}

} // namespace popper
