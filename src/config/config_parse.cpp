// parse_config: splits the text into lines, strips comments and whitespace,
// and hands each `key = value` to the key table, naming FILE:LINE on error.
#include "config_values.h"

#include <array>
#include <cstdio>
#include <utility>

namespace popper {

namespace {

using conf::ConfigKey;
using conf::shown;

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_blank(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back()))
        text.remove_suffix(1);
    return text;
}

// '#' starts a comment at the start of a line or after a blank, so a value
// such as "/var/mail#1" keeps its '#'.
std::string_view strip_comment(std::string_view line) {
    for (size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '#' && (i == 0 || is_blank(line[i - 1])))
            return line.substr(0, i);
    }
    return line;
}

// Empty when the raw line is acceptable as text, else what is wrong with it.
std::string check_octets(std::string_view line) {
    if (line.size() > kMaxConfigLineOctets) {
        return "line longer than " + std::to_string(kMaxConfigLineOctets) + " octets";
    }
    for (unsigned char c : line) {
        if (c == '\0')
            return "NUL byte in line (not a text file?)";
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", c);
            return std::string("control character ") + hex + " in line (not a text file?)";
        }
    }
    return {};
}

const ConfigKey* find_key(std::string_view name) {
    for (const auto& key : conf::config_keys()) {
        if (key.name == name)
            return &key;
    }
    return nullptr;
}

class ConfigParser {
public:
    explicit ConfigParser(const std::string& source) : source_(source) {
        config_.source_path = source;
        config_.listen.clear(); // listen lines replace the default list
        first_line_.assign(conf::config_keys().size(), 0);
    }

    Status parse_line(std::string_view raw, size_t line_no) {
        line_no_ = line_no;
        // CRLF files from Windows editors; the line end does not count to the limit.
        if (!raw.empty() && raw.back() == '\r')
            raw.remove_suffix(1);
        if (auto problem = check_octets(raw); !problem.empty())
            return fail(problem);
        std::string_view line = trim(strip_comment(raw));
        if (line.empty())
            return {};

        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            std::string_view word = line.substr(0, line.find_first_of(" \t"));
            return fail("missing '=' after " + shown(word));
        }
        std::string_view name = trim(line.substr(0, eq));
        std::string_view value = trim(line.substr(eq + 1));
        if (name.empty())
            return fail("missing key before '='");
        const ConfigKey* key = find_key(name);
        if (key == nullptr)
            return fail("unknown key " + shown(name));

        size_t index = static_cast<size_t>(key - conf::config_keys().data());
        if (first_line_[index] != 0 && !key->repeatable) {
            return fail("duplicate key " + shown(name) + " (first set on line " +
                        std::to_string(first_line_[index]) + ")");
        }
        if (first_line_[index] == 0)
            first_line_[index] = line_no;
        if (value.empty() && !key->may_be_empty)
            return fail(std::string(name) + ": empty value");
        if (auto applied = key->apply(value, config_); !applied) {
            return fail(std::string(name) + ": " + applied.error().detail);
        }
        return {};
    }

    Config finish() {
        if (config_.listen.empty())
            config_.listen = Config{}.listen;
        return std::move(config_);
    }

private:
    Error fail(const std::string& problem) const {
        return Error::because("", "", source_ + ":" + std::to_string(line_no_) + ": " + problem);
    }

    const std::string& source_;
    Config config_;
    std::vector<size_t> first_line_; // per key in config_keys(), 0 = not seen
    size_t line_no_ = 0;
};

} // namespace

Result<Config> parse_config(const std::string& text, const std::string& source) {
    ConfigParser parser(source);
    size_t line_no = 0;
    for (size_t pos = 0; pos < text.size();) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        auto parsed = parser.parse_line(std::string_view(text).substr(pos, end - pos), ++line_no);
        if (!parsed)
            return parsed.error();
        pos = end + 1;
    }
    return parser.finish();
}

} // namespace popper
