/* libFuzzer target: a whole WAL file through the scan (daemon/store/wal.c) and the
 * recovery rules (daemon/store/recovery.c), as start-up reads it. Never crash, read
 * out of bounds or leak; and the answers must hold together: the segments
 * cover the file exactly, in order; runs go up in seq; the next seq a recovery
 * would use is past every seq the file shows; every lost range lies above the
 * rebuilt state. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recovery.h"
#include "state.h"
#include "wal.h"

struct chain {
    struct oj_state *st;
    uint64_t expect;
    int broken;
};

static int apply(struct oj_wal_record *rec, void *arg)
{
    struct chain *c = arg;
    char err[256];
    if (c->broken || rec->seq < c->expect)
        return 0;
    if (rec->seq > c->expect || oj_state_apply(c->st, rec->seq, rec->op, err, sizeof err) != 0) {
        c->broken = 1;
        return 0;
    }
    c->expect = rec->seq + 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/oj-fuzz-wal.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);

    /* The first byte picks the snapshot start-up "loaded". */
    uint64_t base = size ? data[0] % 8 : 0;
    struct chain c = {.st = oj_state_new(), .expect = base + 1};
    oj_state_set_seq(c.st, base);
    struct oj_wal_scan scan;
    char err[256];
    int rc = oj_wal_scan(path, base, apply, &c, &scan, err, sizeof err);
    unlink(path);
    if (rc != 0) {
        oj_state_free(c.st);
        return 0;
    }
    off_t at = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < scan.nsegs; i++) {
        const struct oj_wal_seg *s = &scan.segs[i];
        if (s->start != at || s->end <= s->start)
            abort();
        at = s->end;
        if (s->kind == OJ_WAL_RUN) {
            if (s->first_seq <= prev || s->last_seq < s->first_seq)
                abort();
            prev = s->last_seq;
        }
    }
    if (at != scan.file_size)
        abort();

    struct oj_recovery_snap snaps[1];
    memset(snaps, 0, sizeof snaps);
    snaps[0].info.seq = base;
    snaps[0].tried = snaps[0].usable = 1;
    snprintf(snaps[0].info.id, sizeof snaps[0].info.id, "%020llu-20260101T000000Z",
             (unsigned long long)base);
    struct oj_recovery_in in = {.snaps = snaps, .nsnaps = base ? 1 : 0, .loaded = base ? 0 : -1,
                                .scan = &scan, .state_seq = oj_state_seq(c.st)};
    struct oj_recovery_plan p;
    oj_recovery_plan(&in, &p);
    if (p.next_seq <= p.hwm || p.hwm < scan.max_seq)
        abort();
    for (size_t i = 0; i < p.nlost; i++)
        if (p.lost[i].from <= in.state_seq || (p.lost[i].to && p.lost[i].to < p.lost[i].from))
            abort();
    char text[4096];
    oj_recovery_describe_lost(&p, text, sizeof text);
    oj_wal_scan_free(&scan);
    oj_state_free(c.st);
    return 0;
}
