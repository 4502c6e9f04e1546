// popper-passwd: adds, changes, disables, enables and deletes popperd users
// and sets or clears their APOP secrets. Options and the password prompt
// live here; every file change is made by include/popper/users_file_edit.h.
#include "popper/apop.h"
#include "popper/config.h"
#include "popper/io.h"
#include "popper/sasl.h"
#include "popper/users_file.h"
#include "popper/users_file_edit.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <getopt.h>
#include <limits>
#include <optional>
#include <string>
#include <termios.h>
#include <unistd.h>

#ifndef POPPER_DEFAULT_CONFIG
#define POPPER_DEFAULT_CONFIG "/etc/popperd/popperd.conf"
#endif
// Until popperd's config names it (key apop_secrets_file), --apop-file or this.
#ifndef POPPER_DEFAULT_APOP_SECRETS
#define POPPER_DEFAULT_APOP_SECRETS "/etc/popperd/apop-secrets"
#endif

namespace {

using popper::Error;
using popper::Result;
using popper::Status;

constexpr int kExitError = 1;
constexpr int kExitUsage = 64; // sysexits.h EX_USAGE
// A password or secret is one typed line; longer input is refused, never cut.
constexpr size_t kMaxPasswordOctets = popper::kMaxApopSecretOctets;

void usage(std::FILE *to) {
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

enum class Command { add, passwd, disable, enable, remove, apop };

struct Options {
    std::string config_path = POPPER_DEFAULT_CONFIG;
    std::optional<std::string> users_file;
    std::string apop_file = POPPER_DEFAULT_APOP_SECRETS;
    bool apop_file_given = false; // else popperd's apop_secrets_file
    Command command = Command::add;
    std::string user;
    popper::UserEntry entry; // add: uid, gid, home, mailbox
    bool from_stdin = false;
    bool clear = false;
    bool has_entry_options = false;
};

std::optional<Command> parse_command(std::string_view word) {
    if (word == "add")
        return Command::add;
    if (word == "passwd")
        return Command::passwd;
    if (word == "disable")
        return Command::disable;
    if (word == "enable")
        return Command::enable;
    if (word == "delete")
        return Command::remove;
    if (word == "apop")
        return Command::apop;
    return std::nullopt;
}

// An id as the users file takes it: decimal, 1..2^32-2.
std::optional<uint32_t> parse_id(const char *text) {
    uint64_t value = 0;
    if (*text == '\0')
        return std::nullopt;
    for (const char *p = text; *p; ++p) {
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

void say(const std::string &text) {
    std::fprintf(stderr, "popper-passwd: %s\n", text.c_str());
}

int usage_error(const std::string &text) {
    say(text + " (popper-passwd -h for help)");
    return kExitUsage;
}

enum LongOption { kUid = 256, kGid, kHome, kMailbox, kStdin, kClear, kApopFile };

// Parses argv into `o`; returns an exit code when the program should stop.
std::optional<int> parse_options(int argc, char **argv, Options &o) {
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
            o.apop_file_given = true;
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
            usage(stdout);
            return 0;
        case 'V':
            std::printf("popper-passwd %s\n", POPPER_VERSION);
            return 0;
        default:
            return usage_error("bad option");
        }
    }
    if (argc - optind != 2)
        return usage_error("want a command and a user name");
    auto command = parse_command(argv[optind]);
    if (!command)
        return usage_error(std::string("unknown command ") + argv[optind]);
    o.command = *command;
    o.user = argv[optind + 1];
    if (!popper::is_valid_user_name(o.user))
        return usage_error("invalid user name (want 1.." +
                           std::to_string(popper::kMaxUserNameOctets) +
                           " of A-Z a-z 0-9 . _ @ + -, not starting with . or -)");
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

// ---- reading the password ------------------------------------------------------

// The terminal whose echo is off, restored by the signal handler too, so an
// interrupted prompt never leaves the admin's terminal silent.
int g_tty_fd = -1;
struct termios g_tty_saved;

void restore_tty_and_reraise(int signo) {
    if (g_tty_fd >= 0)
        ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_tty_saved);
    ::signal(signo, SIG_DFL);
    ::raise(signo);
}

// One line from `fd`, byte by byte (nothing past the newline is consumed),
// without its "\n" or "\r\n". Errors on end of input before anything, on a
// line too long, and on read errors.
Result<std::string> read_line(int fd, const std::string &what) {
    std::string line;
    for (;;) {
        char c;
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("read", what);
        if (n == 0 || c == '\n')
            break;
        if (line.size() == kMaxPasswordOctets + 1) {
            popper::wipe_secret(line);
            return Error::because("read", what,
                                  "longer than " + std::to_string(kMaxPasswordOctets) + " octets");
        }
        line += c;
    }
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

// Prompts on /dev/tty with echo off and reads one line. Echo goes off
// before the prompt shows, so nothing typed after it can appear.
Result<std::string> ask_tty(int fd, const std::string &prompt) {
    struct termios quiet = g_tty_saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL; // the newline still shows
    g_tty_fd = fd;
    if (::tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
        return Error::from_errno("tcsetattr", "/dev/tty");
    Result<std::string> line = std::string();
    if (auto shown = popper::write_all(fd, prompt, "/dev/tty"); !shown)
        line = shown.error();
    else
        line = read_line(fd, "/dev/tty");
    ::tcsetattr(fd, TCSAFLUSH, &g_tty_saved);
    g_tty_fd = -1;
    return line;
}

Result<std::string> read_secret_from_tty(const std::string &what) {
    auto tty = popper::open_file("/dev/tty", O_RDWR | O_NOCTTY);
    if (!tty)
        return Error::because("read " + what, "", "no terminal to ask on: use --stdin");
    if (::tcgetattr(tty->get(), &g_tty_saved) != 0)
        return Error::from_errno("tcgetattr", "/dev/tty");
    for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        ::signal(signo, restore_tty_and_reraise);
    // Stopped at the prompt, the shell would get a terminal without echo.
    ::signal(SIGTSTP, SIG_IGN);
    auto first = ask_tty(tty->get(), "New " + what + ": ");
    if (!first)
        return first;
    auto second = ask_tty(tty->get(), "Retype new " + what + ": ");
    if (!second)
        return second;
    const bool same = *first == *second;
    popper::wipe_secret(*second);
    if (!same) {
        popper::wipe_secret(*first);
        return Error::because("read " + what, "", "the two entries differ; nothing changed");
    }
    return first;
}

Result<std::string> read_secret(const Options &o, const std::string &what) {
    auto secret = o.from_stdin ? read_line(STDIN_FILENO, "standard input")
                               : read_secret_from_tty(what + " for " + o.user);
    if (secret && secret->empty())
        return Error::because("read " + what, "", "empty; nothing changed");
    return secret;
}

// ---- the commands ----------------------------------------------------------------

// The users file as it is now ("" when missing), for a dry run of an edit
// before the password is asked for.
Result<std::string> current_text(const std::string &path) {
    auto file = popper::read_text_file(path, popper::kMaxUsersFileOctets);
    if (!file && file.error().errnum == ENOENT)
        return std::string();
    if (!file)
        return file.error();
    return std::move(file->text);
}

Status dry_run(const Options &o, const std::string &users_file) {
    auto text = current_text(users_file);
    if (!text)
        return text.error();
    // A placeholder hash: the real one costs a slow crypt and a typed password.
    constexpr std::string_view kPlaceholder = "$placeholder$";
    Result<std::string> edited = std::string();
    if (o.command == Command::add) {
        popper::UserEntry probe = o.entry;
        probe.name = o.user;
        probe.hash = kPlaceholder;
        edited = popper::users_text_add(*text, probe);
    } else {
        edited = popper::users_text_set_hash(*text, o.user, kPlaceholder);
    }
    if (!edited) {
        Error error = edited.error();
        error.path = users_file;
        return error;
    }
    return {};
}

Status set_password(const Options &o, const std::string &users_file) {
    if (auto s = dry_run(o, users_file); !s)
        return s;
    auto password = read_secret(o, "password");
    if (!password)
        return password.error();
    auto hash = popper::make_password_hash(*password);
    popper::wipe_secret(*password);
    if (!hash)
        return hash.error();
    if (o.command == Command::passwd)
        return popper::set_user_hash(users_file, o.user, *hash);
    popper::UserEntry entry = o.entry;
    entry.name = o.user;
    entry.hash = *hash;
    return popper::add_user(users_file, entry);
}

Status set_disabled(const Options &o, const std::string &users_file) {
    const bool disable = o.command == Command::disable;
    auto changed = popper::set_user_disabled(users_file, o.user, disable);
    if (!changed)
        return changed.error();
    if (!*changed)
        say("user " + o.user + " was already " + (disable ? "disabled" : "enabled"));
    return {};
}

Status remove_user(const Options &o, const std::string &users_file) {
    if (auto s = popper::delete_user(users_file, o.user); !s)
        return s;
    // A secret left behind would outlive the account.
    if (::access(o.apop_file.c_str(), F_OK) != 0)
        return {};
    auto cleared = popper::clear_apop_secret(o.apop_file, o.user);
    if (!cleared)
        return cleared.error();
    return {};
}

Status set_apop(const Options &o) {
    if (o.clear) {
        auto cleared = popper::clear_apop_secret(o.apop_file, o.user);
        if (!cleared)
            return cleared.error();
        if (!*cleared)
            say("user " + o.user + " had no APOP secret in " + o.apop_file);
        return {};
    }
    auto secret = read_secret(o, "APOP secret");
    if (!secret)
        return secret.error();
    Status status = popper::set_apop_secret(o.apop_file, o.user, *secret);
    popper::wipe_secret(*secret);
    return status;
}

Status run(const Options &o, const std::string &users_file) {
    switch (o.command) {
    case Command::add:
    case Command::passwd:
        return set_password(o, users_file);
    case Command::disable:
    case Command::enable:
        return set_disabled(o, users_file);
    case Command::remove:
        return remove_user(o, users_file);
    case Command::apop:
        return set_apop(o);
    }
    return {};
}

} // namespace

int main(int argc, char **argv) {
    Options options;
    if (auto stop = parse_options(argc, argv, options))
        return *stop;

    std::string users_file;
    bool need_users = !options.users_file && options.command != Command::apop;
    bool need_apop = !options.apop_file_given &&
                     (options.command == Command::apop || options.command == Command::remove);
    if (need_users || need_apop) {
        auto config = popper::load_config(options.config_path);
        if (!config) {
            if (need_users) {
                say(config.error().message());
                return popper::kExitConfigError;
            }
        } else {
            if (need_users) users_file = config->users_file;
            if (need_apop) options.apop_file = config->apop_secrets_file;
        }
    }
    if (options.users_file) users_file = *options.users_file;
    if (auto status = run(options, users_file); !status) {
        say(status.error().message());
        return kExitError;
    }
    return 0;
}
