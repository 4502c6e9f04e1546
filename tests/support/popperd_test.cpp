#include "support/popperd_test.h"

#include <stdexcept>
#include <string>

namespace popper::test {

std::string PopperdTest::bye_reply(size_t messages_left) {
    return "+OK Bye (" + std::to_string(messages_left) +
           (messages_left == 1 ? " message" : " messages") + " left)";
}

Daemon& PopperdTest::daemon() {
    if (!daemon_)
        daemon_ = std::make_unique<Daemon>(host);
    return *daemon_;
}

PopClient PopperdTest::connect() {
    PopClient client = daemon().connect();
    EXPECT_EQ(client.read_line(), kGreeting);
    return client;
}

PopClient PopperdTest::login() {
    PopClient client = connect();
    if (auto ok = client.login(kUser, kPassword); !ok)
        throw std::runtime_error(std::string(ok.message()) + "\npopperd log:\n" +
                                 daemon().log_text());
    return client;
}

} // namespace popper::test
