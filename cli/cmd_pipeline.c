/* cmd_pipeline.c — `oj run` and `oj pipeline …`: start pipelines and watch
 * or steer them (rpc_pipeline.c on the daemon side). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "term.h"
#include "clock.h"
#include "duration.h"
#include "pipeline_follow.h"
#include "watch.h"

/* stdout gets the id alone, so `id=$(oj run build ...)` works; the rest is
 * for the reader. */
static void human_run(const void *m)
{
    const Oj__RunResponse *r = m;
    printf("%s\n", oj_esc(r->pipeline_id));
    fprintf(stderr, "started pipeline %s in %s (branch %s)\n", oj_esc(r->pipeline_id),
            oj_esc(r->workspace), oj_esc(r->branch));
}

static int exec_run(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__RunRequest req = OJ__RUN_REQUEST__INIT;
    Oj__Input inputs[OJ_MAX_NAMED], *ptrs[OJ_MAX_NAMED];
    req.pipeline = a->pos[0];
    req.n_positional = (size_t)(a->npos - 1);
    req.positional = a->pos + 1;
    for (int i = 0; i < a->nnamed; i++) {
        oj__input__init(&inputs[i]);
        inputs[i].name = (char *)a->named[i][0];
        inputs[i].value = (char *)a->named[i][1];
        ptrs[i] = &inputs[i];
    }
    req.n_inputs = (size_t)a->nnamed;
    req.inputs = ptrs;
    const char *base = oj_args_get(a, "base");
    if (base && base[0] == '\0') {
        oj_errorf("--base needs a branch, tag or commit, like --base main");
        return OJ_EXIT_USAGE;
    }
    req.base_ref = base ? (char *)base : "";
    bool follow = oj_args_has(a, "follow"), wait = oj_args_has(a, "wait");
    if (follow && wait) {
        oj_errorf("--follow and --wait exclude each other (--follow waits too); pick one");
        return OJ_EXIT_USAGE;
    }
    if (!follow && !wait)
        WITH_CLIENT(ctx, c, (oj__control__run(oj_client_service(c), &req, NULL, NULL),
                             oj_print_reply(c, a, human_run)));
    struct oj_client *c;
    int rc = oj_ctx_connect(ctx, &c);
    if (rc != 0)
        return rc;
    Oj__RunResponse *r;
    if (OJ_RPC(c, oj__control__run, &req, &r) != OJ__STATUS_CODE__OK) {
        rc = oj_call_failed(c);
        oj_client_close(c);
        return rc;
    }
    char id[16];
    snprintf(id, sizeof id, "%s", r->pipeline_id);
    /* the id on stderr here: stdout is the pipeline's output (--follow) or outcome */
    fprintf(stderr, "started pipeline %s in %s (branch %s)\n", oj_esc(r->pipeline_id),
            oj_esc(r->workspace), oj_esc(r->branch));
    oj_client_free_reply(r);
    if (wait) {
        rc = oj_pipeline_await(ctx, c, id, 0, oj_args_has(a, "json"));
    } else {
        char state[16] = "";
        rc = oj_pipeline_print_logs(ctx, c, id, true, oj_args_has(a, "json"), state,
                                    sizeof state);
        int outcome = oj_exit_for_outcome(state);
        if (rc == OJ_EXIT_OK && outcome > 0) {
            fprintf(stderr, "pipeline %s %s; see `oj pipeline status %s`\n", id, state, id);
            rc = outcome;
        }
    }
    oj_client_close(c);
    return rc;
}

static void human_list(const void *m)
{
    const Oj__PipelineListResponse *r = m;
    if (r->n_pipelines == 0) {
        printf("no pipelines\n");
        return;
    }
    /* columns as wide as their longest value (at least the old fixed
     * widths), and on a terminal the row fits the window: the pipeline's
     * name gives way first */
    int wname = 16, wphase = 14;
    for (size_t i = 0; i < r->n_pipelines; i++) {
        int n = (int)strlen(oj_esc(r->pipelines[i]->name));
        int ph = (int)strlen(oj_esc(r->pipelines[i]->phase));
        wname = n > wname ? n : wname;
        wphase = ph > wphase ? ph : wphase;
    }
    wname = oj_fit_width(wname, 9 + 1 + 1 + wphase + 1 + 10 + 1 + 6, 8);
    printf("%-9s %-*s %-*s %-10s %s\n", "ID", wname, "PIPELINE", wphase, "PHASE", "STATE", "AGE");
    for (size_t i = 0; i < r->n_pipelines; i++) {
        const Oj__PipelineSummary *p = r->pipelines[i];
        char age[32];
        oj_duration_format(oj_wall_ms() - p->created_at_ms, age, sizeof age);
        printf("%-9s %s %-*s %s %s\n", oj_esc(p->id), oj_cell(NULL, oj_esc(p->name), wname),
               wphase, oj_esc(p->phase), oj_cell(p->state, oj_esc(p->state), 10), age);
    }
}

static void human_status(const void *m)
{
    const Oj__PipelineStatusResponse *r = m;
    const Oj__PipelineSummary *p = r->pipeline;
    printf("pipeline %s (%s)\n", oj_esc(p->id), oj_esc(p->name));
    printf("  state:     %s\n", oj_cell(p->state, oj_esc(p->state), 0));
    printf("  phase:     %s\n", oj_esc(p->phase));
    if (r->session_id[0]) {
        char idle[32];
        oj_duration_format(r->idle_ms, idle, sizeof idle);
        if (r->agent_state[0])
            printf("  session:   %s (%s, idle %s)\n", oj_esc(r->session_id),
                   oj_esc(r->agent_state), idle);
        else
            printf("  session:   %s (idle %s)\n", oj_esc(r->session_id), idle);
        if (r->agent_prompt[0])
            printf("  needs:     input: %s\n", oj_esc(r->agent_prompt));
    }
    printf("  step:      %s%s", oj_esc(r->step), r->attempt > 1 ? "" : "\n");
    if (r->attempt > 1)
        printf(" (attempt %d)\n", r->attempt);
    if (r->waiting_for_lock[0])
        printf("  waiting:   for lock %s\n", oj_esc(r->waiting_for_lock));
    else if (strcmp(r->step, "queued") == 0)
        printf("  waiting:   for a session slot (OJ_MAX_SESSIONS)\n");
    else if (strcmp(r->step, "workspace") == 0)
        printf("  waiting:   for git to make its worktree (see its log in .oj/logs/pipelines)\n");
    else if (strcmp(r->step, "pause") == 0)
        printf("  waiting:   a pause between two passes of a loop (the phase's pause)\n");
    if (r->lock_held[0])
        printf("  holds:     lock %s\n", oj_esc(r->lock_held));
    if (r->last_error[0])
        printf("  error:     %s\n", oj_esc(r->last_error));
    printf("  workspace: %s\n", oj_esc(r->workspace));
    printf("  branch:    %s\n", oj_esc(r->branch));
    if (r->diffstat_at_ms > 0)
        printf("  changes:   +%lld -%lld in %lld file%s (against its base; `oj workspace diff "
               "%s`)\n",
               (long long)r->lines_added, (long long)r->lines_removed,
               (long long)r->files_changed, r->files_changed == 1 ? "" : "s", oj_esc(p->id));
    if (r->port > 0)
        printf("  port:      %d (OJ_PORT)\n", r->port);
    for (size_t i = 0; i < r->n_inputs; i++)
        printf("  input:     %s = %s\n", oj_esc(r->inputs[i]->name), oj_esc(r->inputs[i]->value));
    for (size_t i = 0; i < r->n_checkpoints; i++) {
        char ago[32];
        oj_duration_format(oj_wall_ms() - r->checkpoints[i]->time_ms, ago, sizeof ago);
        printf("  checkpoint: %s ago (%s) %s\n", ago, oj_esc(r->checkpoints[i]->phase),
               oj_esc(r->checkpoints[i]->message));
    }
    if (r->n_recovery) {
        printf("  recovery steps:\n");
        for (size_t i = 0; i < r->n_recovery; i++) {
            char ago[32];
            oj_duration_format(oj_wall_ms() - r->recovery[i]->time_ms, ago, sizeof ago);
            printf("    %-8s %s ago  %s\n", oj_esc(r->recovery[i]->action), ago,
                   oj_esc(r->recovery[i]->detail));
        }
    }
}

static int draw_list(struct oj_client *c, void *req)
{
    oj__control__pipeline_list(oj_client_service(c), req, NULL, NULL);
    if (oj_client_status(c) != OJ__STATUS_CODE__OK)
        return oj_call_failed(c);
    ProtobufCMessage *reply = oj_client_take_reply(c);
    human_list(reply);
    oj_client_free_reply(reply);
    return OJ_EXIT_OK;
}

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    if (oj_args_has(a, "active") && oj_args_has(a, "all")) {
        oj_errorf("--active and --all exclude each other; pick one");
        return OJ_EXIT_USAGE;
    }
    Oj__PipelineListRequest req = OJ__PIPELINE_LIST_REQUEST__INIT;
    req.active_only = oj_args_has(a, "active");
    req.include_archived = oj_args_has(a, "all");
    if (oj_args_has(a, "watch")) {
        if (oj_args_has(a, "json")) {
            oj_errorf("--watch redraws a screen and --json prints one object; pick one");
            return OJ_EXIT_USAGE;
        }
        WITH_CLIENT(ctx, c, oj_watch(ctx, c, "oj pipeline list", draw_list, &req));
    }
    WITH_CLIENT(ctx, c, (oj__control__pipeline_list(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_list)));
}

static int exec_status(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__PipelineRef req = OJ__PIPELINE_REF__INIT;
    req.id = a->pos[0];
    WITH_CLIENT(ctx, c, (oj__control__pipeline_status(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_status)));
}

static int exec_show(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__PipelineRef req = OJ__PIPELINE_REF__INIT;
    req.id = a->pos[0];
    WITH_CLIENT(ctx, c, (oj__control__pipeline_show(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_status)));
}

static int exec_nudge(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__NudgeRequest req = OJ__NUDGE_REQUEST__INIT;
    req.id = a->pos[0];
    req.message = a->npos > 1 ? a->pos[1] : "";
    WITH_CLIENT(ctx, c, (oj__control__pipeline_nudge(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, oj_print_action)));
}

typedef void (*ref_action_stub)(ProtobufCService *, const Oj__PipelineRef *,
                                Oj__ActionResponse_Closure, void *);

static int ref_action(struct oj_ctx *ctx, const struct oj_args *a, ref_action_stub stub)
{
    Oj__PipelineRef req = OJ__PIPELINE_REF__INIT;
    req.id = a->pos[0];
    WITH_CLIENT(ctx, c, (stub(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, oj_print_action)));
}

static int exec_restart(struct oj_ctx *ctx, const struct oj_args *a)
{
    return ref_action(ctx, a, oj__control__pipeline_restart);
}
static int exec_resume(struct oj_ctx *ctx, const struct oj_args *a)
{
    return ref_action(ctx, a, oj__control__pipeline_resume);
}
static int exec_cancel(struct oj_ctx *ctx, const struct oj_args *a)
{
    return ref_action(ctx, a, oj__control__pipeline_cancel);
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt run_opts[] = {
    {"base", true, "REF", "the branch, tag or commit its worktree starts from (default: HEAD)"},
    {"*", true, "input", "an input by name, instead of by position"},
    {"follow", false, NULL, "then print its output until it finishes (as oj pipeline logs -f)"},
    {"wait", false, NULL, "then wait for its outcome (as oj pipeline wait)"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt list_opts[] = {
    {"active", false, NULL, "only pipelines that are not finished"},
    {"all", false, NULL, "include archived pipelines"},
    {"watch", false, NULL, "redraw on a terminal whenever something happens; Ctrl-C leaves"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_run = {
    NULL, "run", "<pipeline> [inputs...] [--<input> VALUE...] [--base REF] [--follow|--wait]",
    "Start a pipeline from a runbook; prints its id",
    "Inputs are given in the order the runbook declares them, or by name (--name VALUE).\n"
    "Pipelines are defined in .oj/runbooks/*.json (`man oj-runbook`). It returns once the\n"
    "pipeline is recorded; its git worktree is made next (step workspace), from --base (a\n"
    "branch, tag or commit; default HEAD; a ref that names no commit is refused before\n"
    "anything is made), then the runbook's setup runs in it, then its phases. Its workspace\n"
    "gets a port of its own, OJ_PORT, in the environment of setup, shell steps and agents.\n"
    "--wait returns with its outcome instead and --follow prints its output until then: exit\n"
    "0 done, 10 failed, 11 cancelled, 12 escalated (a human is needed; --follow keeps\n"
    "following an escalated pipeline, which may be resumed). The id then goes to stderr.\n"
    "Inputs named base, follow, wait or json can only be given by position.",
    run_opts, 1, -1, exec_run,
};
const struct oj_cmd oj_cmd_pipeline_list = {
    "pipeline", "list", "[--active|--all] [--watch] [--json]", "List pipelines",
    "--watch redraws the list in place on a terminal whenever the daemon publishes an event\n"
    "(and every 5 s for the ages); refused (exit 2) when stdout is not a terminal. Ctrl-C\n"
    "leaves (exit 0).",
    list_opts, 0, 0, exec_list,
};
const struct oj_cmd oj_cmd_pipeline_status = {
    "pipeline", "status", "<id> [--json]",
    "Phase, state, session, idle time, lock wait, last error, recovery steps", NULL, json_only, 1,
    1, exec_status,
};
const struct oj_cmd oj_cmd_pipeline_show = {
    "pipeline", "show", "<id> [--json]", "Everything about one pipeline", NULL, json_only, 1, 1,
    exec_show,
};
const struct oj_cmd oj_cmd_pipeline_nudge = {
    "pipeline", "nudge", "<id> [message]", "Send the pipeline's agent a nudge", NULL, json_only, 1,
    2, exec_nudge,
};
const struct oj_cmd oj_cmd_pipeline_restart = {
    "pipeline", "restart", "<id>", "Restart the current phase", NULL, json_only, 1, 1,
    exec_restart,
};
const struct oj_cmd oj_cmd_pipeline_resume = {
    "pipeline", "resume", "<id>", "Resume after an escalation or failure", NULL, json_only, 1, 1,
    exec_resume,
};
const struct oj_cmd oj_cmd_pipeline_cancel = {
    "pipeline", "cancel", "<id>", "Cancel a pipeline", NULL, json_only, 1, 1, exec_cancel,
};
