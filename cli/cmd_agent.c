/* cmd_agent.c — what an agent calls from inside its session: `oj done`,
 * `oj checkpoint` and `oj ask`. The session's environment (OTTER_TASK, OTTER_PHASE,
 * OJ_SESSION_ID) says which pipeline and phase the call is about. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"

static char *env_or_empty(const char *name)
{
    char *v = getenv(name);
    return v ? v : "";
}

/* How long an agent's report waits for a daemon that is stopping or not
 * running: an operator's restart (or a crash and restart) must not lose an
 * agent's `oj done`. A refused request never ran, so sending it again is safe. */
#define AGENT_WAIT_DEFAULT_MS 60000

typedef void (*agent_send)(struct oj_client *c, const void *req);

static void send_done(struct oj_client *c, const void *req)
{
    oj__control__done(oj_client_service(c), req, NULL, NULL);
}

static void send_checkpoint(struct oj_client *c, const void *req)
{
    oj__control__checkpoint(oj_client_service(c), req, NULL, NULL);
}

static void send_ask(struct oj_client *c, const void *req)
{
    oj__control__ask(oj_client_service(c), req, NULL, NULL);
}

static int report(struct oj_ctx *ctx, const struct oj_args *a, agent_send send, const void *req)
{
    int64_t wait_ms = AGENT_WAIT_DEFAULT_MS;
    int rc = oj_env_duration("OJ_AGENT_WAIT", 0, INT64_MAX / 2, "of 0 or more", &wait_ms);
    if (rc != 0)
        return rc;
    rc = oj_ctx_project(ctx);
    if (rc != 0)
        return rc;
    int64_t deadline = oj_mono_ms() + wait_ms;
    bool told = false;
    for (;;) {
        struct oj_client *c;
        if (oj_client_open(&c, ctx->paths.sock_path, OJ_DEFAULT_CALL_TIMEOUT_MS) == 0) {
            send(c, req);
            int st = oj_client_status(c);
            bool again = st == OJ__STATUS_CODE__SHUTTING_DOWN || st == OJ_RPC_UNREACHABLE;
            if (!again || oj_mono_ms() >= deadline) {
                rc = oj_print_reply(c, a, oj_print_action);
                oj_client_close(c);
                return rc;
            }
            oj_client_close(c);
        } else if (oj_mono_ms() >= deadline) {
            WITH_CLIENT(ctx, c2, (send(c2, req), oj_print_reply(c2, a, oj_print_action)));
        }
        if (!told) {
            fprintf(stderr, "oj: the daemon is stopping or not running; trying again for up to "
                            "%llds (OJ_AGENT_WAIT)\n",
                    (long long)(wait_ms / 1000));
            told = true;
        }
        usleep(200 * 1000);
    }
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
    return report(ctx, a, send_done, &req);
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
    return report(ctx, a, send_checkpoint, &req);
}

static int exec_ask(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__AskRequest req = OJ__ASK_REQUEST__INIT;
    req.session_id = env_or_empty("OJ_SESSION_ID");
    req.question = a->pos[0];
    if (req.session_id[0] == '\0') {
        oj_errorf("OJ_SESSION_ID is not set: `oj ask` is for agents inside an oj session");
        return OJ_EXIT_USAGE;
    }
    /* The answer names the question: printed in the session's terminal, it
     * is the line after which the agent's own output counts as answered. */
    return report(ctx, a, send_ask, &req);
}

static const struct oj_opt done_opts[] = {
    {"error", true, "WHY", "the phase failed, for this reason"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};

const struct oj_cmd oj_cmd_done = {
    NULL, "done", "[--error WHY]", "Agent: finish the current phase (or fail it with --error)",
    "Run inside an oj session; uses OTTER_TASK, OTTER_PHASE and OJ_SESSION_ID. While the\n"
    "daemon is stopping or not running it tries again for up to OJ_AGENT_WAIT (60s).\n"
    "Run again by the same session, it prints the first answer + \"(already recorded)\".",
    done_opts, 0, 0, exec_done,
};
const struct oj_cmd oj_cmd_checkpoint = {
    NULL, "checkpoint", "<message>", "Agent: record progress on the current phase",
    "Run inside an oj session; uses OTTER_TASK, OTTER_PHASE and OJ_SESSION_ID. While the\n"
    "daemon is stopping or not running it tries again for up to OJ_AGENT_WAIT (60s).",
    json_only, 1, 1, exec_checkpoint,
};
const struct oj_cmd oj_cmd_ask = {
    NULL, "ask", "<question>", "Agent: say it needs input, with a question for a human",
    "Run inside an oj session; uses OJ_SESSION_ID. The session shows as needs_input\n"
    "(oj session list, oj pipeline status) with the question, and a session.needs_input\n"
    "event is published, until input is sent to it (oj session send / nudge) or it prints\n"
    "output after the question's line. Exits at once: wait for the answer as for any input.",
    json_only, 1, 1, exec_ask,
};
