/* snapshot_pick.h — which snapshot an operator meant by `--id` (pure).
 *
 * A snapshot id is "<seq, 20 digits>-<UTC time>" (docs/storage.md). Typing
 * twenty digits is no one's idea of fun, so besides the whole id the query
 * may be: the seq as a number ("1234": the newest snapshot of that seq), or a
 * unique prefix of the id, with or without the seq's leading zeros
 * ("00000000000000001234-2026", "1234-20261128T15"). The rules of
 * resolve.h apply: an ambiguous prefix is an error naming the candidates. */
#ifndef OJ_SNAPSHOT_PICK_H
#define OJ_SNAPSHOT_PICK_H
#include <stddef.h>

#define OJ_SNAPSHOT_PICK_NONE (-1)
#define OJ_SNAPSHOT_PICK_AMBIGUOUS (-2)

/* ids: the snapshots' ids, newest first (as oj_snapshot_list orders them).
 * Returns the index of the one meant, or OJ_SNAPSHOT_PICK_NONE /
 * OJ_SNAPSHOT_PICK_AMBIGUOUS with the one-line reason in why. */
int oj_snapshot_pick(const char *const *ids, int n, const char *query, char *why, size_t len);
#endif
