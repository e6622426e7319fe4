/* snapshot_pick.c — see snapshot_pick.h. */
#include "snapshot_pick.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"

#define LIST_CMD "oj maintenance snapshots"

/* The id without its seq's leading zeros: "1234-20261128T153012Z". */
static const char *short_id(const char *id)
{
    const char *p = id;
    while (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
        p++;
    return p;
}

int oj_snapshot_pick(const char *const *ids, int n, const char *query, char *why, size_t len)
{
    /* The seqs as numbers, the names a query matches exactly. */
    char(*seqs)[24] = calloc(n > 0 ? (size_t)n : 1, sizeof *seqs);
    if (seqs == NULL) {
        snprintf(why, len, "out of memory");
        return OJ_SNAPSHOT_PICK_NONE;
    }
    /* A query with a leading zero is a prefix of whole ids, any other of the
     * short ones; either way the candidates are named as the query was typed. */
    bool whole = query[0] == '0';
    struct oj_resolve r = {.query = query};
    for (int i = 0; i < n; i++) {
        const char *s = short_id(ids[i]);
        size_t digits = strcspn(s, "-");
        snprintf(seqs[i], sizeof seqs[i], "%.*s", (int)(digits < 23 ? digits : 23), s);
        /* newest first: the first of a seq is the one a bare seq names */
        oj_resolve_offer(&r, whole ? ids[i] : s, seqs[i], (int64_t)(n - i));
    }
    const char *got;
    int pick;
    switch (oj_resolve_explain(&r, "snapshot", LIST_CMD, &got, why, len)) {
    case OJ_RESOLVE_FOUND:
        pick = OJ_SNAPSHOT_PICK_NONE;
        for (int i = 0; i < n && pick < 0; i++)
            if (got == ids[i] || got == short_id(ids[i]))
                pick = i;
        break;
    case OJ_RESOLVE_AMBIGUOUS:
        pick = OJ_SNAPSHOT_PICK_AMBIGUOUS;
        break;
    default:
        pick = OJ_SNAPSHOT_PICK_NONE;
        break;
    }
    free(seqs);
    return pick;
}
