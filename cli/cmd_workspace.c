/* cmd_workspace.c — `oj workspace …`. The daemon side arrives with the
 * pipelines work; until then these answer "not implemented yet" (exit 6). */
#include "cli.h"

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__WorkspaceListRequest req = OJ__WORKSPACE_LIST_REQUEST__INIT;
    OJ_CALL_AND_PRINT(ctx, oj__control__workspace_list, &req, a);
}

static int exec_cleanup(struct oj_ctx *ctx, const struct oj_args *a)
{
    if (!oj_args_has(a, "stale")) {
        oj_errorf("'oj workspace cleanup' removes only stale workspaces: add --stale (and "
                  "--dry-run to preview)");
        return OJ_EXIT_USAGE;
    }
    Oj__WorkspaceCleanupRequest req = OJ__WORKSPACE_CLEANUP_REQUEST__INIT;
    req.stale = true;
    req.dry_run = oj_args_has(a, "dry-run");
    OJ_CALL_AND_PRINT(ctx, oj__control__workspace_cleanup, &req, a);
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt cleanup_opts[] = {
    {"stale", false, NULL, "remove worktrees of finished, cancelled, archived or vanished pipelines"},
    {"dry-run", false, NULL, "only list what would be removed"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_workspace_list = {
    "workspace", "list", "[--json]", "List workspaces: name, branch, pipeline, state, path", NULL,
    json_only, 0, 0, exec_list,
};
const struct oj_cmd oj_cmd_workspace_cleanup = {
    "workspace", "cleanup", "--stale [--dry-run]", "Remove worktrees no active pipeline uses",
    NULL, cleanup_opts, 0, 0, exec_cleanup,
};
