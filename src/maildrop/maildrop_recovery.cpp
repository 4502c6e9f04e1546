// Finishing or undoing what a session killed mid-step left behind. Runs at
// login under the session lock and the spool lock. Each branch is named after
// the step of maildrop.cpp it completes; every one is idempotent, so a crash
// during recovery is recovered by the next login the same way.
#include "maildrop_files.h"

#include "popper/log.h"

#include <cstring>
#include <fcntl.h>
#include <vector>

namespace popper::maildrop_detail {

namespace {

// Do the first `length` octets of the spool equal the last `length` octets of
// `copy`? Guards the journal: if anything but an MTA touched the spool while
// no lock was held we stop rather than cut the wrong bytes.
Result<bool> spool_starts_with_tail_of(const SpoolFile& spool, const std::string& spool_path,
                                       int copy_fd, const std::string& copy_path, uint64_t length) {
    auto copy_st = stat_fd(copy_fd, copy_path);
    if (!copy_st)
        return copy_st.error();
    uint64_t copy_size = static_cast<uint64_t>(copy_st->st_size);
    if (copy_size < length || static_cast<uint64_t>(spool.st.st_size) < length)
        return false;
    constexpr size_t kChunk = 1 << 20;
    std::vector<char> a(kChunk), b(kChunk);
    for (uint64_t done = 0; done < length;) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, length - done));
        auto ga = pread_full(spool.fd.get(), a.data(), want, static_cast<off_t>(done), spool_path);
        if (!ga)
            return ga.error();
        auto gb = pread_full(copy_fd, b.data(), want, static_cast<off_t>(copy_size - length + done),
                             copy_path);
        if (!gb)
            return gb.error();
        if (*ga != want || *gb != want || std::memcmp(a.data(), b.data(), want) != 0)
            return false;
        done += want;
    }
    return true;
}

bool spool_is(const SpoolFile& spool, uint64_t inode) {
    return spool.fd && static_cast<uint64_t>(spool.st.st_ino) == inode;
}

Status refuse_inconsistent(const std::string& what) {
    log_error("maildrop recovery stopped, nothing changed: " + what);
    return Error::permanent("recover", what, "spool changed in an unexpected way");
}

// Open step "moving": a new drop holds the old drop and the first N octets of
// the spool; the spool may still hold them too.
Status finish_moving(const DropFiles& files) {
    auto journal = read_journal(files.journal, "moving");
    if (!journal)
        return journal.error();
    auto moving = open_own_file(files.moving, O_RDONLY);
    if (!moving)
        return moving.error();
    if (auto gone = unlink_path(files.drop); !gone)
        return gone; // .moving contains it
    auto spool = open_spool(files.spool);
    if (!spool)
        return spool.error();
    auto moving_st = stat_fd(moving->get(), files.moving);
    if (!moving_st)
        return moving_st.error();
    // Renamed rather than copied: the spool no longer holds those octets.
    bool renamed = static_cast<uint64_t>(moving_st->st_ino) == journal->spool_inode;
    bool cut = false;
    if (!renamed && spool_is(*spool, journal->spool_inode) && journal->spool_size > 0) {
        auto same = spool_starts_with_tail_of(*spool, files.spool, moving->get(), files.moving,
                                              journal->spool_size);
        if (!same)
            return same.error();
        if (*same) {
            if (auto c = cut_spool_prefix(files, *spool, journal->spool_size); !c)
                return c;
            cut = true;
        }
    }
    if (!renamed && !cut && spool->fd) {
        // Either the spool was already cut (its path may since name a new
        // file, even one with the old inode number) or something rewrote it
        // (a mail reader, while no lock was held): whatever of the moved
        // mail it still holds is taken out, what else it holds is new.
        auto moved =
            index_mbox_file(moving->get(), static_cast<uint64_t>(moving_st->st_size), files.moving);
        if (!moved)
            return moved.error();
        auto echoes = remove_echoes_from_spool(files, *spool, moving->get(), files.moving, *moved);
        if (!echoes)
            return echoes.error();
    }
    if (auto r = rename_path(files.moving, files.drop); !r)
        return r;
    log_notice("recovered an interrupted login: " + files.moving + " became " + files.drop);
    return fsync_dir(files.drop_dir);
}

// Update step "commit": the session's QUIT decided; the next spool is fully
// written in spool_tmp. While spool_tmp exists it has not replaced the spool
// (rename consumes the name), so the rest of the step is to finish.
Status finish_commit(const DropFiles& files) {
    auto journal = read_journal(files.journal, "commit");
    if (!journal)
        return journal.error();
    if (path_exists(files.spool_tmp)) {
        auto spool = open_spool(files.spool);
        if (!spool)
            return spool.error();
        auto tmp = open_own_file(files.spool_tmp, O_RDWR);
        if (!tmp)
            return tmp.error();
        uint64_t already_in_tmp = 0; // octets of the spool copied before the crash
        if (journal->spool_inode != 0) {
            if (!spool_is(*spool, journal->spool_inode))
                return refuse_inconsistent(files.spool + " was replaced during an update");
            auto same = spool_starts_with_tail_of(*spool, files.spool, tmp->get(), files.spool_tmp,
                                                  journal->spool_size);
            if (!same)
                return same.error();
            if (!*same)
                return refuse_inconsistent(files.spool + " vs " + files.spool_tmp);
            already_in_tmp = journal->spool_size;
        }
        auto tmp_st = stat_fd(tmp->get(), files.spool_tmp);
        if (!tmp_st)
            return tmp_st.error();
        MboxWriter writer(tmp->get(), files.spool_tmp, static_cast<uint64_t>(tmp_st->st_size));
        auto prepared = prepare_spool_tmp(files, tmp->get(), writer, *spool, already_in_tmp,
                                          already_in_tmp > 0);
        if (!prepared)
            return prepared.error();
        if (auto installed = install_spool_tmp(files); !installed)
            return installed;
    }
    if (auto gone = unlink_path(files.commit); !gone)
        return gone;
    log_notice("finished an interrupted QUIT: removed " + files.commit);
    return fsync_dir(files.drop_dir);
}

} // namespace

Status recover(const DropFiles& files) {
    // A drop put back under the spool's name whose old name survived a crash
    // (a rename only half durable): the mail is in the spool, the name stale.
    if (same_inode(files.drop, files.spool)) {
        if (auto gone = unlink_path(files.drop); !gone)
            return gone;
        if (auto s = fsync_dir(files.drop_dir); !s)
            return s;
        log_notice("removed " + files.drop + ": it was also " + files.spool);
    }
    // Files built before a commit point are garbage: their content is still
    // where it came from.
    if (auto gone = unlink_path(files.new_drop); !gone)
        return gone;
    if (path_exists(files.compact)) {
        auto journal = read_journal(files.journal, "compact");
        if (!journal)
            return journal.error();
        if (auto done = finish_compact(files, *journal); !done)
            return done;
        log_notice("finished an interrupted QUIT: " + files.compact + " became " + files.spool);
    }
    if (auto gone = unlink_path(files.tail); !gone)
        return gone;
    if (path_exists(files.commit)) {
        if (auto done = finish_commit(files); !done)
            return done;
    }
    if (path_exists(files.moving)) {
        if (auto done = finish_moving(files); !done)
            return done;
    }
    if (auto gone = unlink_path(files.spool_tmp); !gone)
        return gone;
    return {};
}

} // namespace popper::maildrop_detail
