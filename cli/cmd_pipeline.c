/* cmd_pipeline.c — `oj run` and `oj pipeline …`. The daemon side arrives with
 * the pipelines work; until then these answer "not implemented yet" (exit 6)
 * through the real request path. */
#include <string.h>

#include "cli.h"

static int exec_run(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__RunRequest req = OJ__RUN_REQUEST__INIT;
    req.pipeline = a->pos[0];
    req.n_positional = (size_t)(a->npos - 1);
    req.positional = a->pos + 1;
    OJ_CALL_AND_PRINT(ctx, oj__control__run, &req, a);
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
    OJ_CALL_AND_PRINT(ctx, oj__control__pipeline_list, &req, a);
}

static int exec_status(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__PipelineRef req = OJ__PIPELINE_REF__INIT;
    req.id = a->pos[0];
    OJ_CALL_AND_PRINT(ctx, oj__control__pipeline_status, &req, a);
}

static int exec_show(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__PipelineRef req = OJ__PIPELINE_REF__INIT;
    req.id = a->pos[0];
    OJ_CALL_AND_PRINT(ctx, oj__control__pipeline_show, &req, a);
}

static int exec_nudge(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__NudgeRequest req = OJ__NUDGE_REQUEST__INIT;
    req.id = a->pos[0];
    req.message = a->npos > 1 ? a->pos[1] : "";
    OJ_CALL_AND_PRINT(ctx, oj__control__pipeline_nudge, &req, a);
}

typedef void (*ref_action_stub)(ProtobufCService *, const Oj__PipelineRef *,
                                Oj__ActionResponse_Closure, void *);

static int ref_action(struct oj_ctx *ctx, const struct oj_args *a, ref_action_stub stub)
{
    Oj__PipelineRef req = OJ__PIPELINE_REF__INIT;
    req.id = a->pos[0];
    OJ_CALL_AND_PRINT(ctx, stub, &req, a);
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
static const struct oj_opt list_opts[] = {
    {"active", false, NULL, "only pipelines that are not finished"},
    {"all", false, NULL, "include archived pipelines"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_run = {
    NULL, "run", "<pipeline> [inputs...]", "Start a pipeline from a runbook; prints its id",
    "Inputs are given in the order the runbook declares them.", json_only, 1, -1, exec_run,
};
const struct oj_cmd oj_cmd_pipeline_list = {
    "pipeline", "list", "[--active|--all] [--json]", "List pipelines", NULL, list_opts, 0, 0,
    exec_list,
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
