/* cmd_help.c — `oj help`, `oj version`, `oj completion` and the hidden
 * `oj _complete` the completion scripts call for live values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "completion.h"
#include "daemon_main.h" /* oj_daemon_runbooks_offline: runbook pipelines without a daemon */
#include "help.h"
#include "man_page.h"
#include "version.h"

static int exec_help(struct oj_ctx *ctx, const struct oj_args *a)
{
    (void)ctx;
    if (oj_args_has(a, "man")) {
        if (a->npos > 0) {
            oj_errorf("'oj help --man' takes no command: the manual covers all of them");
            return OJ_EXIT_USAGE;
        }
        oj_man_page(stdout);
        return OJ_EXIT_OK;
    }
    if (a->npos == 0) {
        oj_help_usage(stdout);
        return OJ_EXIT_OK;
    }
    const struct oj_group *g = oj_group_find(a->pos[0]);
    const struct oj_cmd *c = NULL;
    if (g && a->npos == 1) {
        oj_help_group(stdout, g);
        return OJ_EXIT_OK;
    }
    if (g)
        c = oj_cmd_find(g->name, a->pos[1]);
    else if (a->npos == 1)
        c = oj_cmd_find(NULL, a->pos[0]);
    if (c == NULL || oj_cmd_hidden(c)) {
        const char *word = g ? a->pos[1] : a->pos[0];
        oj_errorf("no command 'oj %s%s%s'%s; see `oj --help`", g ? g->name : "", g ? " " : "",
                  word, oj_did_you_mean_command(g ? g->name : NULL, word));
        return OJ_EXIT_USAGE;
    }
    oj_cmd_print_help(c);
    return OJ_EXIT_OK;
}

static int exec_version(struct oj_ctx *ctx, const struct oj_args *a)
{
    (void)ctx, (void)a;
    printf("oj %s (protocol %d)\n", OJ_VERSION, OJ_PROTOCOL_VERSION);
    return OJ_EXIT_OK;
}

static int exec_completion(struct oj_ctx *ctx, const struct oj_args *a)
{
    (void)ctx;
    if (oj_completion_script(stdout, a->pos[0]) != 0) {
        oj_errorf("no completion for shell '%s'; use bash, zsh or fish", a->pos[0]);
        return OJ_EXIT_USAGE;
    }
    return OJ_EXIT_OK;
}

/* ---- live values ----------------------------------------------------------------- */

/* One value for a completion script, only when it is a plain word: a name
 * the daemon hands back (a workspace is named after whatever directory a
 * worktree has) must never carry shell syntax into the user's shell. */
static void put_word(const char *w)
{
    if (w == NULL || w[0] == '\0' || strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                "0123456789._:@+-") != strlen(w))
        return;
    printf("%s\n", w);
}

static void print_runbook_pipelines(struct oj_ctx *ctx)
{
    if (ctx->remote || oj_ctx_project(ctx) != 0) /* remote: the runbooks are not here */
        return;
    char dir[PATH_MAX + 16], err[1024];
    snprintf(dir, sizeof dir, "%s/runbooks", ctx->paths.state_dir);
    cJSON *rb = NULL;
    if (oj_daemon_runbooks_offline(dir, NULL, NULL, &rb, err, sizeof err) != 0)
        return;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(rb, "pipelines"))
    {
        const cJSON *name = cJSON_GetObjectItem(p, "name");
        if (cJSON_IsString(name))
            put_word(name->valuestring);
    }
    cJSON_Delete(rb);
}

static void print_sessions(struct oj_client *c)
{
    Oj__SessionListRequest req = OJ__SESSION_LIST_REQUEST__INIT;
    Oj__SessionListResponse *r;
    if (OJ_RPC(c, oj__control__session_list, &req, &r) != OJ__STATUS_CODE__OK)
        return;
    for (size_t i = 0; i < r->n_sessions; i++)
        put_word(r->sessions[i]->id), put_word(r->sessions[i]->name);
    oj_client_free_reply(r);
}

static void print_pipelines(struct oj_client *c)
{
    Oj__PipelineListRequest req = OJ__PIPELINE_LIST_REQUEST__INIT;
    Oj__PipelineListResponse *r;
    if (OJ_RPC(c, oj__control__pipeline_list, &req, &r) != OJ__STATUS_CODE__OK)
        return;
    for (size_t i = 0; i < r->n_pipelines; i++)
        put_word(r->pipelines[i]->id);
    oj_client_free_reply(r);
}

static void print_live(struct oj_client *c, const char *kind)
{
    if (strcmp(kind, "sessions") == 0 || strcmp(kind, "agents") == 0)
        print_sessions(c);
    if (strcmp(kind, "pipelines") == 0 || strcmp(kind, "agents") == 0)
        print_pipelines(c);
    if (strcmp(kind, "locks") == 0) {
        Oj__LockListRequest req = OJ__LOCK_LIST_REQUEST__INIT;
        Oj__LockListResponse *r;
        if (OJ_RPC(c, oj__control__lock_list, &req, &r) == OJ__STATUS_CODE__OK) {
            for (size_t i = 0; i < r->n_locks; i++)
                put_word(r->locks[i]->name);
            oj_client_free_reply(r);
        }
    }
    if (strcmp(kind, "snapshots") == 0) {
        Oj__SnapshotListRequest req = OJ__SNAPSHOT_LIST_REQUEST__INIT;
        Oj__SnapshotListResponse *r;
        if (OJ_RPC(c, oj__control__maintenance_snapshots, &req, &r) == OJ__STATUS_CODE__OK) {
            for (size_t i = 0; i < r->n_snapshots; i++)
                put_word(r->snapshots[i]->id);
            oj_client_free_reply(r);
        }
    }
    if (strcmp(kind, "cron") == 0) {
        Oj__CronListRequest req = OJ__CRON_LIST_REQUEST__INIT;
        Oj__CronListResponse *r;
        if (OJ_RPC(c, oj__control__cron_list, &req, &r) == OJ__STATUS_CODE__OK) {
            for (size_t i = 0; i < r->n_jobs; i++)
                put_word(r->jobs[i]->name);
            oj_client_free_reply(r);
        }
    }
    if (strcmp(kind, "workspaces") == 0) {
        Oj__WorkspaceListRequest req = OJ__WORKSPACE_LIST_REQUEST__INIT;
        Oj__WorkspaceListResponse *r;
        if (OJ_RPC(c, oj__control__workspace_list, &req, &r) == OJ__STATUS_CODE__OK) {
            for (size_t i = 0; i < r->n_workspaces; i++)
                put_word(r->workspaces[i]->name);
            oj_client_free_reply(r);
        }
    }
}

/* Completion must never hang a shell or print into the command line being
 * typed: one second at most, errors silent (the scripts also drop stderr),
 * exit 0 whatever happened. */
#define COMPLETE_TIMEOUT "1s"

static int exec_complete(struct oj_ctx *ctx, const struct oj_args *a)
{
    const char *kind = a->pos[0];
    if (strcmp(kind, "runbook-pipelines") == 0) {
        print_runbook_pipelines(ctx);
        return OJ_EXIT_OK;
    }
    setenv("OJ_TIMEOUT", COMPLETE_TIMEOUT, 1);
    struct oj_client *c;
    if (oj_ctx_connect(ctx, &c) != 0)
        return OJ_EXIT_OK;
    oj_client_set_retry(c, 0);
    print_live(c, kind);
    oj_client_close(c);
    return OJ_EXIT_OK;
}

static const struct oj_opt help_opts[] = {
    {"man", false, NULL, "print the manual, oj(1), as roff (what `make install` installs)"},
    {0},
};
static const struct oj_opt no_opts[] = {{0}};

const struct oj_cmd oj_cmd_help = {
    NULL, "help", "[<command>|<group> [<command>]] [--man]", "Show the help of oj or of one command",
    "`oj help lock acquire` is `oj lock acquire --help`; `oj help lock` lists the group.\n"
    "`man oj` has everything on one page once oj is installed (`make install`).",
    help_opts, 0, 2, exec_help,
};
const struct oj_cmd oj_cmd_version = {
    NULL, "version", "", "Print oj's version and the protocol version", NULL, no_opts, 0, 0,
    exec_version,
};
const struct oj_cmd oj_cmd_completion = {
    NULL, "completion", "bash|zsh|fish", "Print the shell completion script for bash, zsh or fish",
    "Written from the command table, so it knows exactly this oj's commands and options, and\n"
    "completes live values (session names and ids, pipeline ids, lock names, runbook\n"
    "pipelines, snapshot ids) by asking the daemon with a one-second timeout.\n"
    "`make install` puts all three where the shells look; by hand, for bash:\n"
    "  source <(oj completion bash)",
    no_opts, 1, 1, exec_completion,
};
/* For the completion scripts only (a name starting with '_' is not listed). */
const struct oj_cmd oj_cmd_complete = {
    NULL, "_complete", "<kind>", "Print live values for shell completion", NULL, no_opts, 1, 1,
    exec_complete,
};
