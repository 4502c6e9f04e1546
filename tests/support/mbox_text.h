// Building mbox spools (RFC 4155) and the POP3 wire form a test expects, as
// plain strings, so a test states its mailbox and its expected bytes exactly.
#pragma once

#include <string>
#include <string_view>

namespace popper::test {

// The date every test From_ line carries: fixed, so spools are reproducible.
inline constexpr std::string_view kFromLineDate = "Thu Jan  1 00:00:00 2015";

// One mbox entry: "From <sender> <date>\n", then `content` as stored, then
// the separator's empty line when `content` is empty or ends with a newline.
// Content without a final newline gets no separator: such an entry must be
// the last of its spool (it is how a message without final newline is stored).
std::string mbox_entry(std::string_view sender, std::string_view content);

// mbox_entry(sender, headers + "\n" + body): `headers` are whole lines
// ("Subject: hi\n"), the empty line ending them is added here.
std::string mbox_message(std::string_view sender, std::string_view headers, std::string_view body);

// Every LF not already preceded by CR becomes CRLF: the wire form of stored
// text (before dot-stuffing and mboxrd unescaping).
std::string to_crlf(std::string_view text);

// `count` lines of printable text, each `line_octets` long before its LF,
// none starting with '.', '>' or "From ": filler for large messages.
std::string filler_lines(size_t count, size_t line_octets);

} // namespace popper::test
