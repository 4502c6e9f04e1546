// An on-disk copy of a drop's MboxIndex, so that a login whose drop has not
// changed since the last one skips the scan: loading 100,000 entries reads
// one file in a few system calls instead of the whole 1 GB mailbox.
//
// The cache is UNTRUSTED input (DESIGN.md: "a cached index is untrusted input
// and is validated against the file before use"): it lives in a directory
// other users can write to, and any file there may be planted, torn by a
// crash, or corrupted on disk. Loading refuses (nullopt: index the mailbox
// instead) anything but a regular file of ours with one link, a file of
// another format version, one made for another state of the mailbox, one
// whose checksum fails, one whose UIDLs follow another uidl_format, and any
// index that could point outside the mailbox
// or break the index's invariants; it then checks that the mailbox has
// "From " lines where the first and the last message begin. The validation
// makes an accepted index safe to serve from (every offset inside the
// mailbox, entries in order, side tables well-formed, X-UIDLs valid and
// unique); it does not redo the UIDL choices: that the repeats are the
// ones the indexer would choose rests on the checksum and the owner check.
//
// File format, every field native-endian (a machine of the other byte order
// sees a wrong magic), 8-octet aligned:
//   header (kIndexCacheHeaderOctets):
//     u64 magic, u64 format version, u64 uidl_format of the UIDLs (UidlFormat),
//     the mailbox's u64 st_dev, u64 st_ino, u64 st_size,
//       i64 st_mtim.tv_sec, i64 st_mtim.tv_nsec, i64 st_ctim.tv_sec, i64 st_ctim.tv_nsec,
//     u64 messages, u64 repeat rows, u64 X-UIDL rows, u64 X-UIDL octets
//   messages x MessageEntry (48 octets each, as in memory)
//   repeat rows x RepeatRow, X-UIDL rows x XUidlRow (8 octets each)
//   the X-UIDL octets, zero-padded to a multiple of 8
//   u64 checksum of all the above but the mailbox's stat (restamping)
// The checksum (a multiply-xorshift hash over 8-octet words) detects torn
// and corrupted files, not forgery: it is no MAC, and needs none, since only
// the mailbox's owner can write a cache that load_index_cache accepts
// (owner and link count checked), and the owner can edit the mailbox anyway.
#pragma once

#include "popper/mbox_index.h"
#include "popper/result.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace popper {

// Writes the cache of `index`, the index of the mailbox whose fstat is
// `mbox_st`, atomically: into cache_path + ".tmp" (O_CREAT|O_EXCL|O_NOFOLLOW,
// mode 0600; one left by a crashed save is removed first), then renamed over
// cache_path. Not fsynced: a file torn by a crash fails its checksum.
Status save_index_cache(const std::string& cache_path, const MboxIndex& index,
                        const struct stat& mbox_st);

// The cached index of the mailbox open as `mbox_fd`, whose fstat is
// `mbox_st`. nullopt, not an error, when there is no usable cache: missing,
// stale (st_dev, st_ino, st_size, st_mtim or st_ctim differ), of another
// version or uidl_format, truncated, failing its checksum or validation, or not a regular
// file of ours with one link. An error only when reading fails (EIO ...).
// The entries are read from disk straight into the index's own storage.
// The UIDLs of the index loaded follow `format`; a cache saved under
// another format is none.
Result<std::optional<MboxIndex>> load_index_cache(const std::string& cache_path, int mbox_fd,
                                                  const struct stat& mbox_st,
                                                  UidlFormat format = UidlFormat::popperd);

// The cache follows the file: after the mailbox, unchanged, was renamed
// (its ctime changed, perhaps its inode: a copy across filesystems), the
// cache saved for its state `was` is stamped with its state `now`, a write
// of the 56-octet stat block. An error when the file is not that cache.
Status restamp_index_cache(const std::string& cache_path, const struct stat& was,
                           const struct stat& now);

// The layout above, for tests and the fuzzer, which edit cache files.
inline constexpr size_t kIndexCacheHeaderOctets = 14 * 8;
inline constexpr size_t kIndexCacheFormatOffset = 2 * 8; // the uidl_format
inline constexpr size_t kIndexCacheStatOffset = 3 * 8;   // st_dev .. st_ctim.tv_nsec
inline constexpr size_t kIndexCacheStatOctets = 7 * 8;
inline constexpr size_t kIndexCacheCountsOffset = 10 * 8; // messages, repeats, X-UIDLs, octets
// Rewrites the last 8 octets of the cache file `file` with the checksum of
// the rest, so that a test or the fuzzer can reach the validation after it.
// A length that is not a header, 8 and a multiple of 8 (no cache has one) is
// left as is.
void reseal_index_cache(std::string& file);

} // namespace popper
