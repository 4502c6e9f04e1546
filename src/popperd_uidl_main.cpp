// popperd-uidl: captures the UIDLs of the POP3 server popperd replaces
// (capture) and reads the maps it wrote (check). Its command line is
// src/capture/capture_options.h, the capture src/capture/capture.h; here
// popperd's configuration names drop_dir and the users.
#include "capture/capture_options.h"
#include "popper/config.h"

int main(int argc, char** argv) {
    using namespace popper::capture;
    Options options;
    if (auto stop = parse_options(argc, argv, options))
        return *stop;
    auto config = popper::load_config(options.config_path);
    if (!config) {
        say(config.error().message());
        return popper::kExitConfigError;
    }
    return options.command == Command::capture ? run_capture(options, *config)
                                               : run_check(options, *config);
}
