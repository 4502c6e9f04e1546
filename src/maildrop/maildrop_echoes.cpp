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
#include <vector>

namespace popper::maildrop_detail {

namespace {

using Digest = std::array<uint8_t, 16>;

// One flag per spool message: is it one of the drop's messages?
std::vector<bool> echo_flags(const MboxIndex& spool_index, const MboxIndex& drop_index) {
    std::vector<Digest> known;
    known.reserve(drop_index.messages.size());
    for (const auto& m : drop_index.messages) known.push_back(m.uid_digest);
    std::sort(known.begin(), known.end());
    std::vector<bool> echo(spool_index.messages.size(), false);
    for (size_t i = 0; i < spool_index.messages.size(); ++i)
        echo[i] = std::binary_search(known.begin(), known.end(), spool_index.messages[i].uid_digest);
    return echo;
}

} // namespace

Result<size_t> remove_echoes_from_spool(const DropFiles& files, const SpoolFile& spool,
                                        const MboxIndex& drop_index) {
    if (!spool.fd || spool.st.st_size == 0 || drop_index.messages.empty()) return size_t{0};
    const uint64_t size = static_cast<uint64_t>(spool.st.st_size);
    auto index = index_mbox_file(spool.fd.get(), size, files.spool);
    if (!index) return size_t{0}; // not an mbox: merged as it is, judged by nobody here
    const std::vector<bool> echo = echo_flags(*index, drop_index);
    const size_t echoes = static_cast<size_t>(std::count(echo.begin(), echo.end(), true));
    if (echoes == 0) return size_t{0};

    // Invariant 1: the spool is replaced in one rename by a durable copy
    // without the echoes; before it, the echoes are only duplicates.
    if (auto gone = unlink_path(files.spool_tmp); !gone) return gone.error();
    auto tmp = create_exclusive(files.spool_tmp, 0600);
    if (!tmp) return tmp.error();
    if (auto mode = copy_mode_and_group(tmp->get(), spool.st, files.spool_tmp); !mode)
        return mode.error();
    MboxWriter writer(tmp->get(), files.spool_tmp);
    if (auto a = append_kept(writer, *index, echo, 0, spool.fd.get(), files.spool, size); !a)
        return a.error();
    if (auto s = fsync_fd(tmp->get(), files.spool_tmp); !s) return s.error();
    if (auto installed = install_spool_tmp(files); !installed) return installed.error();
    log_warning(files.spool + " held " + std::to_string(echoes) + " of the " +
                std::to_string(drop_index.messages.size()) +
                " messages the drop holds (a local mail reader's stale copy?): taken out, "
                "not merged twice");
    return echoes;
}

} // namespace popper::maildrop_detail
