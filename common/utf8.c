/* utf8.c — see utf8.h. */
#include "utf8.h"

#include <string.h>

/* The length (2-4) a sequence starting with lead byte `c` must have, and the
 * range its second byte must fall in; 0 when `c` cannot start a multi-byte
 * sequence (RFC 3629, table 3-7 of the Unicode standard). */
static size_t lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            *lo = 0xA0; /* overlong */
        else if (c == 0xED)
            *hi = 0x9F; /* surrogates */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            *lo = 0x90; /* overlong */
        else if (c == 0xF4)
            *hi = 0x8F; /* past U+10FFFF */
        return 4;
    }
    return 0; /* continuation byte, C0/C1 (overlong), F5..FF */
}

/* How many of the `n` bytes at p (up to the sequence's length) are a valid
 * start of the multi-byte sequence p[0] leads; *want = its full length. */
static size_t valid_prefix(const unsigned char *p, size_t n, size_t *want)
{
    unsigned char lo, hi;
    *want = lead(p[0], &lo, &hi);
    if (*want == 0)
        return 0;
    size_t k = 1;
    for (; k < *want && k < n; k++) {
        unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
        if (p[k] < min || p[k] > max)
            break;
    }
    return k;
}

size_t oj_utf8_seq_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (p[0] < 0x80)
        return 1;
    size_t want, got = valid_prefix(p, n, &want);
    return want != 0 && got == want ? want : 0;
}

bool oj_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = oj_utf8_seq_len(s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

size_t oj_utf8_fixed_len(const char *src, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t k = oj_utf8_seq_len(src + i, n - i);
        out += k ? k : sizeof OJ_UTF8_REPLACEMENT - 1;
        i += k ? k : 1;
    }
    return out;
}

size_t oj_utf8_copy(char *dst, size_t dstlen, const char *src, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t k = oj_utf8_seq_len(src + i, n - i);
        const char *piece = k ? src + i : OJ_UTF8_REPLACEMENT;
        size_t plen = k ? k : sizeof OJ_UTF8_REPLACEMENT - 1;
        if (out + plen >= dstlen)
            break;
        memcpy(dst + out, piece, plen);
        out += plen;
        i += k ? k : 1;
    }
    dst[out] = '\0';
    return out;
}

const char *oj_utf8_show(char *buf, size_t buflen, const char *s)
{
    oj_utf8_copy(buf, buflen, s ? s : "", s ? strlen(s) : 0);
    return buf;
}

size_t oj_utf8_uncut_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    /* The last lead byte is at most 3 bytes before the end. */
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        if ((p[n - back] & 0xC0) == 0x80)
            continue;
        size_t want, got = valid_prefix(p + n - back, back, &want);
        /* All that follows the lead is a valid start of its sequence, and
         * the sequence wants more: a cut. Anything else stays (and an
         * invalid byte is later replaced, not dropped). */
        return want > back && got == back ? n - back : n;
    }
    return n;
}
