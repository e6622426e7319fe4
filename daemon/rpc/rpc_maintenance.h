/* rpc_maintenance.h — what the maintenance rpcs share with the daemon's
 * offline path (daemon_offline.c): the RestoreSnapshot reply, so a restore
 * with and without a running daemon answers alike. */
#ifndef OJ_RPC_MAINTENANCE_H
#define OJ_RPC_MAINTENANCE_H
#include <stdbool.h>

#include "oj.pb-c.h"
#include "store.h"

/* Fills out from r; its strings point into r. A dry run has no sequence. */
void oj_restore_reply(const struct oj_restore_result *r, bool dry_run,
                      Oj__RestoreSnapshotResponse *out);
#endif
