// mboxgen: a deterministic mbox for the benchmark (same seed, same bytes).
//
//   mboxgen --messages N --size OCTETS [--seed S] [--out FILE]
//
// Each message is exactly OCTETS long as stored (headers and body, LF line
// ends, without its From_ line and the separator's empty line), with the
// headers an MTA leaves (Return-Path, Received, Message-ID, Date, ...) and a
// text body whose lines sometimes start with '.' (dot-stuffing), are a lone
// "." or are mboxrd-escaped ">From " / ">>From " lines (unescaping). Body
// lines never start with "From ", so every reader splits the file the same.
#include "tool.h"

#include <array>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

// splitmix64: tiny, fast, and the same sequence on every platform.
class Random {
public:
    explicit Random(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return static_cast<size_t>(next() % n); }

private:
    uint64_t state_;
};

constexpr std::array<const char*, 48> kWords = {
    "the",     "mail",    "server",  "message", "from",     "to",      "of",      "and",
    "a",       "in",      "is",      "that",    "for",      "it",      "with",    "as",
    "was",     "on",      "be",      "at",      "by",       "this",    "have",    "not",
    "are",     "but",     "or",      "an",      "they",     "which",   "you",     "one",
    "report",  "meeting", "invoice", "please",  "attached", "regards", "quarter", "budget",
    "project", "monday",  "review",  "draft",   "schedule", "thanks",  "update",  "team"};

constexpr std::array<const char*, 7> kWeekdays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

// A body line of about `target` octets (LF included); special lines now and then.
std::string body_line(Random& random, size_t target) {
    size_t kind = random.below(1000);
    std::string line;
    if (kind < 20)
        line = "."; // dot-stuffed on the wire
    else if (kind < 25)
        return ".\n"; // a lone dot: must not end the RETR early
    else if (kind < 35)
        line = ">From "; // mboxrd: sent as "From "
    else if (kind < 37)
        line = ">>From "; // mboxrd: sent as ">From "
    else if (kind < 50)
        return "\n"; // paragraph break
    while (line.size() + 1 < target) {
        if (!line.empty() && line.back() != ' ' && line.back() != '.')
            line += ' ';
        line += kWords[random.below(kWords.size())];
    }
    line += '\n';
    return line;
}

std::string headers(Random& random, uint64_t seed, size_t number, size_t total) {
    unsigned sender = static_cast<unsigned>(random.below(500));
    unsigned hour = static_cast<unsigned>(number / 3600 % 24);
    unsigned minute = static_cast<unsigned>(number / 60 % 60);
    unsigned second = static_cast<unsigned>(number % 60);
    unsigned day = static_cast<unsigned>(1 + number / 86400 % 28);
    const char* weekday = kWeekdays[(day + 6) % 7];
    char time[64];
    std::snprintf(time, sizeof time, "%s, %u Nov 2026 %02u:%02u:%02u +0000", weekday, day, hour,
                  minute, second);
    char text[2048];
    std::snprintf(text, sizeof text,
                  "Return-Path: <sender%u@example.org>\n"
                  "Received: from mx%u.example.org (mx%u.example.org [192.0.2.%u])\n"
                  "\tby mail.example.net (Postfix) with ESMTPS id %016" PRIx64 "\n"
                  "\tfor <user@example.net>; %s\n"
                  "Message-ID: <bench.%" PRIu64 ".%zu.%08" PRIx64 "@example.org>\n"
                  "Date: %s\n"
                  "From: \"Sender %u\" <sender%u@example.org>\n"
                  "To: user@example.net\n"
                  "Subject: benchmark message %zu of %zu\n"
                  "MIME-Version: 1.0\n"
                  "Content-Type: text/plain; charset=us-ascii\n"
                  "\n",
                  sender, sender % 7, sender % 7, 1 + sender % 250, random.next(), time, seed,
                  number, random.next() & 0xffffffffu, time, sender, sender, number, total);
    return text;
}

// The stored message: headers, then body lines, the last one cut or padded
// so that the whole is exactly `size` octets (or just the headers plus one
// short line when `size` is smaller than the headers).
std::string message(Random& random, uint64_t seed, size_t number, size_t total, size_t size) {
    std::string text = headers(random, seed, number, total);
    constexpr size_t kLastLineMin = 12; // room for a final line of words
    while (text.size() + 80 + kLastLineMin <= size)
        text += body_line(random, 20 + random.below(57));
    size_t last = size > text.size() + kLastLineMin ? size - text.size() : kLastLineMin;
    std::string line(last - 1, 'x');
    for (size_t i = 0; i < line.size(); i += 8)
        line[i] = ' ';
    line[0] = 'e';
    line += '\n';
    return text + line;
}

} // namespace

int main(int argc, char** argv) {
    try {
        bench::Flags flags(argc, argv, 1);
        size_t count = static_cast<size_t>(flags.integer("messages", 10));
        size_t size = static_cast<size_t>(flags.integer("size", 4096));
        uint64_t seed = static_cast<uint64_t>(flags.integer("seed", 1));
        std::string out = flags.text("out", "-");
        FILE* file = out == "-" ? stdout : std::fopen(out.c_str(), "w");
        if (file == nullptr)
            throw bench::Failure("cannot create " + out);
        static char buffer[1 << 20];
        std::setvbuf(file, buffer, _IOFBF, sizeof buffer);
        Random random(seed * 0x2545f4914f6cdd1dULL + 1);
        uint64_t octets = 0;
        for (size_t i = 1; i <= count; ++i) {
            unsigned sender = static_cast<unsigned>(random.below(500));
            const char* weekday = kWeekdays[i % 7];
            std::string from = "From sender" + std::to_string(sender) + "@example.org " + weekday +
                               " Nov 13 06:00:00 2026\n";
            std::string text = message(random, seed, i, count, size);
            std::fwrite(from.data(), 1, from.size(), file);
            std::fwrite(text.data(), 1, text.size(), file);
            std::fputc('\n', file); // the separator's empty line
            octets += from.size() + text.size() + 1;
        }
        if (std::fflush(file) != 0 || std::ferror(file))
            throw bench::Failure("write error on " + out);
        if (file != stdout)
            std::fclose(file);
        std::fprintf(stderr, "mboxgen: %zu messages, %" PRIu64 " octets\n", count, octets);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mboxgen: %s\n", e.what());
        return 1;
    }
}
