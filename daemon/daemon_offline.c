/* daemon_offline.c — what the daemon's code does for the CLI while no daemon
 * runs (daemon_main.h): check the settings, list snapshots and restore one
 * on disk. */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "daemon_main.h"
#include "rpc_maintenance.h"
#include "snapshot_pick.h"
#include "store.h"

int oj_daemon_check_settings(char *err, size_t errlen)
{
    struct oj_config cfg;
    return oj_config_from_env(&cfg, err, errlen);
}

/* The reply and the result its strings point into, freed together. */
struct offline_restore {
    Oj__RestoreSnapshotResponse reply; /* first: the pointer handed out */
    struct oj_restore_result r;
};

int oj_daemon_restore_offline(const char *state_dir, const char *id, bool dry_run,
                              Oj__RestoreSnapshotResponse **out, char *err, size_t errlen)
{
    *out = NULL;
    struct offline_restore *o = calloc(1, sizeof *o);
    if (o == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char whole[OJ_SNAPSHOT_ID_MAX];
    if (id != NULL) { /* the seq or a prefix, as the rpc takes it */
        int found = oj_snapshot_find(state_dir, id, whole, sizeof whole, err, errlen);
        if (found != 0) {
            free(o);
            return found == OJ_SNAPSHOT_PICK_NONE        ? -2
                   : found == OJ_SNAPSHOT_PICK_AMBIGUOUS ? -3
                                                         : -1;
        }
        id = whole;
    }
    int rc = oj_store_restore_offline(state_dir, id, dry_run, &o->r, err, errlen);
    if (rc != 0) {
        free(o);
        return rc;
    }
    oj_restore_reply(&o->r, dry_run, &o->reply);
    *out = &o->reply;
    return 0;
}

void oj_daemon_restore_free(Oj__RestoreSnapshotResponse *out)
{
    free((struct offline_restore *)(void *)out);
}

int oj_daemon_snapshots_offline(const char *state_dir, Oj__SnapshotListResponse **out, char *err,
                                size_t errlen)
{
    return oj_snapshot_listing(state_dir, out, err, errlen);
}

void oj_daemon_snapshots_free(Oj__SnapshotListResponse *out) { oj_snapshot_listing_free(out); }
