// popperd-uidl's command line: capture_options.h.
#include "capture_options.h"

#include <charconv>
#include <cstring>
#include <getopt.h>

namespace popper::capture {

namespace {

std::optional<int> usage_error(const std::string& text) {
    say(text);
    print_usage(stderr);
    return kExitUsage;
}

// HOST, HOST:PORT, [V6]:PORT or a bare V6 address.
bool parse_server(std::string_view text, OldServer& server) {
    if (text.empty())
        return false;
    if (text.front() == '[') {
        size_t close = text.find(']');
        if (close == std::string_view::npos)
            return false;
        server.host = text.substr(1, close - 1);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':' || rest.size() == 1)
                return false;
            server.port = rest.substr(1);
        }
        return !server.host.empty();
    }
    size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
        server.host = text.substr(0, colon);
        server.port = text.substr(colon + 1);
        return !server.host.empty() && !server.port.empty();
    }
    server.host = text; // a name, an IPv4 address, or an IPv6 address without a port
    return true;
}

} // namespace

void say(const std::string& text) {
    std::fprintf(stderr, "popperd-uidl: %s\n", text.c_str());
}

void print_usage(std::FILE* to) {
    std::fprintf(
        to, "usage: popperd-uidl capture [-c CONF] [-n] [-t SECONDS] -s HOST[:PORT] -a ACCOUNTS\n"
            "                            [-m MASTER -p MASTER_PASSWORD_FILE [-S SEPARATOR]]\n"
            "       popperd-uidl check [-c CONF] USER...\n"
            "capture: log in to the old POP3 server as each account, record its UIDLs in\n"
            "         DROP_DIR/USER.uidl-map for popperd to list; -n prints them instead.\n"
            "check:   read each user's map as popperd will and say what is in it.\n");
}

std::optional<int> parse_options(int argc, char** argv, Options& o) {
    if (argc < 2)
        return usage_error("which command: capture or check?");
    std::string command = argv[1];
    if (command == "-h" || command == "--help") {
        print_usage(stdout);
        return 0;
    }
    if (command == "-V" || command == "--version") {
        std::printf("popperd-uidl %s\n", POPPER_VERSION);
        return 0;
    }
    if (command == "capture")
        o.command = Command::capture;
    else if (command == "check")
        o.command = Command::check;
    else
        return usage_error("unknown command " + command + " (capture or check)");

    static const option kLong[] = {
        {"config", required_argument, nullptr, 'c'},
        {"dry-run", no_argument, nullptr, 'n'},
        {"timeout", required_argument, nullptr, 't'},
        {"server", required_argument, nullptr, 's'},
        {"accounts", required_argument, nullptr, 'a'},
        {"master", required_argument, nullptr, 'm'},
        {"master-password-file", required_argument, nullptr, 'p'},
        {"separator", required_argument, nullptr, 'S'},
        {"help", no_argument, nullptr, 'h'},
        {nullptr, 0, nullptr, 0},
    };
    std::optional<std::string> master, separator;
    bool have_server = false;
    optind = 2;
    int opt;
    while ((opt = ::getopt_long(argc, argv, "c:nt:s:a:m:p:S:h", kLong, nullptr)) != -1) {
        switch (opt) {
        case 'c':
            o.config_path = optarg;
            break;
        case 'n':
            o.dry_run = true;
            break;
        case 't': {
            int seconds = 0;
            auto [end, ec] = std::from_chars(optarg, optarg + std::strlen(optarg), seconds);
            if (ec != std::errc() || *end != '\0' || seconds < 1 || seconds > 3600)
                return usage_error("-t wants seconds from 1 to 3600");
            o.server.timeout_ms = seconds * 1000;
            break;
        }
        case 's':
            if (!parse_server(optarg, o.server))
                return usage_error("-s wants HOST, HOST:PORT or [IPV6]:PORT");
            have_server = true;
            break;
        case 'a':
            o.accounts_file = optarg;
            break;
        case 'm':
            master = optarg;
            break;
        case 'p':
            o.master_password_file = optarg;
            break;
        case 'S':
            separator = optarg;
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        default:
            return usage_error("bad option");
        }
    }
    for (int i = optind; i < argc; ++i)
        o.users.emplace_back(argv[i]);
    if (o.command == Command::check) {
        if (have_server || !o.accounts_file.empty() || master || o.dry_run)
            return usage_error("check takes -c and user names only");
        if (o.users.empty())
            return usage_error("check: which users?");
        return std::nullopt;
    }
    if (!o.users.empty())
        return usage_error("capture takes its users from -a, not the command line");
    if (!have_server || o.accounts_file.empty())
        return usage_error("capture needs -s HOST[:PORT] and -a ACCOUNTS");
    if (master.has_value() != !o.master_password_file.empty())
        return usage_error("-m and -p go together");
    if (separator && !master)
        return usage_error("-S goes with -m");
    if (master) {
        if (master->empty() || (separator && separator->empty()))
            return usage_error("-m and -S want a non-empty value");
        o.server.master = Master{*master, "", separator.value_or("*")};
    }
    return std::nullopt;
}

} // namespace popper::capture
