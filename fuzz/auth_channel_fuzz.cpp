// libFuzzer target for the messages of privilege separation (see
// fuzz/run-fuzzers): what the privileged session process accepts from a
// pre-login process (REQUEST, HANDOVER, ENDED), what a pooled pre-login
// process accepts at the start of a connection (CHALLENGES), and what the
// listener accepts from a pooled process (IDLE). A pre-login process may be
// compromised, so any datagram must be either a well-formed message or an
// error, never a crash or a message that breaks the field rules.
//
// Input: one byte choosing the receiver, then the datagram.
#include "popper/auth_channel.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/socket.h>

namespace {

void require(bool condition) {
    if (!condition)
        std::abort();
}

bool nul_free(const std::string& s) {
    return s.find('\0') == std::string::npos;
}

struct Pair {
    int send_end = -1, receive_end = -1;
    Pair() {
        int fds[2];
        require(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
        send_end = fds[0];
        receive_end = fds[1];
        int size = 1 << 20;
        ::setsockopt(send_end, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Pair pair;
    // An empty datagram reads as end of file; that case has unit tests.
    if (size < 2 || size > popper::kMaxAuthMessageOctets + 16)
        return 0;
    const char* bytes = reinterpret_cast<const char*>(data) + 1;
    size_t length = size - 1;
    if (::send(pair.send_end, bytes, length, 0) != static_cast<ssize_t>(length))
        return 0;
    switch (data[0] % 3) {
    case 0: {
        auto got = popper::receive_auth_message(pair.receive_end);
        if (!got || !*got)
            break;
        const auto& m = **got;
        require(int(m.request.has_value()) + int(m.handover.has_value()) +
                    int(m.ended.has_value()) ==
                1);
        if (m.request)
            require(nul_free(m.request->mechanism) && nul_free(m.request->user) &&
                    nul_free(m.request->challenge));
        if (m.handover)
            require(nul_free(m.handover->user));
        break;
    }
    case 1: {
        auto got = popper::receive_login_challenges(pair.receive_end);
        if (!got)
            break;
        require(nul_free(got->apop_stamp));
        for (const auto& c : got->cram)
            require(nul_free(c));
        // What was accepted goes back out as the same datagram.
        require(static_cast<bool>(popper::send_login_challenges(pair.send_end, *got)));
        auto again = popper::receive_login_challenges(pair.receive_end);
        require(again && again->apop_stamp == got->apop_stamp && again->cram == got->cram);
        break;
    }
    default: {
        auto got = popper::receive_preauth_report(pair.receive_end);
        if (got)
            require(*got && length == 5);
        break;
    }
    }
    return 0;
}
