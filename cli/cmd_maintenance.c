/* cmd_maintenance.c — `oj maintenance …`: snapshots (take, list, restore),
 * compaction and archive of the daemon's durable state (docs/storage.md). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "cli.h"
#include "daemon_main.h"
#include "pidlock.h"
#include "progress.h"

static void human_compact(const void *m)
{
    const Oj__CompactResponse *r = m;
    char before[32], after[32];
    oj_fmt_bytes(r->wal_bytes_before, before, sizeof before);
    oj_fmt_bytes(r->wal_bytes_after, after, sizeof after);
    printf("compacted: WAL %s -> %s; snapshot %s; %u old snapshot(s) removed\n", before, after,
           oj_esc(r->snapshot_id), r->snapshots_removed);
}

static void human_snapshot(const void *m)
{
    const Oj__SnapshotResponse *r = m;
    printf("%s\n", oj_esc(r->snapshot_id));
}

/* "seqs 31..60 (30 changes: lock 6 -> 3)" or "nothing". */
static void describe_drop(const Oj__RestoreSnapshotResponse *r, char *buf, size_t len)
{
    if (r->dropped_count == 0)
        snprintf(buf, len, "no record written after it");
    else
        snprintf(buf, len, "the %llu record(s) written after it, seq %llu..%llu%s%s%s",
                 (unsigned long long)r->dropped_count, (unsigned long long)r->dropped_from,
                 (unsigned long long)r->dropped_to, r->entity_counts[0] ? " (" : "",
                 r->entity_counts, r->entity_counts[0] ? ")" : "");
}

static void human_restore(const void *m)
{
    const Oj__RestoreSnapshotResponse *r = m;
    char drop[700];
    describe_drop(r, drop, sizeof drop);
    char lost[760];
    if (r->dropped_count == 0) /* not "no longer has no record ..." */
        snprintf(lost, sizeof lost, "nothing was written after it, so the live state lost nothing");
    else
        snprintf(lost, sizeof lost, "the live state no longer has %s", drop);
    printf("restored snapshot %s (taken at seq %llu) as seq %llu; %s; the replaced WAL is kept as "
           "%s\n",
           oj_esc(r->snapshot_id), (unsigned long long)r->snapshot_sequence,
           (unsigned long long)r->sequence, lost, oj_esc(r->wal_backup));
}

/* On a terminal, a restore that drops changes says which and asks first. */
static bool confirm_restore(const Oj__RestoreSnapshotResponse *dry)
{
    if (dry->dropped_count == 0)
        return true;
    char drop[700], answer[16] = "";
    describe_drop(dry, drop, sizeof drop);
    fprintf(stderr,
            "Restoring snapshot %s (taken at seq %llu) drops %s from the live state (the WAL "
            "keeps them in a copy). Restore? [y/N] ",
            oj_esc(dry->snapshot_id), (unsigned long long)dry->snapshot_sequence, drop);
    fflush(stderr);
    if (fgets(answer, sizeof answer, stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y')) {
        fprintf(stderr, "\n");
        oj_errorf("nothing restored (pass --yes to restore without asking)");
        return false;
    }
    return true;
}

/* Restores on disk under the daemon's lock (held by the caller), by the
 * daemon's own code (daemon_main.h): the CLI never touches the store. */
static void human_snapshots(const void *m)
{
    const Oj__SnapshotListResponse *r = m;
    if (r->n_snapshots == 0) {
        printf("no snapshots in .oj/snapshots/; take one with `oj maintenance snapshot`\n");
        return;
    }
    printf("%-12s %-19s %-10s %s\n", "SEQ", "TAKEN", "SIZE", "ID");
    for (size_t i = 0; i < r->n_snapshots; i++) {
        const Oj__SnapshotInfo *s = r->snapshots[i];
        char taken[32], size[32];
        time_t t = (time_t)(s->time_ms / 1000);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(taken, sizeof taken, "%Y-%m-%d %H:%M:%S", &tm);
        oj_fmt_bytes(s->bytes, size, sizeof size);
        printf("%-12llu %-19s %-10s %s\n", (unsigned long long)s->sequence, taken, size,
               oj_esc(s->id));
    }
}

static int print_offline_snapshots(struct oj_ctx *ctx, const struct oj_args *a)
{
    char err[1024];
    Oj__SnapshotListResponse *out;
    if (oj_daemon_snapshots_offline(ctx->paths.state_dir, &out, err, sizeof err) != 0) {
        oj_errorf("%s", err);
        return OJ_EXIT_FAILURE;
    }
    if (oj_args_has(a, "json"))
        oj_print_json(&out->base);
    else
        human_snapshots(out);
    oj_daemon_snapshots_free(out);
    return OJ_EXIT_OK;
}

/* With the daemon running it answers (it writes and prunes them); without
 * one the same code reads the directory here, as for an offline restore. */
static int exec_snapshots(struct oj_ctx *ctx, const struct oj_args *a)
{
    int rc = ctx->remote ? 0 : oj_ctx_project(ctx); /* remote: only the daemon can say */
    if (rc != 0)
        return rc;
    if (!ctx->remote && oj_pidlock_holder(ctx->paths.pid_path) == 0)
        return print_offline_snapshots(ctx, a);
    Oj__SnapshotListRequest req = OJ__SNAPSHOT_LIST_REQUEST__INIT;
    WITH_CLIENT(ctx, c,
                (oj__control__maintenance_snapshots(oj_client_service(c), &req, NULL, NULL),
                 oj_print_reply(c, a, human_snapshots)));
}

/* -2: no such snapshot (4); -3: an ambiguous prefix (2, as for other ids). */
static int restore_exit(int rc)
{
    return rc == -2 ? OJ_EXIT_NOT_FOUND : rc == -3 ? OJ_EXIT_USAGE : OJ_EXIT_FAILURE;
}

static int restore_offline(struct oj_ctx *ctx, const struct oj_args *a, const char *id, bool ask)
{
    char err[1024];
    Oj__RestoreSnapshotResponse *out;
    if (ask) {
        struct oj_progress *p = oj_progress_start("reading the snapshot");
        int rc = oj_daemon_restore_offline(ctx->paths.state_dir, id, true, &out, err, sizeof err);
        oj_progress_stop(p);
        if (rc != 0) {
            oj_errorf("%s", err);
            return restore_exit(rc);
        }
        bool go = confirm_restore(out);
        oj_daemon_restore_free(out);
        if (!go)
            return OJ_EXIT_FAILURE;
    }
    struct oj_progress *p = oj_progress_start("restoring the snapshot");
    int rc = oj_daemon_restore_offline(ctx->paths.state_dir, id, false, &out, err, sizeof err);
    oj_progress_stop(p);
    if (rc != 0) {
        oj_errorf("%s", err);
        return restore_exit(rc);
    }
    if (oj_args_has(a, "json")) {
        oj_print_json(&out->base);
    } else {
        human_restore(out);
        printf("(the daemon is not running: restored on disk; start it with `oj daemon "
               "start`)\n");
    }
    oj_daemon_restore_free(out);
    return OJ_EXIT_OK;
}

static int restore_online(struct oj_client *c, const struct oj_args *a,
                          Oj__RestoreSnapshotRequest *req, bool ask)
{
    if (ask) {
        req->dry_run = true;
        struct oj_progress *p = oj_progress_start("reading the snapshot");
        oj__control__maintenance_restore_snapshot(oj_client_service(c), req, NULL, NULL);
        oj_progress_stop(p);
        if (oj_client_status(c) != OJ__STATUS_CODE__OK)
            return oj_call_failed(c);
        Oj__RestoreSnapshotResponse *dry = (void *)oj_client_take_reply(c);
        bool go = confirm_restore(dry);
        oj_client_free_reply(dry);
        if (!go)
            return OJ_EXIT_FAILURE;
        req->dry_run = false;
    }
    struct oj_progress *p = oj_progress_start("restoring the snapshot");
    oj__control__maintenance_restore_snapshot(oj_client_service(c), req, NULL, NULL);
    oj_progress_stop(p);
    return oj_print_reply(c, a, human_restore);
}

static void human_archive(const void *m)
{
    const Oj__ArchiveResponse *r = m;
    if (r->archived == 0 && r->sessions_archived == 0)
        printf("archived 0 pipelines and 0 sessions (none ended before the cut-off)\n");
    else
        printf("archived %u pipeline(s) and %u session(s) to %s\n", r->archived,
               r->sessions_archived, oj_esc(r->archive_path));
}

static int call_compact(struct oj_client *c, const struct oj_args *a)
{
    Oj__CompactRequest req = OJ__COMPACT_REQUEST__INIT;
    struct oj_progress *p = oj_progress_start("compacting the WAL");
    oj__control__maintenance_compact(oj_client_service(c), &req, NULL, NULL);
    oj_progress_stop(p);
    return oj_print_reply(c, a, human_compact);
}

static int exec_compact(struct oj_ctx *ctx, const struct oj_args *a)
{
    WITH_CLIENT(ctx, c, call_compact(c, a));
}

static int call_snapshot(struct oj_client *c, const struct oj_args *a)
{
    Oj__SnapshotRequest req = OJ__SNAPSHOT_REQUEST__INIT;
    struct oj_progress *p = oj_progress_start("writing a snapshot");
    oj__control__maintenance_snapshot(oj_client_service(c), &req, NULL, NULL);
    oj_progress_stop(p);
    return oj_print_reply(c, a, human_snapshot);
}

static int exec_snapshot(struct oj_ctx *ctx, const struct oj_args *a)
{
    WITH_CLIENT(ctx, c, call_snapshot(c, a));
}

static int exec_restore(struct oj_ctx *ctx, const struct oj_args *a)
{
    const char *id = oj_args_get(a, "id");
    bool latest = oj_args_has(a, "latest");
    if (latest == (id != NULL)) {
        oj_errorf("'oj maintenance restore-snapshot' needs exactly one of --latest or --id "
                  "<snapshot-id> (an id, its seq or a unique prefix; see `oj maintenance "
                  "snapshots`)");
        return OJ_EXIT_USAGE;
    }
    Oj__RestoreSnapshotRequest req = OJ__RESTORE_SNAPSHOT_REQUEST__INIT;
    req.latest = latest;
    req.id = (char *)(id ? id : "");
    char idbuf[128];
    snprintf(idbuf, sizeof idbuf, "%s", req.id);
    size_t n = strlen(idbuf);
    if (n > 5 && strcmp(idbuf + n - 5, ".json") == 0)
        idbuf[n - 5] = '\0'; /* accept the file name too */
    req.id = idbuf;

    /* Ask on a terminal, unless told not to; scripts and --json never wait. */
    bool ask = !oj_args_has(a, "yes") && !oj_args_has(a, "json") && isatty(STDIN_FILENO);

    /* With no daemon running, restore right here under its single-instance
     * lock: that is also the way out when a damaged WAL keeps it from starting. */
    int rc = ctx->remote ? 0 : oj_ctx_project(ctx); /* remote: only through the daemon */
    if (rc != 0)
        return rc;
    if (!ctx->remote && oj_pidlock_holder(ctx->paths.pid_path) == 0) {
        int fd = oj_pidlock_acquire(ctx->paths.pid_path, NULL);
        if (fd >= 0) {
            rc = restore_offline(ctx, a, latest ? NULL : idbuf, ask);
            close(fd);
            return rc;
        }
        /* A daemon started meanwhile: ask it. */
    }
    WITH_CLIENT(ctx, c, restore_online(c, a, &req, ask));
}

static int call_archive(struct oj_client *c, const struct oj_args *a, long long older_than_ms)
{
    Oj__ArchiveRequest req = OJ__ARCHIVE_REQUEST__INIT;
    req.older_than_ms = older_than_ms;
    struct oj_progress *p = oj_progress_start("archiving");
    oj__control__maintenance_archive(oj_client_service(c), &req, NULL, NULL);
    oj_progress_stop(p);
    return oj_print_reply(c, a, human_archive);
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
    WITH_CLIENT(ctx, c, call_archive(c, a, ms));
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt restore_opts[] = {
    {"latest", false, NULL, "restore the newest snapshot"},
    {"id", true, "ID",
     "restore this snapshot: its id (.json optional), its seq, or a unique prefix of the id"},
    {"yes", false, NULL, "do not ask first (on a terminal, a restore that drops changes asks)"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt archive_opts[] = {
    {"older-than", true, "DUR",
     "archive finished pipelines and ended sessions older than this (with a unit: 30m, 12h, "
     "7d; 0 for all)"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_maintenance_compact = {
    "maintenance", "compact", "[--json]",
    "Snapshot, then drop what the snapshot covers from the WAL",
    "Reports the WAL size before and after. Keeps the newest OJ_SNAPSHOT_KEEP (5) snapshots.\n"
    "Also runs by itself when the WAL passes OJ_COMPACT_SIZE (100MB).",
    json_only, 0, 0, exec_compact,
};
const struct oj_cmd oj_cmd_maintenance_snapshot = {
    "maintenance", "snapshot", "[--json]", "Write a snapshot to .oj/snapshots/ and print its id",
    "Also taken by itself every OJ_SNAPSHOT_EVERY (10000) changes and at a graceful stop.",
    json_only, 0, 0, exec_snapshot,
};
const struct oj_cmd oj_cmd_maintenance_snapshots = {
    "maintenance", "snapshots", "[--json]",
    "List snapshots: seq, time, size, id (newest first)",
    "Works with or without the daemon running. Any of them can be given to\n"
    "`oj maintenance restore-snapshot --id`: the whole id, its seq (1234), or a unique prefix\n"
    "of the id with or without the seq's leading zeros (1234-2026...).",
    json_only, 0, 0, exec_snapshots,
};
const struct oj_cmd oj_cmd_maintenance_restore_snapshot = {
    "maintenance", "restore-snapshot", "--latest | --id <snapshot-id> [--yes]",
    "Restore the state of a snapshot (the replaced WAL is kept)",
    "With the daemon running it restores online, atomically with respect to every other\n"
    "request; no stop needed. With no daemon running it restores on disk under the daemon's\n"
    "lock, which also works when a damaged WAL keeps the daemon from starting. Either way the\n"
    "current WAL is kept as .oj/wal.jsonl.pre-restore-<time> and the restored state gets a new\n"
    "sequence number, written as a new snapshot, so nothing is lost for good.\n"
    "It says which changes leave the live state (the seqs after the snapshot, and entity\n"
    "counts before and after); on a terminal it asks first unless --yes is given.\n"
    "--id takes the id, its seq, or a unique prefix (`oj maintenance snapshots` lists them);\n"
    "an ambiguous prefix exits 2 naming the candidates, an unknown one exits 4.",
    restore_opts, 0, 0, exec_restore,
};
const struct oj_cmd oj_cmd_maintenance_archive = {
    "maintenance", "archive", "--older-than DUR",
    "Move old finished pipelines and ended sessions to .oj/archive/",
    "Finished means done, failed or cancelled; ended means dead (a session a pipeline that\n"
    "stays still names is kept). Writes them as readable JSON to\n"
    ".oj/archive/archive-<time>-<seq>.json, then removes them from the live state. A\n"
    "session's log file stays in .oj/logs/sessions/.",
    archive_opts, 0, 0, exec_archive,
};
