/* cmd_lock.c — `oj lock …`. The daemon side arrives with the durable-state
 * work; until then these answer "not implemented yet" (exit 6). */
#include "cli.h"

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__LockListRequest req = OJ__LOCK_LIST_REQUEST__INIT;
    req.stale_only = oj_args_has(a, "stale");
    OJ_CALL_AND_PRINT(ctx, oj__control__lock_list, &req, a);
}

static int exec_status(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__LockRef req = OJ__LOCK_REF__INIT;
    req.name = a->pos[0];
    OJ_CALL_AND_PRINT(ctx, oj__control__lock_status, &req, a);
}

static int exec_acquire(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__LockAcquireRequest req = OJ__LOCK_ACQUIRE_REQUEST__INIT;
    long long timeout = 0;
    if (oj_opt_duration(a, "timeout", &timeout) != 0)
        return OJ_EXIT_USAGE;
    req.name = a->pos[0];
    req.holder = (char *)(oj_args_get(a, "holder") ? oj_args_get(a, "holder") : "");
    req.timeout_ms = timeout;
    OJ_CALL_AND_PRINT(ctx, oj__control__lock_acquire, &req, a);
}

static int exec_release(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__LockReleaseRequest req = OJ__LOCK_RELEASE_REQUEST__INIT;
    req.name = a->pos[0];
    req.holder = (char *)(oj_args_get(a, "holder") ? oj_args_get(a, "holder") : "");
    req.force = oj_args_has(a, "force");
    OJ_CALL_AND_PRINT(ctx, oj__control__lock_release, &req, a);
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt list_opts[] = {
    {"stale", false, NULL, "only locks whose holder is gone or whose heartbeat is too old"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt acquire_opts[] = {
    {"holder", true, "H", "who holds it (default: this user and host)"},
    {"timeout", true, "DUR", "heartbeat age after which the lock counts as stale"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt release_opts[] = {
    {"holder", true, "H", "release as this holder"},
    {"force", false, NULL, "release whoever holds it (use with caution)"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_lock_list = {
    "lock", "list", "[--stale] [--json]", "List locks", NULL, list_opts, 0, 0, exec_list,
};
const struct oj_cmd oj_cmd_lock_status = {
    "lock", "status", "<name> [--json]", "Holder, since when, last heartbeat, stale or not", NULL,
    json_only, 1, 1, exec_status,
};
const struct oj_cmd oj_cmd_lock_acquire = {
    "lock", "acquire", "<name> [--holder H] [--timeout DUR]", "Take a lock (for scripts)", NULL,
    acquire_opts, 1, 1, exec_acquire,
};
const struct oj_cmd oj_cmd_lock_release = {
    "lock", "release", "<name> [--holder H] [--force]", "Release a lock", NULL, release_opts, 1,
    1, exec_release,
};
