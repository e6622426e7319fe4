/* follow.h — `oj session capture <id> --follow`: the screen, then the
 * session's raw output live over pub/sub until it ends (or Ctrl-C). */
#ifndef OJ_FOLLOW_H
#define OJ_FOLLOW_H
#include "cli.h"

int oj_follow(struct oj_ctx *ctx, struct oj_client *c, const char *query);

/* What to do with a chunk at `offset` of `len` bytes when the log has been
 * printed up to `printed`: fetch [printed, offset) first when it starts past
 * that (*gap), then print the chunk from byte *skip on (*skip == len: all of
 * it was printed already). Pure, so the gap logic is unit-tested. */
struct oj_follow_step {
    bool gap;
    uint64_t gap_from, gap_to;
    size_t skip;
};
struct oj_follow_step oj_follow_plan(uint64_t printed, uint64_t offset, size_t len);
#endif
