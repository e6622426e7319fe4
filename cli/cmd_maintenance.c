/* cmd_maintenance.c — `oj maintenance …`. The daemon side arrives with the
 * durable-state work; until then these answer "not implemented yet" (exit 6). */
#include <string.h>

#include "cli.h"

static int exec_compact(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__CompactRequest req = OJ__COMPACT_REQUEST__INIT;
    OJ_CALL_AND_PRINT(ctx, oj__control__maintenance_compact, &req, a);
}

static int exec_snapshot(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SnapshotRequest req = OJ__SNAPSHOT_REQUEST__INIT;
    OJ_CALL_AND_PRINT(ctx, oj__control__maintenance_snapshot, &req, a);
}

static int exec_restore(struct oj_ctx *ctx, const struct oj_args *a)
{
    const char *id = oj_args_get(a, "id");
    bool latest = oj_args_has(a, "latest");
    if (latest == (id != NULL)) {
        oj_errorf("'oj maintenance restore-snapshot' needs exactly one of --latest or --id "
                  "<snapshot-id> (ids are the file names in .oj/snapshots/)");
        return OJ_EXIT_USAGE;
    }
    Oj__RestoreSnapshotRequest req = OJ__RESTORE_SNAPSHOT_REQUEST__INIT;
    req.latest = latest;
    req.id = (char *)(id ? id : "");
    OJ_CALL_AND_PRINT(ctx, oj__control__maintenance_restore_snapshot, &req, a);
}

static int exec_archive(struct oj_ctx *ctx, const struct oj_args *a)
{
    long long ms = -1;
    if (oj_opt_duration(a, "older-than", &ms) != 0)
        return OJ_EXIT_USAGE;
    if (ms < 0) {
        oj_errorf("'oj maintenance archive' needs --older-than DUR (e.g. 30d)");
        return OJ_EXIT_USAGE;
    }
    Oj__ArchiveRequest req = OJ__ARCHIVE_REQUEST__INIT;
    req.older_than_ms = ms;
    OJ_CALL_AND_PRINT(ctx, oj__control__maintenance_archive, &req, a);
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt restore_opts[] = {
    {"latest", false, NULL, "restore the newest snapshot"},
    {"id", true, "ID", "restore this snapshot"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt archive_opts[] = {
    {"older-than", true, "DUR", "archive finished pipelines older than this (s, m, h, d)"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_maintenance_compact = {
    "maintenance", "compact", "[--json]", "Snapshot, then drop what the snapshot covers from the WAL",
    NULL, json_only, 0, 0, exec_compact,
};
const struct oj_cmd oj_cmd_maintenance_snapshot = {
    "maintenance", "snapshot", "[--json]", "Write a snapshot to .oj/snapshots/ and print its id",
    NULL, json_only, 0, 0, exec_snapshot,
};
const struct oj_cmd oj_cmd_maintenance_restore_snapshot = {
    "maintenance", "restore-snapshot", "--latest | --id <snapshot-id>",
    "Restore the state of a snapshot (the replaced WAL is kept)", NULL, restore_opts, 0, 0,
    exec_restore,
};
const struct oj_cmd oj_cmd_maintenance_archive = {
    "maintenance", "archive", "--older-than DUR", "Move old finished pipelines to .oj/archive/",
    NULL, archive_opts, 0, 0, exec_archive,
};
