/* libFuzzer target: the WAL line parser (daemon/store/wal.c) must never crash,
 * read out of bounds or leak on any input, and whatever it accepts must be a
 * well-formed operation with a matching checksum that applies cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The parser gets a line without its newline, exactly like the scanner. */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t len = nl ? (size_t)(nl - data) : size;
    struct oj_wal_record rec;
    char err[256];
    if (oj_wal_parse_line((const char *)data, len, true, &rec, err, sizeof err) == 0) {
        struct oj_state *st = oj_state_new();
        oj_state_apply(st, rec.seq, rec.op, err, sizeof err); /* may refuse, must not crash */
        /* Re-encoding what was accepted must round-trip. */
        size_t n;
        char *line = oj_wal_format(rec.seq, rec.time_ms, rec.op, &n);
        struct oj_wal_record again;
        if (line == NULL || oj_wal_parse_line(line, n - 1, false, &again, err, sizeof err) != 0 ||
            again.seq != rec.seq)
            abort();
        free(line);
        cJSON_Delete(rec.op);
        oj_state_free(st);
    }
    return 0;
}
