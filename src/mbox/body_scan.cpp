// The bulk body scan of body_scan.h.
//
// POP3 octets of whole lines = their octets + one per LF - one per CRLF -
// one per ^>+From  line (pop_line_octets() line by line). LFs and CRLFs are
// counted in SIMD registers; a block of 64 octets with a line start holding
// '>' (maybe an escaped From_ line) or 'F' (maybe a separator's "From ")
// takes the exact path: masks of the block, those line starts one by one.
#include "body_scan.h"

#include "popper/cpu_features.h"
#include "popper/octet_block.h"

#include <cstdlib>
#include <cstring>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define POPPER_BODY_SCAN_AVX2 1
#endif

namespace popper {
namespace {

constexpr char kFrom[] = "From ";
constexpr size_t kFromOctets = 5;
static_assert(kBodyScanLookahead >= kFromOctets);
static_assert(kBodyScanPadding >= kOctetBlockOctets, "a block load may start at `limit`");

unsigned count_bits(uint64_t x) {
    return static_cast<unsigned>(__builtin_popcountll(x));
}

unsigned lowest_bit(uint64_t x) {
    return static_cast<unsigned>(__builtin_ctzll(x));
}

// ^>+From  at `p`, a line start holding '>'. The compares stop at the line's
// LF at the latest, as "From " holds none.
bool escaped_from_at(const char* p) {
    while (*p == '>')
        ++p;
    return std::memcmp(p, kFrom, kFromOctets) == 0;
}

struct BlockMasks {
    uint64_t lfs;           // LF octets
    uint64_t crlfs;         // LFs right after a CR
    uint64_t marked_starts; // line starts (after an LF) holding '>' or 'F'
};

BlockMasks masks_at(const char* p) {
    OctetBlock now = OctetBlock::load(p);
    OctetBlock before = OctetBlock::load(p - 1);
    uint64_t lfs = now.mask_of('\n');
    return {lfs, lfs & before.mask_of('\r'),
            before.mask_of('\n') & (now.mask_of('>') | now.mask_of('F'))};
}

class BodyScanner {
public:
    BodyScanner(const char* buf, size_t begin, size_t limit)
        : buf_(buf), begin_(begin), limit_(limit) {}

    // Takes the lines of the block at `p` ending before `limit`. False, with
    // the run up to it in `run`, at the empty line of a separator.
    bool take_block(size_t p, BodyRun& run) {
        const BlockMasks m = masks_at(buf_ + p);
        // The line start at `limit` too: the line before it may be empty.
        uint64_t marked = m.marked_starts & low_bits(limit_ + 1 - p);
        for (; marked != 0; marked &= marked - 1) {
            size_t s = p + lowest_bit(marked);
            if (buf_[s] == '>') {
                if (s < limit_ && escaped_from_at(buf_ + s))
                    ++escapes_;
            } else if (s > begin_ && separator_at(s)) {
                // Lines up to s, less the empty line of 2 POP3 octets ("\n"
                // gains a CR, "\r\n" is as it is) that begins the separator.
                count(m, low_bits(s - p));
                run = {pop_octets(s) - 2, (buf_ + s)[-2] == '\n' ? s - 1 : s - 2};
                return false;
            }
        }
        count(m, low_bits(limit_ - p));
        return true;
    }

    void add_counts(uint64_t lfs, uint64_t crlfs) {
        lfs_ += lfs;
        crlfs_ += crlfs;
    }

    BodyRun finish() const { return {pop_octets(limit_), limit_}; }

private:
    // "From " at the line start `s` (> begin_), after an empty line.
    bool separator_at(size_t s) const {
        const char* at = buf_ + s; // at[-2] may be the stand-in LF before buf_[0]
        bool empty_before = at[-2] == '\n' || (at[-2] == '\r' && at[-3] == '\n');
        return empty_before && std::memcmp(at, kFrom, kFromOctets) == 0;
    }
    void count(const BlockMasks& m, uint64_t positions) {
        add_counts(count_bits(m.lfs & positions), count_bits(m.crlfs & positions));
    }
    // Of the lines of [begin_, end), all counted.
    uint64_t pop_octets(size_t end) const { return (end - begin_) + lfs_ - crlfs_ - escapes_; }

    const char* buf_;
    size_t begin_;
    size_t limit_;
    uint64_t lfs_ = 0;
    uint64_t crlfs_ = 0;
    uint64_t escapes_ = 0;
};

#ifdef __SSE2__
// LF and CRLF counts of whole blocks, in byte lanes of SIMD registers,
// added to the scanner before a lane could overflow and when it stops.
class LaneCounts {
public:
    // A block adds at most 4 per lane (one per 16 octets); 63 blocks fit in a byte.
    static constexpr int kBlocksPerFlush = 63;

    void add(__m128i lf_matches, __m128i crlf_matches, BodyScanner& into) {
        lfs_ = _mm_sub_epi8(lfs_, lf_matches); // matches are -1
        crlfs_ = _mm_sub_epi8(crlfs_, crlf_matches);
        if (++blocks_ == kBlocksPerFlush)
            flush(into);
    }
    void flush(BodyScanner& into) {
        into.add_counts(sum(lfs_), sum(crlfs_));
        lfs_ = crlfs_ = _mm_setzero_si128();
        blocks_ = 0;
    }

private:
    static uint64_t sum(__m128i lanes) {
        __m128i halves = _mm_sad_epu8(lanes, _mm_setzero_si128());
        return static_cast<uint64_t>(_mm_cvtsi128_si64(halves)) +
               static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(halves, halves)));
    }
    __m128i lfs_ = _mm_setzero_si128();
    __m128i crlfs_ = _mm_setzero_si128();
    int blocks_ = 0;
};

// The blocks wholly before `limit` while no line start in them holds '>' or 'F'.
// False, with `run` set, when a separator's empty line ends the run.
bool scan_plain_blocks(const char* buf, size_t& p, size_t limit, BodyScanner& scanner,
                       BodyRun& run) {
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    const __m128i arrow = _mm_set1_epi8('>'), f = _mm_set1_epi8('F');
    LaneCounts lanes;
    for (; limit - p >= kOctetBlockOctets; p += kOctetBlockOctets) {
        OctetBlock now = OctetBlock::load(buf + p);
        OctetBlock before = OctetBlock::load(buf + p - 1);
        __m128i lfs = _mm_setzero_si128(), crlfs = lfs, marked = lfs;
        for (int i = 0; i < 4; ++i) {
            __m128i n = now.vector(i), b = before.vector(i);
            __m128i is_lf = _mm_cmpeq_epi8(n, lf);
            lfs = _mm_add_epi8(lfs, is_lf);
            crlfs = _mm_add_epi8(crlfs, _mm_and_si128(is_lf, _mm_cmpeq_epi8(b, cr)));
            __m128i start = _mm_cmpeq_epi8(b, lf);
            __m128i wanted = _mm_or_si128(_mm_cmpeq_epi8(n, arrow), _mm_cmpeq_epi8(n, f));
            marked = _mm_or_si128(marked, _mm_and_si128(start, wanted));
        }
        if (_mm_movemask_epi8(marked) == 0) {
            lanes.add(lfs, crlfs, scanner);
            continue;
        }
        lanes.flush(scanner); // the exact path counts this block, and may stop in it
        if (!scanner.take_block(p, run))
            return false;
    }
    lanes.flush(scanner);
    return true;
}
#endif

#ifdef POPPER_BODY_SCAN_AVX2
#define POPPER_AVX2 __attribute__((target("avx2")))

POPPER_AVX2 inline uint64_t sum_lanes(__m256i lanes) {
    __m256i quarters = _mm256_sad_epu8(lanes, _mm256_setzero_si256());
    __m128i halves =
        _mm_add_epi64(_mm256_castsi256_si128(quarters), _mm256_extracti128_si256(quarters, 1));
    return static_cast<uint64_t>(_mm_cvtsi128_si64(halves)) +
           static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(halves, halves)));
}

POPPER_AVX2 inline void flush_lanes(__m256i& lfs, __m256i& crlfs, int& blocks,
                                    BodyScanner& scanner) {
    scanner.add_counts(sum_lanes(lfs), sum_lanes(crlfs));
    lfs = crlfs = _mm256_setzero_si256();
    blocks = 0;
}

// scan_plain_blocks with 32-octet registers, where the CPU has them: half
// the instructions per block: indexing the 1 GB benchmark mailbox took 256
// instead of 311 ms of CPU.
POPPER_AVX2 bool scan_plain_blocks_avx2(const char* buf, size_t& p, size_t limit,
                                        BodyScanner& scanner, BodyRun& run) {
    const __m256i lf = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r');
    const __m256i arrow = _mm256_set1_epi8('>'), f = _mm256_set1_epi8('F');
    __m256i lf_lanes = _mm256_setzero_si256(), crlf_lanes = lf_lanes;
    int blocks = 0;
    for (; limit - p >= kOctetBlockOctets; p += kOctetBlockOctets) {
        const auto* at = reinterpret_cast<const __m256i*>(buf + p);
        const auto* before = reinterpret_cast<const __m256i*>(buf + p - 1);
        __m256i n0 = _mm256_loadu_si256(at), n1 = _mm256_loadu_si256(at + 1);
        __m256i b0 = _mm256_loadu_si256(before), b1 = _mm256_loadu_si256(before + 1);
        __m256i lf0 = _mm256_cmpeq_epi8(n0, lf), lf1 = _mm256_cmpeq_epi8(n1, lf);
        __m256i crlf0 = _mm256_and_si256(lf0, _mm256_cmpeq_epi8(b0, cr));
        __m256i crlf1 = _mm256_and_si256(lf1, _mm256_cmpeq_epi8(b1, cr));
        __m256i wanted0 = _mm256_or_si256(_mm256_cmpeq_epi8(n0, arrow), _mm256_cmpeq_epi8(n0, f));
        __m256i wanted1 = _mm256_or_si256(_mm256_cmpeq_epi8(n1, arrow), _mm256_cmpeq_epi8(n1, f));
        __m256i marked = _mm256_or_si256(_mm256_and_si256(_mm256_cmpeq_epi8(b0, lf), wanted0),
                                         _mm256_and_si256(_mm256_cmpeq_epi8(b1, lf), wanted1));
        if (_mm256_testz_si256(marked, marked)) {
            // A block adds at most 2 per lane; 127 blocks fit in a byte.
            lf_lanes = _mm256_sub_epi8(lf_lanes, _mm256_add_epi8(lf0, lf1));
            crlf_lanes = _mm256_sub_epi8(crlf_lanes, _mm256_add_epi8(crlf0, crlf1));
            if (++blocks == 127)
                flush_lanes(lf_lanes, crlf_lanes, blocks, scanner);
            continue;
        }
        // The exact path counts this block, and may stop in it.
        flush_lanes(lf_lanes, crlf_lanes, blocks, scanner);
        if (!scanner.take_block(p, run))
            return false;
    }
    flush_lanes(lf_lanes, crlf_lanes, blocks, scanner);
    return true;
}

#endif

} // namespace

BodyRun scan_body_lines(const char* buf, size_t begin, size_t limit) {
    BodyScanner scanner(buf, begin, limit);
    BodyRun run;
    size_t p = begin;
#ifdef POPPER_BODY_SCAN_AVX2
    if (cpu_has_avx2()) {
        if (!scan_plain_blocks_avx2(buf, p, limit, scanner, run))
            return run;
    } else
#endif
    {
#ifdef __SSE2__
        if (!scan_plain_blocks(buf, p, limit, scanner, run))
            return run;
#endif
    }
    for (; p <= limit; p += kOctetBlockOctets) {
        if (!scanner.take_block(p, run))
            return run;
    }
    return scanner.finish();
}

} // namespace popper
