// Process titles for ps(1): "popperd: alice [192.0.2.1] TRANSACTION".
#pragma once

#include <string>

namespace popper {

// Must be called first thing in main: takes over argv's memory (moving the
// environment elsewhere) so later titles can be longer than the command line.
void proc_title_init(int argc, char** argv);
void set_proc_title(const std::string& title);

} // namespace popper
