/* libFuzzer target: the snapshot loader (daemon/store/snapshot.c) must never crash,
 * read out of bounds or leak on any file content; what it accepts must
 * serialize back to an equal state. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "snapshot.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oj_state *st = oj_state_new();
    char err[256];
    if (oj_snapshot_parse((const char *)data, size, st, err, sizeof err) == 0) {
        cJSON *j = oj_state_to_json(st);
        struct oj_state *copy = oj_state_new();
        if (oj_state_load_json(copy, j, oj_state_seq(st), err, sizeof err) != 0)
            abort();
        cJSON *j2 = oj_state_to_json(copy);
        if (!cJSON_Compare(j, j2, 1))
            abort();
        cJSON_Delete(j);
        cJSON_Delete(j2);
        oj_state_free(copy);
    }
    oj_state_free(st);
    return 0;
}
