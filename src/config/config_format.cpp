// format_config: the effective configuration in conf-file syntax (popperd -n).
#include "config_values.h"

namespace popper {

std::string format_config(const Config& config) {
    std::string out;
    for (const auto& key : conf::config_keys()) {
        for (const auto& value : key.values(config)) {
            out += key.name;
            out += value.empty() ? " =" : " = ";
            out += value;
            out += '\n';
        }
    }
    return out;
}

} // namespace popper
