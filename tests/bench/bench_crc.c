/* bench_crc.c — the "crc" figures of `make bench`: oj_crc32 (common/crc32.c,
 * zlib's crc32_z) against the slicing-by-8 code oj used before (a copy
 * below), at the lengths oj checksums: a lock's WAL line (~200 B), a
 * finished pipeline's (~1.7 KB) and a snapshot of 10,000 of them (16 MB).
 * Both must give the same CRC at every length and start alignment. The two
 * alternate, best of 5 rounds each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clock.h"
#include "crc32.h"

/* ---- the slicing-by-8 CRC-32 oj had before (commit 2015189) ---------------------------- */

static uint32_t table[8][256];

static void build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
}

static uint32_t slicing8(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        lo ^= c;
        c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^
            table[4][lo >> 24] ^ table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^
            table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ---- the measurement --------------------------------------------------------------------- */

/* ns per byte over reps runs of len bytes (the start moves over 8 offsets,
 * so every alignment is seen); the CRCs xored into *acc. */
static double ns_per_byte(bool zlib, const unsigned char *buf, size_t len, long reps,
                          uint32_t *acc)
{
    int64_t t0 = oj_mono_ns();
    for (long r = 0; r < reps; r++) {
        const unsigned char *p = buf + (r & 7);
        *acc ^= zlib ? oj_crc32(p, len) : slicing8(p, len);
    }
    return (double)(oj_mono_ns() - t0) / ((double)reps * (double)len);
}

bool bench_crc_report(void)
{
    build();
    static const size_t lens[] = {200, 1700, 16 << 20};
    static const char *const what[] = {"a lock's WAL line", "a pipeline's WAL line",
                                       "a 10,000-pipeline snapshot"};
    size_t max = 16 << 20;
    unsigned char *buf = malloc(max + 8);
    if (buf == NULL)
        return false;
    for (size_t i = 0; i < max + 8; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    /* the same CRC: every length up to 300 at every alignment, then the three */
    bool same = true;
    for (size_t len = 0; len <= 300 && same; len++)
        for (size_t off = 0; off < 8; off++)
            same = same && oj_crc32(buf + off, len) == slicing8(buf + off, len);
    double best[3][2];
    for (int l = 0; l < 3; l++) {
        long reps = (long)((64 << 20) / lens[l]); /* 64 MB a round */
        best[l][0] = best[l][1] = 1e9;
        for (int round = 0; round < 5; round++) {
            uint32_t acc[2] = {0, 0};
            for (int which = 0; which < 2; which++) {
                double v = ns_per_byte(which == 1, buf, lens[l], reps, &acc[which]);
                if (v < best[l][which])
                    best[l][which] = v;
            }
            same = same && acc[0] == acc[1];
        }
    }
    free(buf);
    if (!same) {
        fprintf(stderr, "oj-bench: crc: oj_crc32 (zlib) and the slicing-by-8 code disagree\n");
        return false;
    }
    printf("\nCRC-32: oj_crc32 (zlib's crc32_z) against the slicing-by-8 code it replaced,\n"
           "  best of 5; the same CRC at every length 0-300, every alignment, and these\n");
    for (int l = 0; l < 3; l++)
        printf("  %-28s %8zu B: slicing-by-8 %5.2f GB/s, zlib %5.2f GB/s\n", what[l], lens[l],
               1 / best[l][0], 1 / best[l][1]);
    for (int l = 0; l < 3; l++)
        printf("ratio: crc32 slicing8-time/zlib-time at %zu B = %.2fx (above 1: zlib faster)\n",
               lens[l], best[l][0] / best[l][1]);
    return true;
}
