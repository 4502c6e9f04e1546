// popper-passwd: adds, changes, disables, enables and deletes popperd users
// and sets or clears their APOP secrets. Its command line is
// src/passwd/passwd_options.h, its commands src/passwd/passwd_commands.h;
// here popperd's configuration names the files that they change.
#include "passwd/passwd_commands.h"
#include "passwd/passwd_options.h"
#include "popper/config.h"

namespace {

using namespace popper::passwd;

// The users file from -f or else the configuration's users_file; the
// secrets file from --apop-file or else its apop_secrets_file. The
// configuration is read only when a file the command uses comes from it,
// and is an error only when the users file does; a secrets file it cannot
// name is POPPER_DEFAULT_APOP_SECRETS.
popper::Result<Files> files_for(const Options& o) {
    Files files;
    files.users_file = o.users_file.value_or("");
    files.apop_file = o.apop_file.value_or(POPPER_DEFAULT_APOP_SECRETS);
    const bool need_users = !o.users_file && o.command != Command::apop;
    const bool need_apop =
        !o.apop_file && (o.command == Command::apop || o.command == Command::remove);
    if (!need_users && !need_apop)
        return files;
    auto config = popper::load_config(o.config_path);
    if (!config) {
        if (need_users)
            return config.error();
        return files;
    }
    if (need_users)
        files.users_file = config->users_file;
    if (need_apop)
        files.apop_file = config->apop_secrets_file;
    return files;
}

} // namespace

int main(int argc, char** argv) {
    Options options;
    if (auto stop = parse_options(argc, argv, options))
        return *stop;
    auto files = files_for(options);
    if (!files) {
        say(files.error().message());
        return popper::kExitConfigError;
    }
    if (auto status = run_command(options, *files); !status) {
        say(status.error().message());
        return kExitError;
    }
    return 0;
}
