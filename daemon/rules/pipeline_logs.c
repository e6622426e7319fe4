/* pipeline_logs.c — see pipeline_logs.h. */
#include "pipeline_logs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oj_log_mark_line(uint64_t offset, const char *sid, const char *phase, char *buf, size_t len)
{
    snprintf(buf, len, "%llu %.15s %.79s\n", (unsigned long long)offset, sid, phase);
}

/* A word of [a-zA-Z0-9._-]: ids and phase names are made of these. */
static size_t word(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && (s[n] == '.' || s[n] == '_' || s[n] == '-' ||
                       (s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'z') ||
                       (s[n] >= 'A' && s[n] <= 'Z')))
        n++;
    return n;
}

static bool parse_line(const char *s, size_t len, struct oj_log_mark *m)
{
    size_t i = 0;
    uint64_t off = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && i < 19)
        off = off * 10 + (uint64_t)(s[i++] - '0');
    if (i == 0 || i >= len || s[i] != ' ')
        return false;
    i++;
    size_t a = word(s + i, len - i);
    if (a == 0 || a >= sizeof m->sid || i + a >= len || s[i + a] != ' ')
        return false;
    memcpy(m->sid, s + i, a);
    m->sid[a] = '\0';
    i += a + 1;
    size_t b = word(s + i, len - i);
    if (b == 0 || b >= sizeof m->phase || i + b != len)
        return false;
    memcpy(m->phase, s + i, b);
    m->phase[b] = '\0';
    m->offset = off;
    return true;
}

size_t oj_log_marks_parse(const char *text, size_t len, struct oj_log_mark *out, size_t cap)
{
    size_t n = 0, at = 0;
    while (at < len && n < cap) {
        const char *nl = memchr(text + at, '\n', len - at);
        if (nl == NULL)
            break; /* a line without its newline: cut off mid-write */
        size_t l = (size_t)(nl - (text + at));
        if (parse_line(text + at, l, &out[n])) {
            if (n > 0 && out[n].offset < out[n - 1].offset)
                out[n].offset = out[n - 1].offset;
            n++;
        }
        at += l + 1;
    }
    return n;
}

bool oj_log_part_of(const struct oj_log_mark *marks, size_t n, uint32_t part,
                    struct oj_log_part *out)
{
    memset(out, 0, sizeof *out);
    if ((size_t)part > 2 * n)
        return false;
    if (part % 2 == 1) {
        out->session = true;
        out->mark = (part - 1) / 2;
        return true;
    }
    size_t k = part / 2; /* slice after mark k - 1, before mark k */
    out->start = k == 0 ? 0 : marks[k - 1].offset;
    out->open = k == n;
    out->end = out->open ? out->start : marks[k].offset;
    return true;
}

bool oj_log_session_over(bool has_record, bool dead, int64_t ended_at_ms, int64_t now_ms)
{
    if (!has_record)
        return true;
    return dead && now_ms - ended_at_ms >= OJ_LOG_SESSION_SETTLE_MS;
}
