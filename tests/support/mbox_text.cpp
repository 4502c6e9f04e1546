#include "support/mbox_text.h"

namespace popper::test {

std::string mbox_entry(std::string_view sender, std::string_view content) {
    std::string entry = "From ";
    entry += sender;
    entry += ' ';
    entry += kFromLineDate;
    entry += '\n';
    entry += content;
    if (content.empty() || content.back() == '\n')
        entry += '\n';
    return entry;
}

std::string mbox_message(std::string_view sender, std::string_view headers, std::string_view body) {
    std::string content(headers);
    content += '\n';
    content += body;
    return mbox_entry(sender, content);
}

std::string to_crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32 + 2);
    size_t pos = 0;
    for (size_t lf = text.find('\n'); lf != std::string_view::npos; lf = text.find('\n', pos)) {
        out.append(text.substr(pos, lf - pos));
        if (lf == 0 || text[lf - 1] != '\r')
            out += '\r';
        out += '\n';
        pos = lf + 1;
    }
    out.append(text.substr(pos));
    return out;
}

std::string filler_lines(size_t count, size_t line_octets) {
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    // Line n is the alphabet, started at its n-th letter, repeated.
    std::string pattern;
    while (pattern.size() < line_octets + kAlphabet.size())
        pattern += kAlphabet;
    std::string out;
    out.reserve(count * (line_octets + 1));
    for (size_t line = 0; line < count; ++line) {
        out.append(pattern, line % kAlphabet.size(), line_octets);
        out += '\n';
    }
    return out;
}

} // namespace popper::test
