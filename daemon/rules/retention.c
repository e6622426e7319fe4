/* retention.c — see retention.h. */
#include "retention.h"

#include <stdlib.h>

static int oldest_first(const void *a, const void *b)
{
    const struct oj_history_file *x = a, *y = b;
    return (x->mtime_ms > y->mtime_ms) - (x->mtime_ms < y->mtime_ms);
}

static bool removable(const struct oj_history_file *f, int64_t now_ms)
{
    return !f->live && f->mtime_ms <= now_ms - OJ_RETENTION_FRESH_MS;
}

void oj_retention_plan(struct oj_history_file *f, size_t n, int64_t now_ms, int64_t retain_ms,
                       uint64_t cap_bytes, struct oj_retention_totals *t)
{
    *t = (struct oj_retention_totals){0};
    if (n > 1)
        qsort(f, n, sizeof *f, oldest_first);
    uint64_t total = 0; /* the history: files of records no longer live, kept so far */
    for (size_t i = 0; i < n; i++) {
        f[i].remove = retain_ms > 0 && removable(&f[i], now_ms) &&
                      f[i].mtime_ms < now_ms - retain_ms;
        if (!f[i].remove && !f[i].live)
            total += f[i].bytes;
    }
    /* Over the cap: the oldest removable files next, until under it. A live
     * record's files do not count: they cannot go, and counting them would
     * make a big one purge every archive minutes after it is written. */
    for (size_t i = 0; cap_bytes > 0 && total > cap_bytes && i < n; i++) {
        if (f[i].remove || !removable(&f[i], now_ms))
            continue;
        f[i].remove = true;
        total -= f[i].bytes;
    }
    for (size_t i = 0; i < n; i++) {
        if (f[i].remove) {
            t->removed++;
            t->removed_bytes += f[i].bytes;
        } else {
            t->kept++;
            t->kept_bytes += f[i].bytes;
            if (!f[i].live) {
                t->history++;
                t->history_bytes += f[i].bytes;
            }
        }
    }
}
