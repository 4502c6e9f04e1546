// load_config: reads a conf file (bounded in size) and parses it.
#include "popper/config.h"
#include "popper/io.h"

#include <fcntl.h>

namespace popper {

Result<Config> load_config(const std::string& path) {
    auto fd = open_file(path, O_RDONLY);
    if (!fd)
        return fd.error();
    std::string text;
    char buf[16384];
    for (;;) {
        auto n = read_some(fd->get(), buf, sizeof buf, path);
        if (!n)
            return n.error();
        if (*n == 0)
            break;
        if (text.size() + *n > kMaxConfigFileOctets) {
            return Error::because("read", path,
                                  "larger than " + std::to_string(kMaxConfigFileOctets) +
                                      " octets (not a conf file?)");
        }
        text.append(buf, *n);
    }
    return parse_config(text, path);
}

} // namespace popper
