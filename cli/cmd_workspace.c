/* cmd_workspace.c — `oj workspace …`: the git worktrees pipelines work in
 * (rpc_workspace.c on the daemon side). */
#include <stdio.h>

#include "cli.h"
#include "term.h"

static void print_table(Oj__WorkspaceInfo **w, size_t n, const char *none)
{
    if (n == 0) {
        printf("%s\n", none);
        return;
    }
    printf("%-24s %-28s %-9s %-10s %s\n", "NAME", "BRANCH", "PIPELINE", "STATE", "PATH");
    for (size_t i = 0; i < n; i++)
        printf("%-24s %-28s %-9s %s %s\n", oj_esc(w[i]->name), oj_esc(w[i]->branch),
               w[i]->pipeline_id[0] ? oj_esc(w[i]->pipeline_id) : "-",
               oj_cell(w[i]->state, oj_esc(w[i]->state), 10), oj_esc(w[i]->path));
}

static void human_list(const void *m)
{
    const Oj__WorkspaceListResponse *r = m;
    print_table(r->workspaces, r->n_workspaces, "no workspaces");
}

static bool dry_run;

static void human_cleanup(const void *m)
{
    const Oj__WorkspaceCleanupResponse *r = m;
    if (r->n_removed)
        printf("%s %zu stale workspace(s):\n", dry_run ? "would remove" : "removed",
               r->n_removed);
    print_table(r->removed, r->n_removed, "no stale workspaces");
}

/* Prints the reply; exit 1 when some stale workspace could not be removed
 * (each named on stderr with why). */
static int print_cleanup(struct oj_client *c, const struct oj_args *a)
{
    if (oj_client_status(c) != OJ__STATUS_CODE__OK)
        return oj_call_failed(c);
    ProtobufCMessage *m = oj_client_take_reply(c);
    const Oj__WorkspaceCleanupResponse *r = (const Oj__WorkspaceCleanupResponse *)m;
    if (oj_args_has(a, "json"))
        oj_print_json(m);
    else
        human_cleanup(r);
    for (size_t i = 0; i < r->n_not_removed; i++)
        oj_errorf("could not remove %s (%s): %s", r->not_removed[i]->workspace->name,
                  r->not_removed[i]->workspace->path, r->not_removed[i]->reason);
    int rc = r->n_not_removed ? OJ_EXIT_FAILURE : OJ_EXIT_OK;
    oj_client_free_reply(m);
    return rc;
}

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__WorkspaceListRequest req = OJ__WORKSPACE_LIST_REQUEST__INIT;
    WITH_CLIENT(ctx, c, (oj__control__workspace_list(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_list)));
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
    dry_run = req.dry_run;
    WITH_CLIENT(ctx, c, (oj__control__workspace_cleanup(oj_client_service(c), &req, NULL, NULL),
                         print_cleanup(c, a)));
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt cleanup_opts[] = {
    {"stale", false, NULL,
     "remove worktrees of finished, cancelled, archived or vanished pipelines"},
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
    "A stale workspace git will not remove yet is named on stderr with the reason; then the\n"
    "exit status is 1.",
    cleanup_opts, 0, 0, exec_cleanup,
};
