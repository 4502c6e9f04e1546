// popperd: options, configuration, then either one inetd session or the
// standalone listener. Everything else lives in the modules.
#include "popper/apop.h"
#include "popper/auth_policy.h"
#include "popper/config.h"
#include "popper/ip_address.h"
#include "popper/listener.h"
#include "popper/log.h"
#include "popper/preauth_sandbox.h"
#include "popper/prelogin.h"
#include "popper/privileges.h"
#include "popper/proc_title.h"
#include "popper/session.h"
#include "popper/user_policy.h"

#include <cstdio>
#include <string>
#include <unistd.h>

#ifndef POPPER_DEFAULT_CONFIG
#define POPPER_DEFAULT_CONFIG "/etc/popperd/popperd.conf"
#endif

namespace {

constexpr int kExitUsage = 64; // sysexits.h EX_USAGE

void usage(std::FILE* to) {
    std::fprintf(to, "usage: popperd [-c FILE] [-f | -i [-S] [-2]] [-t] [-n] [-V] [-h]\n"
                     "  -c FILE  configuration file (default " POPPER_DEFAULT_CONFIG ")\n"
                     "  -f       stay in the foreground\n"
                     "  -i       inetd mode: serve one session on stdin/stdout\n"
                     "  -S       with -i: TLS was terminated by the program that started us\n"
                     "  -2       with -i: speak POP2 (RFC 937), for inetd on port 109\n"
                     "  -t       check the configuration and exit\n"
                     "  -n       print the effective configuration and exit\n"
                     "  -V       print the version and exit\n"
                     "  -h       this help\n");
}

void note_privileges() {
    if (!popper::running_as_root())
        popper::log_notice("not running as root: every session runs as uid " +
                           std::to_string(::getuid()));
}

int serve_one(const popper::Config& config, int fd, bool tls_terminated,
              popper::Protocol protocol) {
    popper::log_redirect_stderr_to_syslog_if_socket();
    popper::install_session_signals();
    note_privileges();
    popper::PeerInfo peer = popper::inetd_peer(fd, tls_terminated);
    peer.protocol = protocol;
    return popper::run_session(config, fd, fd == STDIN_FILENO ? STDOUT_FILENO : fd, peer, -1);
}

} // namespace

int main(int argc, char** argv) {
    std::string config_path = POPPER_DEFAULT_CONFIG;
    bool foreground = false, inetd = false, check = false, print = false, tls = false;
    bool pop2 = false;
    int opt;
    while ((opt = ::getopt(argc, argv, "c:fiS2tnVh")) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 'i':
            inetd = true;
            break;
        case 'S':
            tls = true;
            break;
        case '2':
            pop2 = true;
            break;
        case 't':
            check = true;
            break;
        case 'n':
            print = true;
            break;
        case 'V':
            std::printf("popperd %s\n", POPPER_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return kExitUsage;
        }
    }
    if (optind != argc || (tls && !inetd) || (pop2 && !inetd)) {
        usage(stderr);
        return kExitUsage;
    }
    popper::proc_title_init(argc, argv); // argv is not read after this

    auto config = popper::load_config(config_path);
    if (!config) {
        std::fprintf(stderr, "popperd: %s\n", config.error().message().c_str());
        return popper::kExitConfigError;
    }
    if (popper::auth_policy(*config, false).needs_secrets()) {
        // The plain secrets of APOP and CRAM-MD5 must be readable by root only.
        if (auto safe = popper::check_secret_file_permissions("apop secrets file",
                                                              config->apop_secrets_file);
            !safe) {
            std::fprintf(stderr, "popperd: %s\n", safe.error().message().c_str());
            return popper::kExitConfigError;
        }
    }
    if (!config->policy_file.empty()) {
        // Read at every login; a broken one refuses every login, so say it now.
        if (auto policy = popper::load_policy_file(config->policy_file); !policy) {
            std::fprintf(stderr, "popperd: %s\n", policy.error().message().c_str());
            return popper::kExitConfigError;
        }
    }
    if (check) {
        std::printf("popperd: configuration %s is valid\n", config_path.c_str());
        return 0;
    }
    if (print) {
        std::fputs(popper::format_config(*config).c_str(), stdout);
        return 0;
    }
    popper::log_open(config->log, config->log_level);
    if (popper::running_as_root()) {
        auto ready = popper::prepare_preauth_chroot(config->preauth_chroot);
        if (ready)
            ready = popper::remember_account_ids(config->unprivileged_user,
                                                 config->mail_privileged_group);
        if (!ready) {
            popper::log_error(ready.error().message());
            std::fprintf(stderr, "popperd: %s\n", ready.error().message().c_str());
            return 1;
        }
    }

    if (inetd)
        return serve_one(*config, STDIN_FILENO, tls,
                         pop2 ? popper::Protocol::pop2 : popper::Protocol::pop3);
    auto inherited = popper::take_systemd_sockets(*config);
    if (inherited.connection_fd >= 0)
        return serve_one(*config, inherited.connection_fd, false, popper::Protocol::pop3);

    std::vector<popper::ListeningSocket> sockets;
    if (!inherited.listening.empty()) {
        popper::log_notice("using " + std::to_string(inherited.listening.size()) +
                           " sockets passed by systemd; listen lines are ignored");
        sockets = std::move(inherited.listening);
    } else {
        auto bound = popper::bind_listeners(*config);
        if (!bound) {
            popper::log_error(bound.error().message());
            std::fprintf(stderr, "popperd: %s\n", bound.error().message().c_str());
            return 1;
        }
        sockets = std::move(*bound);
    }
    if (!foreground) {
        if (auto detached = popper::daemonize(); !detached) {
            popper::log_error(detached.error().message());
            return 1;
        }
    }
    auto pidfile = popper::Pidfile::create(config->pidfile);
    if (!pidfile) {
        popper::log_error("pidfile: " + pidfile.error().message());
        return 1;
    }
    note_privileges();
    return popper::run_listener(std::move(*config), config_path, std::move(sockets));
}
