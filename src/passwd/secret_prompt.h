// Reading a new password or APOP secret for popper-passwd: typed twice on
// the terminal with echo off, or one line from standard input (--stdin).
#pragma once

#include "popper/result.h"

#include <string>

namespace popper::passwd {

// One line, without "\n" or "\r\n", from standard input when `from_stdin`,
// else from /dev/tty, asked twice ("New WHAT: ", "Retype new WHAT: ") with
// echo off, which a signal at the prompt turns back on. Refuses an empty
// line, one too long to be a secret (kMaxApopSecretOctets), and two
// entries that differ.
// `what` names the secret in prompts and errors ("password"); `user` too.
Result<std::string> read_secret(bool from_stdin, const std::string& what, const std::string& user);

} // namespace popper::passwd
