// Locking a spool the way MTAs and MUAs do, so neither side ever sees half a
// rewrite: a dotlock `<spool>.lock` created NFS-safely (unique file + link(2)
// + link count), then fcntl and/or flock on the spool itself.
#pragma once

#include "popper/config.h"
#include "popper/io.h"
#include "popper/result.h"

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace popper {

struct LockSettings {
    std::vector<LockMethod> methods = {LockMethod::dotlock, LockMethod::fcntl};
    unsigned timeout_s = 30;
    unsigned dotlock_stale_s = 600;
};

// The error is of kind in_use when another process still held a lock at the
// end of the timeout; the session answers that with -ERR [IN-USE].
class SpoolLock {
public:
    SpoolLock() = default;
    SpoolLock(SpoolLock&& other) noexcept;
    SpoolLock& operator=(SpoolLock&& other) noexcept;
    SpoolLock(const SpoolLock&) = delete;
    SpoolLock& operator=(const SpoolLock&) = delete;
    ~SpoolLock();

    // `spool_fd` is an open descriptor of the spool (fcntl/flock act on it),
    // or -1 when the spool does not exist yet (only the dotlock is taken).
    static Result<SpoolLock> acquire(const std::string& spool_path, int spool_fd,
                                     const LockSettings& settings);
    void release();

private:
    std::string dotlock_path_; // empty when we hold no dotlock
    int locked_fd_ = -1;       // not owned: the caller keeps the spool open
    bool fcntl_held_ = false;
    bool flock_held_ = false;
};

// The exclusive lock that allows one POP session per mailbox: an fcntl lock
// on `path` (created 0600 if missing). An in_use error when held.
Result<UniqueFd> take_session_lock(const std::string& path);
// The pid of the process holding the session lock on `path` (fcntl F_GETLK),
// for a takeover; nullopt when it is free, missing, or held by a process
// this one cannot name (another pid namespace).
std::optional<pid_t> session_lock_holder(const std::string& path);

} // namespace popper
