// The fixture most integration tests share: a private MailHost with one user
// (alice), and a daemon started on first use, so a test may change the
// config or the spool before it starts.
#pragma once

#include "support/byte_compare.h"
#include "support/mail_host.h"
#include "support/mbox_text.h"
#include "support/pop_client.h"
#include "support/popperd_process.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace popper::test {

class PopperdTest : public ::testing::Test {
protected:
    static constexpr std::string_view kUser = "alice";
    static constexpr std::string_view kPassword = "wonderland";
    // popperd's greeting, which the pre-login process sends on connect
    // (RFC 1939 §4); no APOP timestamp follows, as the fixture offers no APOP.
    static constexpr std::string_view kGreeting = "+OK popperd ready";

    PopperdTest() { host.add_user(kUser, kPassword); }

    // popperd's answer to QUIT in TRANSACTION, once UPDATE has removed the
    // deleted messages (RFC 1939 §6).
    static std::string bye_reply(size_t messages_left);

    // The daemon, started with the config as it is at the first call.
    Daemon& daemon();
    // A new connection whose greeting has been read and checked.
    PopClient connect();
    // connect(), then USER/PASS as alice; throws when the login is refused.
    PopClient login();

    MailHost host;

private:
    std::unique_ptr<Daemon> daemon_; // declared after host: stopped before it goes
};

} // namespace popper::test
