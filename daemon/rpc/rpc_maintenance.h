/* rpc_maintenance.h — what the maintenance rpcs share with the daemon's
 * offline path (daemon_offline.c): the RestoreSnapshot reply, the snapshot
 * list and which snapshot an id names, so that with and without a running
 * daemon they answer alike. */
#ifndef OJ_RPC_MAINTENANCE_H
#define OJ_RPC_MAINTENANCE_H
#include <stdbool.h>
#include <stddef.h>

#include "oj.pb-c.h"
#include "store.h"

/* Which snapshot in state_dir/snapshots/ `query` names (snapshot_pick.h:
 * the id, the seq, or a unique prefix): 0 with its whole id in id,
 * OJ_SNAPSHOT_PICK_NONE or OJ_SNAPSHOT_PICK_AMBIGUOUS with the one-line
 * reason in why, or -3 when the directory cannot be read. */
int oj_snapshot_find(const char *state_dir, const char *query, char *id, size_t idlen,
                     char *why, size_t whylen);

/* The snapshots in state_dir/snapshots/, newest first, as the
 * MaintenanceSnapshots rpc answers: 0 with *out (free it with
 * oj_snapshot_listing_free), or -1 with err. */
int oj_snapshot_listing(const char *state_dir, Oj__SnapshotListResponse **out, char *err,
                        size_t errlen);
void oj_snapshot_listing_free(Oj__SnapshotListResponse *out);

/* Fills out from r; its strings point into r. A dry run has no sequence. */
void oj_restore_reply(const struct oj_restore_result *r, bool dry_run,
                      Oj__RestoreSnapshotResponse *out);
#endif
