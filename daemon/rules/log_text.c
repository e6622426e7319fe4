/* log_text.c — see log_text.h. */
#include "log_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *g = realloc(b->p, cap);
        if (g == NULL) {
            b->oom = true;
            return;
        }
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* The length of the valid UTF-8 sequence at p (n bytes available), 0 when
 * there is none (a stray byte, an overlong form, a surrogate, past U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (p[0] >= 0xC2 && p[0] <= 0xDF)
        len = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        len = 3;
        if (p[0] == 0xE0)
            lo = 0xA0; /* overlong */
        if (p[0] == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        len = 4;
        if (p[0] == 0xF0)
            lo = 0x90; /* overlong */
        if (p[0] == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

enum esc_state { TEXT, ESC, CSI, INTER, STRING };

char *oj_log_text(const char *raw, size_t len, unsigned lines, int partial_start)
{
    const unsigned char *in = (const unsigned char *)raw;
    size_t i = 0;
    if (partial_start) {
        const unsigned char *nl = memchr(in, '\n', len);
        i = nl ? (size_t)(nl - in) + 1 : len;
    }
    struct buf out = {0}, line = {0};
    enum esc_state st = TEXT;
    bool cr = false; /* a "\r" not yet followed by "\n": the next text starts the line over */
    for (; i < len; i++) {
        unsigned char c = in[i];
        switch (st) {
        case ESC:
            st = c == '[' ? CSI
                 : c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_' ? STRING
                 : c >= 0x20 && c <= 0x2F ? INTER
                                          : TEXT;
            continue;
        case CSI:
            if (c >= 0x20 && c <= 0x3F)
                continue;
            st = TEXT;
            if (c >= 0x40 && c <= 0x7E)
                continue;
            break; /* a control byte cuts the sequence short: it acts as itself */
        case INTER:
            if (c < 0x20 || c > 0x2F)
                st = TEXT;
            continue;
        case STRING: /* ends at BEL or ST (ESC \, which the ESC state takes) */
            if (c == 0x07)
                st = TEXT;
            else if (c == 0x1B)
                st = ESC;
            continue;
        case TEXT:
            break;
        }
        if (c == 0x1B) {
            st = ESC;
        } else if (c == '\r') {
            cr = true;
        } else if (c == '\n') {
            put(&line, "\n", 1);
            put(&out, line.p, line.len);
            line.len = 0;
            cr = false;
        } else if (c == '\b') {
            while (line.len > 0 && ((unsigned char)line.p[line.len - 1] & 0xC0) == 0x80)
                line.len--; /* continuation bytes, then the character's first */
            if (line.len > 0)
                line.len--;
        } else if (c == '\t' || (c >= 0x20 && c != 0x7F)) {
            if (cr)
                line.len = 0;
            cr = false;
            put(&line, (const char *)&c, 1);
        }
    }
    if (line.len > 0) {
        put(&line, "\n", 1);
        put(&out, line.p, line.len);
    }
    free(line.p);
    if (out.oom) {
        free(out.p);
        return NULL;
    }

    /* Valid UTF-8 only (a reply's text is a protobuf string). */
    struct buf text = {0};
    put(&text, "", 0);
    for (size_t k = 0; k < out.len;) {
        size_t n = utf8_len((const unsigned char *)out.p + k, out.len - k);
        if (n == 0) {
            put(&text, "\xEF\xBF\xBD", 3);
            k++;
        } else {
            put(&text, out.p + k, n);
            k += n;
        }
    }
    free(out.p);
    if (text.oom) {
        free(text.p);
        return NULL;
    }

    /* Drop trailing blank lines, then keep the last `lines`. */
    size_t end = text.len;
    while (end > 0 && (text.p[end - 1] == '\n' || text.p[end - 1] == ' ' ||
                       text.p[end - 1] == '\t'))
        end--;
    if (end == 0) {
        text.p[0] = '\0';
        return text.p;
    }
    unsigned want = lines ? lines : OJ_LOG_TEXT_LINES, seen = 0;
    size_t start = 0;
    for (size_t k = end; k > 0; k--)
        if (text.p[k - 1] == '\n' && ++seen == want) {
            start = k;
            break;
        }
    memmove(text.p, text.p + start, end - start);
    text.p[end - start] = '\n';
    text.p[end - start + 1] = '\0';
    return text.p;
}
