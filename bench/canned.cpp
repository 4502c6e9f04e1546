// canned: a do-nothing POP3 responder, the upper bound for the RETR client.
//
//   canned --mbox FILE [--port 0]
//
// Reads the mbox once, prebuilds every RETR reply in wire form (RFC 1939 §3:
// mboxrd ">From " unescaped, LF -> CRLF, dot-stuffed, ".\r\n") and then
// answers USER, PASS, STAT, LIST, UIDL, RETR, DELE, NOOP, RSET, CAPA and
// QUIT without looking at anything else: one write per reply, one
// connection at a time. It prints "canned listening on 127.0.0.1:PORT".
// The splitting rule is the same as popperd's and Dovecot's for the files
// mboxgen writes: a message ends at the empty line before the next From_
// line (or at the end of the file).
#include "tool.h"

#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

struct Message {
    uint64_t octets = 0; // LIST size: wire form before dot-stuffing
    std::string retr;    // "+OK ...\r\n" + dot-stuffed body + ".\r\n"
};

bool escaped_from(std::string_view line) {
    size_t i = line.find_first_not_of('>');
    return i != 0 && i != std::string_view::npos && line.substr(i).starts_with("From ");
}

Message encode(std::string_view stored) {
    std::string body;
    body.reserve(stored.size() + stored.size() / 32 + 8);
    uint64_t octets = 0;
    for (size_t pos = 0; pos < stored.size();) {
        size_t lf = stored.find('\n', pos);
        size_t end = lf == std::string_view::npos ? stored.size() : lf + 1;
        std::string_view line = stored.substr(pos, end - pos);
        pos = end;
        if (line.ends_with('\n'))
            line.remove_suffix(1);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        if (escaped_from(line))
            line.remove_prefix(1);
        octets += line.size() + 2;
        if (line.starts_with('.'))
            body += '.';
        body.append(line);
        body += "\r\n";
    }
    Message m;
    m.octets = octets;
    m.retr = "+OK " + std::to_string(octets) + " octets\r\n" + body + ".\r\n";
    return m;
}

std::vector<Message> read_mbox(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw bench::Failure("cannot read " + path);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!data.empty() && !data.starts_with("From "))
        throw bench::Failure(path + ": not an mbox");
    std::vector<Message> messages;
    size_t pos = 0;
    while (pos < data.size()) {
        size_t start = data.find('\n', pos); // end of the From_ line
        start = start == std::string::npos ? data.size() : start + 1;
        size_t next = data.find("\n\nFrom ", start - 1);
        size_t end = next == std::string::npos ? data.size() : next + 1;
        std::string_view stored(data.data() + start, end - start);
        if (next == std::string::npos && stored.ends_with("\n\n"))
            stored.remove_suffix(1); // the last separator
        messages.push_back(encode(stored));
        pos = next == std::string::npos ? data.size() : next + 2;
    }
    return messages;
}

class Replies {
public:
    explicit Replies(std::vector<Message> messages) : messages_(std::move(messages)) {
        uint64_t total = 0;
        list_ = "+OK scan listing follows\r\n";
        uidl_ = "+OK unique-id listing follows\r\n";
        for (size_t i = 0; i < messages_.size(); ++i) {
            total += messages_[i].octets;
            std::string n = std::to_string(i + 1);
            list_ += n + " " + std::to_string(messages_[i].octets) + "\r\n";
            uidl_ += n + " canned" + n + "\r\n";
        }
        list_ += ".\r\n";
        uidl_ += ".\r\n";
        stat_ = "+OK " + std::to_string(messages_.size()) + " " + std::to_string(total) + "\r\n";
    }

    // The reply to one command line (without CRLF); `quit` set by QUIT.
    const std::string& answer(std::string_view line, bool& quit) {
        std::string verb(line.substr(0, line.find(' ')));
        for (char& c : verb)
            c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        std::string_view arg = line.find(' ') == std::string_view::npos
                                   ? std::string_view()
                                   : line.substr(line.find(' ') + 1);
        if (verb == "RETR" || verb == "LIST") {
            if (arg.empty())
                return verb == "LIST" ? list_ : err_;
            size_t n = std::strtoul(std::string(arg).c_str(), nullptr, 10);
            if (n == 0 || n > messages_.size())
                return err_;
            if (verb == "RETR")
                return messages_[n - 1].retr;
            scratch_ =
                "+OK " + std::string(arg) + " " + std::to_string(messages_[n - 1].octets) + "\r\n";
            return scratch_;
        }
        if (verb == "STAT")
            return stat_;
        if (verb == "UIDL")
            return uidl_;
        if (verb == "CAPA")
            return capa_;
        if (verb == "QUIT") {
            quit = true;
            return bye_;
        }
        if (verb == "USER" || verb == "PASS" || verb == "DELE" || verb == "NOOP" || verb == "RSET")
            return ok_;
        return err_;
    }

private:
    std::vector<Message> messages_;
    std::string list_, uidl_, stat_, scratch_;
    std::string ok_ = "+OK\r\n", err_ = "-ERR canned\r\n", bye_ = "+OK bye\r\n";
    std::string capa_ = "+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n";
};

bool write_all(int fd, const std::string& data) {
    for (size_t done = 0; done < data.size();) {
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

void serve(int fd, Replies& replies) {
    static const std::string greeting = "+OK canned POP3 responder\r\n";
    if (!write_all(fd, greeting))
        return;
    std::string in;
    char chunk[4096];
    bool quit = false;
    while (!quit) {
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        in.append(chunk, static_cast<size_t>(n));
        size_t start = 0;
        for (size_t lf; !quit && (lf = in.find('\n', start)) != std::string::npos; start = lf + 1) {
            std::string_view line(in.data() + start, lf - start);
            if (line.ends_with('\r'))
                line.remove_suffix(1);
            if (!write_all(fd, replies.answer(line, quit)))
                return;
        }
        in.erase(0, start);
    }
}

} // namespace

int main(int argc, char** argv) {
    try {
        bench::Flags flags(argc, argv, 1);
        Replies replies(read_mbox(flags.required("mbox")));
        int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(flags.integer("port", 0)));
        socklen_t len = sizeof addr;
        if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener, 64) != 0 ||
            ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw bench::Failure(std::string("listen: ") + std::strerror(errno));
        std::printf("canned listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
        std::fflush(stdout);
        std::signal(SIGPIPE, SIG_IGN);
        for (;;) {
            int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                throw bench::Failure(std::string("accept: ") + std::strerror(errno));
            }
            serve(fd, replies);
            ::close(fd);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "canned: %s\n", e.what());
        return 1;
    }
}
