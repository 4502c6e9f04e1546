// A local reader's stale write-back, found and taken out of the spool before
// QUIT merges it. A reader of the BSD Mail family (s-nail, mailx) that read
// the mailbox before the login writes its copy of those messages back when
// it quits, if the spool exists then (it checks only whether the file grew):
// without this step QUIT would add them a second time after the drop's, and
// a message the POP client deleted would come back.
#include "maildrop_files.h"

#include "popper/log.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fcntl.h>
#include <utility>
#include <vector>

namespace popper::maildrop_detail {

namespace {

using Digest = std::array<uint8_t, 16>;

// Where the body of the message (From_ line at `entry.from_line`) begins in
// the file open as `fd`: after the first empty line of its headers, or its
// end when it has none.
Result<uint64_t> body_start(int fd, const MessageEntry& entry, const std::string& path) {
    constexpr size_t kChunk = 64 * 1024;
    std::string buf(kChunk + 3, '\0');
    char prev[3] = {'\n', 0, 0}; // the From_ line ends with a line feed
    for (uint64_t at = entry.start; at < entry.end;) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, entry.end - at));
        auto got = pread_full(fd, buf.data(), want, static_cast<off_t>(at), path);
        if (!got)
            return got.error();
        if (*got == 0)
            break;
        for (size_t i = 0; i < *got; ++i) {
            const char c = buf[i];
            // An empty line: "\n\n" or "\n\r\n".
            if (c == '\n' && (prev[0] == '\n' || (prev[0] == '\r' && prev[1] == '\n')))
                return at + i + 1;
            prev[1] = prev[0];
            prev[0] = c;
        }
        at += *got;
    }
    return entry.end;
}

// Are the bodies of two messages the same octets? A reader's write-back
// keeps a message's body as it read it; only its status headers change.
// (s-nail glues mail that grew the file onto its last message: that copy
// is not an echo, and its new octets must not go.)
Result<bool> same_body(int a_fd, const MessageEntry& a, const std::string& a_path, int b_fd,
                       const MessageEntry& b, const std::string& b_path) {
    auto a_body = body_start(a_fd, a, a_path);
    if (!a_body)
        return a_body.error();
    auto b_body = body_start(b_fd, b, b_path);
    if (!b_body)
        return b_body.error();
    const uint64_t length = a.end - *a_body;
    if (length != b.end - *b_body)
        return false;
    constexpr size_t kChunk = 64 * 1024;
    std::string x(kChunk, '\0'), y(kChunk, '\0');
    for (uint64_t done = 0; done < length;) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, length - done));
        auto gx = pread_full(a_fd, x.data(), want, static_cast<off_t>(*a_body + done), a_path);
        if (!gx)
            return gx.error();
        auto gy = pread_full(b_fd, y.data(), want, static_cast<off_t>(*b_body + done), b_path);
        if (!gy)
            return gy.error();
        if (*gx != want || *gy != want || x.compare(0, want, y, 0, want) != 0)
            return false;
        done += want;
    }
    return true;
}

// One flag per spool message: is it one of the drop's messages (same From_
// line, identifying headers and body)?
Result<std::vector<bool>> echo_flags(const DropFiles& files, const SpoolFile& spool,
                                     const MboxIndex& spool_index, int drop_fd,
                                     const std::string& drop_path, const MboxIndex& drop_index) {
    // The new mail's digests are sorted and each drop message looked up in
    // them: memory follows the new mail, not the mailbox (no copy of the
    // drop's 100,000 digests at a QUIT that merges ten new messages).
    std::vector<std::pair<Digest, size_t>> fresh;
    fresh.reserve(spool_index.messages.size());
    for (size_t i = 0; i < spool_index.messages.size(); ++i)
        fresh.emplace_back(spool_index.messages[i].uid_digest, i);
    std::sort(fresh.begin(), fresh.end());
    std::vector<bool> echo(spool_index.messages.size(), false);
    for (const MessageEntry& held : drop_index.messages) {
        auto it = std::lower_bound(fresh.begin(), fresh.end(),
                                   std::make_pair(held.uid_digest, size_t{0}));
        for (; it != fresh.end() && it->first == held.uid_digest; ++it) {
            if (echo[it->second])
                continue;
            auto same = same_body(spool.fd.get(), spool_index.messages[it->second], files.spool,
                                  drop_fd, held, drop_path);
            if (!same)
                return same.error();
            if (*same) {
                echo[it->second] = true;
                break; // one spool copy per drop message
            }
        }
    }
    return echo;
}

} // namespace

Result<size_t> remove_echoes_from_spool(const DropFiles& files, const SpoolFile& spool, int drop_fd,
                                        const std::string& drop_path, const MboxIndex& drop_index) {
    if (!spool.fd || spool.st.st_size == 0 || drop_index.messages.empty())
        return size_t{0};
    const uint64_t size = static_cast<uint64_t>(spool.st.st_size);
    auto index = index_mbox_file(spool.fd.get(), size, files.spool);
    if (!index)
        return size_t{0}; // not an mbox: merged as it is, judged by nobody here
    auto flags = echo_flags(files, spool, *index, drop_fd, drop_path, drop_index);
    if (!flags)
        return flags.error();
    const std::vector<bool>& echo = *flags;
    const size_t echoes = static_cast<size_t>(std::count(echo.begin(), echo.end(), true));
    if (echoes == 0)
        return size_t{0};

    // Invariant 1: the spool is replaced in one rename by a durable copy
    // without the echoes; before it, the echoes are only duplicates.
    auto tmp = create_spool_tmp(files, spool.st);
    if (!tmp)
        return tmp.error();
    MboxWriter writer(tmp->get(), files.spool_tmp);
    if (auto a = append_kept(writer, *index, echo, 0, spool.fd.get(), files.spool, size); !a)
        return a.error();
    if (auto s = fsync_fd(tmp->get(), files.spool_tmp); !s)
        return s.error();
    if (auto installed = install_spool_tmp(files); !installed)
        return installed.error();
    log_warning(files.spool + " held " + std::to_string(echoes) + " of the " +
                std::to_string(drop_index.messages.size()) +
                " messages the drop holds (a local mail reader's stale copy?): taken out, "
                "not merged twice");
    return echoes;
}

} // namespace popper::maildrop_detail
