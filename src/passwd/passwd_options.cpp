// popper-passwd's command line (passwd_options.h).
#include "passwd_options.h"

#include <cstdint>
#include <getopt.h>
#include <limits>
#include <string_view>

namespace popper::passwd {
namespace {

struct CommandWord {
    std::string_view word;
    Command command;
};

constexpr CommandWord kCommandWords[] = {
    {"add", Command::add},       {"passwd", Command::passwd}, {"disable", Command::disable},
    {"enable", Command::enable}, {"delete", Command::remove}, {"apop", Command::apop},
};

std::optional<Command> parse_command(std::string_view word) {
    for (const auto& known : kCommandWords)
        if (known.word == word)
            return known.command;
    return std::nullopt;
}

// An id as the users file takes it: decimal, 1..2^32-2.
std::optional<uint32_t> parse_id(const char* text) {
    uint64_t value = 0;
    if (*text == '\0')
        return std::nullopt;
    for (const char* p = text; *p; ++p) {
        if (*p < '0' || *p > '9')
            return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(*p - '0');
        if (value >= std::numeric_limits<uint32_t>::max())
            return std::nullopt;
    }
    if (value == 0)
        return std::nullopt;
    return static_cast<uint32_t>(value);
}

int usage_error(const std::string& text) {
    say(text + " (popper-passwd -h for help)");
    return kExitUsage;
}

enum LongOption { kUid = 256, kGid, kHome, kMailbox, kStdin, kClear, kApopFile };

// Reads the options before the command word; returns an exit code when the
// program should stop.
std::optional<int> parse_flags(int argc, char** argv, Options& o) {
    static const option kLong[] = {
        {"uid", required_argument, nullptr, kUid},
        {"gid", required_argument, nullptr, kGid},
        {"home", required_argument, nullptr, kHome},
        {"mailbox", required_argument, nullptr, kMailbox},
        {"stdin", no_argument, nullptr, kStdin},
        {"clear", no_argument, nullptr, kClear},
        {"apop-file", required_argument, nullptr, kApopFile},
        {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, 'V'},
        {nullptr, 0, nullptr, 0},
    };
    int opt;
    while ((opt = ::getopt_long(argc, argv, "c:f:hV", kLong, nullptr)) != -1) {
        switch (opt) {
        case 'c':
            o.config_path = optarg;
            break;
        case 'f':
            o.users_file = optarg;
            break;
        case kApopFile:
            o.apop_file = optarg;
            break;
        case kStdin:
            o.from_stdin = true;
            break;
        case kClear:
            o.clear = true;
            break;
        case kUid:
        case kGid: {
            auto id = parse_id(optarg);
            if (!id)
                return usage_error(std::string(opt == kUid ? "--uid" : "--gid") +
                                   " wants a number from 1 to 4294967294");
            (opt == kUid ? o.entry.uid : o.entry.gid) = *id;
            o.has_entry_options = true;
            break;
        }
        case kHome:
            o.entry.home = optarg;
            o.has_entry_options = true;
            break;
        case kMailbox:
            o.entry.mailbox = optarg;
            o.has_entry_options = true;
            if (o.entry.mailbox.empty() || o.entry.mailbox.front() != '/')
                return usage_error("--mailbox wants an absolute path");
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        case 'V':
            std::printf("popper-passwd %s\n", POPPER_VERSION);
            return 0;
        default:
            return usage_error("bad option");
        }
    }
    return std::nullopt;
}

// Checks that the options given go with the command.
std::optional<int> check_combination(const Options& o) {
    if (o.has_entry_options && o.command != Command::add)
        return usage_error("--uid, --gid, --home and --mailbox go with add only");
    if (o.clear && o.command != Command::apop)
        return usage_error("--clear goes with apop only");
    const bool reads_secret = o.command == Command::add || o.command == Command::passwd ||
                              (o.command == Command::apop && !o.clear);
    if (o.from_stdin && !reads_secret)
        return usage_error("--stdin goes with add, passwd and apop only");
    return std::nullopt;
}

} // namespace

void print_usage(std::FILE* to) {
    std::fprintf(
        to,
        "usage: popper-passwd [-c CONF] [-f USERS_FILE] [--apop-file FILE] COMMAND USER [options]\n"
        "commands:\n"
        "  add USER [--uid N] [--gid N] [--home DIR] [--mailbox PATH] [--stdin]\n"
        "  passwd USER [--stdin]     set a new password\n"
        "  disable USER              refuse logins, keeping the password\n"
        "  enable USER               allow logins again\n"
        "  delete USER               remove the user (and the APOP secret)\n"
        "  apop USER [--stdin]       set the APOP / CRAM-MD5 secret\n"
        "  apop --clear USER         remove it\n"
        "  -c CONF   popperd configuration naming the users file (default " POPPER_DEFAULT_CONFIG
        ")\n"
        "  -f FILE   users file (default: users_file of the configuration)\n"
        "  --apop-file FILE  APOP secrets file (default " POPPER_DEFAULT_APOP_SECRETS ")\n"
        "  --stdin   read the password or secret as one line from standard input\n");
}

std::optional<int> parse_options(int argc, char** argv, Options& o) {
    if (auto stop = parse_flags(argc, argv, o))
        return stop;
    if (argc - optind != 2)
        return usage_error("want a command and a user name");
    auto command = parse_command(argv[optind]);
    if (!command)
        return usage_error(std::string("unknown command ") + argv[optind]);
    o.command = *command;
    o.user = argv[optind + 1];
    if (!is_valid_user_name(o.user))
        return usage_error("invalid user name (want 1.." + std::to_string(kMaxUserNameOctets) +
                           " of A-Z a-z 0-9 . _ @ + -, not starting with . or -)");
    return check_combination(o);
}

void say(const std::string& text) {
    std::fprintf(stderr, "popper-passwd: %s\n", text.c_str());
}

} // namespace popper::passwd
