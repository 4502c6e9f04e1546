// Errors as values: the message an administrator reads, and the kind that
// decides how a failure is answered (RFC 3206 for a client).
#include "popper/result.h"

#include <cerrno>
#include <gtest/gtest.h>

namespace popper {
namespace {

TEST(Error, MessageNamesTheOperationThePathAndTheSystemCause) {
    EXPECT_EQ(Error::from_errno("open", "/var/mail/alice", EACCES).message(),
              "open /var/mail/alice: Permission denied");
}

TEST(Error, ADetailReplacesTheSystemCause) {
    EXPECT_EQ(Error::permanent("refuse", "/var/mail/alice", "is a symlink").message(),
              "refuse /var/mail/alice: is a symlink");
    EXPECT_EQ(Error::because("parse", "", "bad line").message(), "parse: bad line");
}

TEST(Error, EachFactoryGivesTheKindItNames) {
    EXPECT_TRUE(Error::in_use("dotlock", "/var/mail/alice.lock", "held").is(ErrorKind::in_use));
    EXPECT_TRUE(Error::permanent("refuse", "x", "not mail").is(ErrorKind::permanent));
    EXPECT_TRUE(Error::because("update", "x", "drop file shrank").is(ErrorKind::temporary));
    EXPECT_EQ(Error::permanent("refuse", "x", "y").errnum, 0);
}

TEST(Error, ASystemCallsErrnoGivesItsKind) {
    EXPECT_EQ(Error::from_errno("fcntl lock", "x", EWOULDBLOCK).kind, ErrorKind::in_use);
    for (int permanent : {ELOOP, EISDIR, ENODEV, EMLINK, EPERM, EILSEQ})
        EXPECT_EQ(Error::from_errno("open", "x", permanent).kind, ErrorKind::permanent)
            << permanent;
    for (int temporary : {EIO, ENOSPC, EACCES, ENOENT, EINTR, 0})
        EXPECT_EQ(Error::from_errno("write", "x", temporary).kind, ErrorKind::temporary)
            << temporary;
}

} // namespace
} // namespace popper
