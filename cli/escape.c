/* escape.c — see escape.h. */
#include "escape.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (2-4), or 0 when the bytes
 * there are not one (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c >= 0xc2 && c <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4
                                                                                          : 0;
    }
    return 0;
}

size_t oj_escape_text(const char *in, char *out, size_t cap)
{
    size_t need = 0, used = 0; /* used: bytes written to out, cut at an escape boundary */
    bool room = cap > 0;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    while (*p) {
        char esc[8];
        const char *piece = esc;
        size_t n;
        unsigned char c = *p;
        if (c < 0x20 || c == 0x7f) {
            const char *named = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
                                : c == 0x1b ? "\\e" : NULL;
            if (named)
                snprintf(esc, sizeof esc, "%s", named);
            else
                snprintf(esc, sizeof esc, "\\x%02x", c);
            n = strlen(esc);
            p++;
        } else if (c < 0x80) {
            piece = (const char *)p;
            n = 1;
            p++;
        } else if ((n = utf8_len(p)) > 0) {
            if (n == 2 && c == 0xc2 && p[1] < 0xa0) { /* U+0080..U+009F: C1 controls */
                snprintf(esc, sizeof esc, "\\u%04x", p[1]);
                p += 2;
                n = strlen(esc);
            } else {
                piece = (const char *)p;
                p += n;
            }
        } else {
            snprintf(esc, sizeof esc, "\\x%02x", c);
            n = strlen(esc);
            p++;
        }
        need += n;
        if (room && used + n < cap) {
            memcpy(out + used, piece, n);
            used += n;
        } else {
            room = false; /* never a part of an escape or of a character */
        }
    }
    if (cap > 0)
        out[used] = '\0';
    return need;
}

const char *oj_esc(const char *s)
{
    static char *bufs[16];
    static size_t caps[16];
    static unsigned next;
    unsigned i = next++ % 16;
    size_t need = oj_escape_text(s, NULL, 0) + 1;
    if (caps[i] < need) {
        char *grown = realloc(bufs[i], need);
        if (grown == NULL)
            return "?";
        bufs[i] = grown;
        caps[i] = need;
    }
    oj_escape_text(s, bufs[i], caps[i]);
    return bufs[i];
}
