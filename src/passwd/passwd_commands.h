// popper-passwd's commands, one function each: every file change goes
// through include/popper/users_file_edit.h, so popperd reading the file
// meanwhile sees the old text or the new, never a mix.
#pragma once

#include "passwd_options.h"
#include "popper/result.h"

#include <string>

namespace popper::passwd {

// The files a command works on, from the options and the configuration.
struct Files {
    std::string users_file;
    std::string apop_file;
};

// add: a new user with a password read by read_secret; --uid, --gid,
// --home and --mailbox fill in the entry.
Status add_user_command(const Options& options, const Files& files);
// passwd: a new password for an existing user.
Status passwd_command(const Options& options, const Files& files);
// disable, enable: a '!' before the hash, or taken away; says so when the
// user was already in that state.
Status disable_command(const Options& options, const Files& files);
Status enable_command(const Options& options, const Files& files);
// delete: the user's lines, and their APOP secret if the secrets file exists.
Status delete_command(const Options& options, const Files& files);
// apop: sets the APOP / CRAM-MD5 secret, or with --clear removes it.
Status apop_command(const Options& options, const Files& files);

// The command options.command names.
Status run_command(const Options& options, const Files& files);

} // namespace popper::passwd
