// A private mail host for one test: a temporary directory holding spool/,
// drop/, a users file and a popperd.conf that points only inside it. Nothing
// is shared between tests, so `ctest -j` runs them side by side.
//
// Run as root (CI), the daemon serves each user as that user's uid: every
// user is then uid:gid 65534:65534 (nobody:nogroup) and spool/, drop/ and the
// spools are theirs; the directory is 0755 so they can reach them. Run as an
// ordinary user, everything belongs to the current uid/gid.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace popper::test {

// Reads a whole file; nullopt when it cannot be opened.
std::optional<std::string> read_file(const std::string& path);
// Creates or truncates `path` and writes `bytes`; throws on failure.
void write_file(const std::string& path, std::string_view bytes, mode_t mode = 0600);
bool path_exists(const std::string& path); // lstat: a dangling symlink exists

class MailHost {
public:
    MailHost();
    ~MailHost();
    MailHost(const MailHost&) = delete;
    MailHost& operator=(const MailHost&) = delete;

    const std::string& dir() const { return dir_; }
    std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }
    std::string spool_dir() const { return path("spool"); }
    std::string drop_dir() const { return path("drop"); }
    std::string users_file() const { return path("users"); }
    std::string config_path() const { return path("popperd.conf"); }
    std::string pidfile_path() const { return path("popperd.pid"); }
    std::string spool_path(std::string_view user) const;
    // The session's drop file (include/popper/maildrop.h): drop_dir/USER.pop.
    std::string drop_path(std::string_view user) const;

    // Owner of every mailbox: 65534:65534 under root, else ourselves.
    uid_t mail_uid() const { return uid_; }
    gid_t mail_gid() const { return gid_; }
    // chown (lchown) to the mailbox owner when running as root; no-op otherwise.
    void give_to_mail_owner(const std::string& path) const;

    // Users file lines, hashed with SHA-512 crypt(3) and a fixed salt.
    void add_user(std::string_view name, std::string_view password);
    // "!" before the hash: POP access disabled (answered like a bad password).
    void add_disabled_user(std::string_view name, std::string_view password);
    void add_users_line(std::string_view line);

    // The spool of `user`, owned by the mailbox owner, mode 0600.
    void write_spool(std::string_view user, std::string_view bytes) const;
    // The spool's bytes; an empty string and a test failure when it is missing.
    std::string read_spool(std::string_view user) const;
    bool spool_exists(std::string_view user) const { return path_exists(spool_path(user)); }
    // Appends `bytes` as an MTA does: under the dotlock and an fcntl lock.
    void deliver(std::string_view user, std::string_view bytes) const;

    // popperd.conf is rewritten at each change. set_config replaces every
    // line of `key` (or appends one); add_config appends (e.g. a 2nd listen).
    void set_config(std::string_view key, std::string_view value);
    void add_config(std::string_view key, std::string_view value);
    void remove_config(std::string_view key);
    // Replaces the file with `text`, e.g. a broken config (until next change).
    void write_config_text(std::string_view text) const;
    std::string config_text() const;

private:
    void write_config() const;
    void write_users() const;

    std::string dir_;
    uid_t uid_;
    gid_t gid_;
    std::vector<std::pair<std::string, std::string>> config_;
    std::vector<std::string> users_lines_;
};

// The spool locks an MTA takes (dotlock `<spool>.lock`, then fcntl on the
// spool), held for the life of the object. Throws when they cannot be had
// within kDefaultWait.
class HeldSpoolLock {
public:
    HeldSpoolLock(const MailHost& host, std::string_view user);
    ~HeldSpoolLock();
    HeldSpoolLock(const HeldSpoolLock&) = delete;
    HeldSpoolLock& operator=(const HeldSpoolLock&) = delete;

    int spool_fd() const { return spool_fd_; } // open read-write, created if missing

private:
    std::string dotlock_path_;
    int spool_fd_ = -1;
};

} // namespace popper::test
