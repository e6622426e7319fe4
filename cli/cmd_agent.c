/* cmd_agent.c — what an agent calls from inside its session: `oj done` and
 * `oj checkpoint`. The session's environment (OTTER_TASK, OTTER_PHASE,
 * OJ_SESSION_ID) says which pipeline and phase the call is about. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static char *env_or_empty(const char *name)
{
    char *v = getenv(name);
    return v ? v : "";
}

static int exec_done(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__DoneRequest req = OJ__DONE_REQUEST__INIT;
    req.task = env_or_empty("OTTER_TASK");
    req.phase = env_or_empty("OTTER_PHASE");
    req.session_id = env_or_empty("OJ_SESSION_ID");
    req.error = (char *)(oj_args_get(a, "error") ? oj_args_get(a, "error") : "");
    if (req.task[0] == '\0') {
        oj_errorf("OTTER_TASK is not set: `oj done` is for agents inside an oj session");
        return OJ_EXIT_USAGE;
    }
    WITH_CLIENT(ctx, c, (oj__control__done(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, oj_print_action)));
}

static int exec_checkpoint(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__CheckpointRequest req = OJ__CHECKPOINT_REQUEST__INIT;
    req.task = env_or_empty("OTTER_TASK");
    req.phase = env_or_empty("OTTER_PHASE");
    req.session_id = env_or_empty("OJ_SESSION_ID");
    req.message = a->pos[0];
    if (req.task[0] == '\0') {
        oj_errorf("OTTER_TASK is not set: `oj checkpoint` is for agents inside an oj session");
        return OJ_EXIT_USAGE;
    }
    WITH_CLIENT(ctx, c, (oj__control__checkpoint(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, oj_print_action)));
}

static const struct oj_opt done_opts[] = {
    {"error", true, "WHY", "the phase failed, for this reason"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};

const struct oj_cmd oj_cmd_done = {
    NULL, "done", "[--error WHY]", "Agent: finish the current phase (or fail it with --error)",
    "Run inside an oj session; uses OTTER_TASK, OTTER_PHASE and OJ_SESSION_ID.", done_opts, 0, 0,
    exec_done,
};
const struct oj_cmd oj_cmd_checkpoint = {
    NULL, "checkpoint", "<message>", "Agent: record progress on the current phase",
    "Run inside an oj session; uses OTTER_TASK, OTTER_PHASE and OJ_SESSION_ID.", json_only, 1, 1,
    exec_checkpoint,
};
