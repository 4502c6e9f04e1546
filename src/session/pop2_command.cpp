#include "popper/pop2_command.h"

#include "popper/command_line.h"

#include <array>
#include <utility>

namespace popper {

namespace {

struct Pop2Syntax {
    const char* keyword;
    Pop2Verb verb;
    size_t min_args;
    size_t max_args;
};

// RFC 937's commands and their arguments. HELO's password is the rest of
// the line, so it counts as one argument however many spaces it holds.
constexpr std::array kSyntax = {
    Pop2Syntax{"HELO", Pop2Verb::helo, 2, SIZE_MAX}, Pop2Syntax{"FOLD", Pop2Verb::fold, 1, 1},
    Pop2Syntax{"READ", Pop2Verb::read, 0, 1},        Pop2Syntax{"RETR", Pop2Verb::retr, 0, 0},
    Pop2Syntax{"ACKS", Pop2Verb::acks, 0, 0},        Pop2Syntax{"ACKD", Pop2Verb::ackd, 0, 0},
    Pop2Syntax{"NACK", Pop2Verb::nack, 0, 0},        Pop2Syntax{"QUIT", Pop2Verb::quit, 0, 0},
};

} // namespace

// The line is split as a POP3 line is (one parser: parse_command_line
// refuses control octets and odd keywords), then checked against the
// command's arguments.
Pop2Parsed parse_pop2_command(std::string_view line) {
    auto cmd = parse_command_line(line);
    if (!cmd)
        return std::string_view("Invalid command line");
    const Pop2Syntax* syntax = nullptr;
    for (const auto& s : kSyntax)
        if (cmd->keyword == s.keyword)
            syntax = &s;
    if (syntax == nullptr)
        return std::string_view("Unknown command");
    if (cmd->args.size() < syntax->min_args || cmd->args.size() > syntax->max_args)
        return std::string_view("Wrong number of arguments");
    Pop2Command out;
    out.verb = syntax->verb;
    switch (syntax->verb) {
    case Pop2Verb::helo: {
        // RFC 2449 §4's 40 octets bound the user name as for USER.
        if (cmd->args[0].size() > kMaxArgumentOctets)
            return std::string_view("Argument too long");
        out.user = std::move(cmd->args[0]);
        std::string_view rest = cmd->rest;
        rest.remove_prefix(rest.find_first_not_of(' '));
        rest.remove_prefix(out.user.size());
        rest.remove_prefix(rest.find_first_not_of(' '));
        out.password = std::string(rest);
        break;
    }
    case Pop2Verb::fold:
        if (cmd->args[0].size() > kMaxArgumentOctets)
            return std::string_view("Argument too long");
        out.folder = std::move(cmd->args[0]);
        break;
    case Pop2Verb::read:
        if (!cmd->args.empty()) {
            out.number = parse_number(cmd->args[0]);
            if (!out.number)
                return std::string_view("Invalid message number");
        }
        break;
    default:
        break;
    }
    return out;
}

} // namespace popper
