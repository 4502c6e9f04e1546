// A Session (popper/session.h) in the test process, on one end of a
// socketpair: a protocol rule is tested by dispatching a command line and
// reading the reply bytes, with no daemon, no pre-login process and no TCP.
//
// Credentials are checked in this process (check_credentials, against the
// config's users file), as a session without an auth channel does. A login
// that is granted would make this process the mailbox owner (become_user), so
// tests use credentials that fail, or set the state themselves.
#pragma once

#include "popper/config.h"
#include "popper/credentials.h"
#include "popper/io.h"
#include "popper/session.h"
#include "support/mail_host.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace popper::test {

// The config of `host`'s popperd.conf, as popperd loads it; a test failure
// and the defaults when it does not load.
Config config_of(const MailHost& host);

class InProcessSession {
public:
    // `context` holds the login's challenges (APOP stamp, CRAM-MD5); by
    // default those of make_auth_context(config). `config` must outlive this.
    explicit InProcessSession(const Config& config);
    InProcessSession(const Config& config, AuthContext context);
    // A client that is not "local": an address, or a session under TLS.
    InProcessSession(const Config& config, PeerInfo peer);
    InProcessSession(const InProcessSession&) = delete;
    InProcessSession& operator=(const InProcessSession&) = delete;

    // Dispatches `line` (without CRLF) and returns every reply byte it wrote.
    std::string command(std::string_view line);
    // Bytes the client has sent before the next command: continuation lines
    // that a command reads itself (AUTH), or pipelined commands.
    void client_sends(std::string_view bytes);

    Session& session() { return session_; }
    const AuthContext& context() const { return context_; }

private:
    InProcessSession(const Config& config, AuthContext context,
                     std::pair<UniqueFd, UniqueFd> client_and_server, PeerInfo peer);
    // Everything the session has written so far.
    std::string replies();

    UniqueFd client_;
    UniqueFd server_;
    AuthContext context_;
    Session session_;
};

// The fixture of in-process tests: a private MailHost with one user, alice
// (password wonderland), and its config, which a test may change before it
// builds an InProcessSession.
class InProcessTest : public ::testing::Test {
protected:
    static constexpr std::string_view kUser = "alice";
    static constexpr std::string_view kPassword = "wonderland";

    InProcessTest() {
        host.add_user(kUser, kPassword);
        config = config_of(host);
    }

    MailHost host;
    Config config;
};

} // namespace popper::test
