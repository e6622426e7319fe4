/* follow.h — `oj session capture <id> --follow`: the screen, then the
 * session's raw output live over pub/sub until it ends (or Ctrl-C). */
#ifndef OJ_FOLLOW_H
#define OJ_FOLLOW_H
#include "cli.h"

int oj_follow(struct oj_ctx *ctx, struct oj_client *c, const char *query);
#endif
