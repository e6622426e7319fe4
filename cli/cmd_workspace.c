/* cmd_workspace.c — `oj workspace …`: the git worktrees pipelines work in
 * (rpc_workspace.c on the daemon side). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "escape.h"
#include "term.h"

static void print_table(Oj__WorkspaceInfo **w, size_t n, const char *none)
{
    if (n == 0) {
        printf("%s\n", none);
        return;
    }
    printf("%-24s %-28s %-9s %-10s %-13s %s\n", "NAME", "BRANCH", "PIPELINE", "STATE", "CHANGES",
           "PATH");
    for (size_t i = 0; i < n; i++) {
        char stat[48] = "-"; /* not measured: its folder is gone, or made before bases */
        if (w[i]->diffstat_at_ms > 0)
            snprintf(stat, sizeof stat, "+%lld -%lld", (long long)w[i]->lines_added,
                     (long long)w[i]->lines_removed);
        printf("%-24s %-28s %-9s %s %-13s %s\n", oj_esc(w[i]->name), oj_esc(w[i]->branch),
               w[i]->pipeline_id[0] ? oj_esc(w[i]->pipeline_id) : "-",
               oj_cell(w[i]->state, oj_esc(w[i]->state), 10), stat, oj_esc(w[i]->path));
    }
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

/* git's text as it is, but a control character other than a line end or a
 * tab made visible (a file's content must not drive the terminal). */
static void print_text(const char *text)
{
    size_t cap = 4096;
    char *buf = malloc(cap);
    for (const char *p = text; buf && *p;) {
        size_t n = strcspn(p, "\n\t");
        char *seg = strndup(p, n);
        size_t need = seg ? oj_escape_text(seg, buf, cap) + 1 : 0;
        if (need > cap) {
            char *grown = realloc(buf, need);
            if (grown) {
                buf = grown;
                cap = need;
                oj_escape_text(seg, buf, cap);
            }
        }
        fputs(seg ? buf : "", stdout);
        free(seg);
        p += n;
        if (*p)
            putchar(*p++);
    }
    free(buf);
}

static void human_diff(const void *m)
{
    const Oj__WorkspaceDiffResponse *r = m;
    print_text(r->diff);
    if (r->diff[0] == '\0' && r->n_untracked == 0)
        fprintf(stderr, "no changes in %s against %.12s\n", oj_esc(r->name),
                oj_esc(r->base_commit));
    if (r->n_untracked) {
        fprintf(stderr, "%zu untracked file%s not in the diff (--include-untracked shows them):\n",
                r->n_untracked, r->n_untracked == 1 ? "" : "s");
        for (size_t i = 0; i < r->n_untracked; i++)
            fprintf(stderr, "  %s\n", oj_esc(r->untracked[i]));
    }
}

/* The diff on stdout; what is not the diff on stderr, so `oj workspace diff
 * x | git apply` works. A diff past the bound is cut and said so. */
static int print_diff(struct oj_client *c, const struct oj_args *a)
{
    if (oj_client_status(c) != OJ__STATUS_CODE__OK)
        return oj_call_failed(c);
    ProtobufCMessage *m = oj_client_take_reply(c);
    const Oj__WorkspaceDiffResponse *r = (const Oj__WorkspaceDiffResponse *)m;
    if (oj_args_has(a, "json"))
        oj_print_json(m);
    else
        human_diff(r);
    if (r->truncated)
        oj_errorf("the diff is longer than %u MiB and was cut at a line end there; see all of it "
                  "with: git -C %s diff %s",
                  2u, oj_esc(r->path), oj_esc(r->base_commit));
    oj_client_free_reply(m);
    return OJ_EXIT_OK;
}

static int exec_diff(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__WorkspaceDiffRequest req = OJ__WORKSPACE_DIFF_REQUEST__INIT;
    req.workspace = a->pos[0];
    req.stat = oj_args_has(a, "stat");
    req.include_untracked = oj_args_has(a, "include-untracked");
    WITH_CLIENT(ctx, c, (oj__control__workspace_diff(oj_client_service(c), &req, NULL, NULL),
                         print_diff(c, a)));
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt diff_opts[] = {
    {"stat", false, NULL, "a diff-stat (files and lines changed) instead of the patch"},
    {"include-untracked", false, NULL, "untracked files in the diff, as new files"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt cleanup_opts[] = {
    {"stale", false, NULL,
     "remove worktrees of finished, cancelled, archived or vanished pipelines"},
    {"dry-run", false, NULL, "only list what would be removed"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_workspace_list = {
    "workspace", "list", "[--json]",
    "List workspaces: name, branch, pipeline, state, changes, path",
    "CHANGES is the workspace's diff-stat (+added -removed lines) against the commit it was\n"
    "made from: committed, uncommitted and untracked files. It is measured by git when the\n"
    "last measure is over 5 s old or older than its pipeline's last phase end (at most 10 s\n"
    "of git per listing; the rest show their last measure); '-' when it cannot be measured\n"
    "(folder gone, or made before oj recorded bases).",
    json_only, 0, 0, exec_list,
};
const struct oj_cmd oj_cmd_workspace_diff = {
    "workspace", "diff", "<workspace|pipeline> [--stat] [--include-untracked] [--json]",
    "Show a workspace's changes against the commit it was made from",
    "The diff is `git diff <base>` in the worktree: what its branch committed since the commit\n"
    "it was made from (HEAD or --base at `oj run`) and what is changed but not committed yet.\n"
    "Untracked files are listed on stderr, or with --include-untracked shown in the diff as\n"
    "new files (the worktree's index is not touched). The workspace is named by its name or\n"
    "its pipeline's id, or a unique prefix of either (an exact one first). The diff goes to\n"
    "stdout, notes to stderr; a diff over 2 MiB is cut at a line end there, said on stderr\n"
    "with the git command that shows all of it (exit status 0).",
    diff_opts, 1, 1, exec_diff,
};
const struct oj_cmd oj_cmd_workspace_cleanup = {
    "workspace", "cleanup", "--stale [--dry-run]", "Remove worktrees no active pipeline uses",
    "A stale workspace git will not remove yet is named on stderr with the reason; then the\n"
    "exit status is 1.",
    cleanup_opts, 0, 0, exec_cleanup,
};
