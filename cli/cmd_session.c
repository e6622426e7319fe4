/* cmd_session.c — `oj session …`. The daemon side arrives with the sessions
 * work; until then these answer "not implemented yet" (exit 6). */
#include <stdlib.h>

#include "cli.h"

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SessionListRequest req = OJ__SESSION_LIST_REQUEST__INIT;
    OJ_CALL_AND_PRINT(ctx, oj__control__session_list, &req, a);
}

static int exec_show(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SessionRef req = OJ__SESSION_REF__INIT;
    req.id = a->pos[0];
    OJ_CALL_AND_PRINT(ctx, oj__control__session_show, &req, a);
}

static int exec_capture(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SessionCaptureRequest req = OJ__SESSION_CAPTURE_REQUEST__INIT;
    req.id = a->pos[0];
    const char *tail = oj_args_get(a, "tail");
    if (tail) {
        char *end;
        long n = strtol(tail, &end, 10);
        if (*tail == '\0' || *end != '\0' || n < 1 || n > 100000) {
            oj_errorf("--tail: '%s' is not a line count from 1 to 100000", tail);
            return OJ_EXIT_USAGE;
        }
        req.tail_lines = (uint32_t)n;
    }
    OJ_CALL_AND_PRINT(ctx, oj__control__session_capture, &req, a);
}

static int exec_send(struct oj_ctx *ctx, const struct oj_args *a)
{
    bool interrupt = oj_args_has(a, "interrupt");
    if (!interrupt && a->npos < 2) {
        oj_errorf("'oj session send' needs the text to send (or --interrupt for Ctrl-C)");
        return OJ_EXIT_USAGE;
    }
    Oj__SessionSendRequest req = OJ__SESSION_SEND_REQUEST__INIT;
    req.id = a->pos[0];
    req.text = a->npos > 1 ? a->pos[1] : "";
    req.interrupt = interrupt;
    OJ_CALL_AND_PRINT(ctx, oj__control__session_send, &req, a);
}

static int exec_nudge(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__NudgeRequest req = OJ__NUDGE_REQUEST__INIT;
    req.id = a->pos[0];
    req.message = a->npos > 1 ? a->pos[1] : "";
    OJ_CALL_AND_PRINT(ctx, oj__control__session_nudge, &req, a);
}

static int exec_kill(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SessionRef req = OJ__SESSION_REF__INIT;
    req.id = a->pos[0];
    OJ_CALL_AND_PRINT(ctx, oj__control__session_kill, &req, a);
}

static int exec_start(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SessionStartRequest req = OJ__SESSION_START_REQUEST__INIT;
    req.name = (char *)(oj_args_get(a, "name") ? oj_args_get(a, "name") : "");
    req.cwd = (char *)(oj_args_get(a, "cwd") ? oj_args_get(a, "cwd") : "");
    req.n_argv = (size_t)a->npos;
    req.argv = a->pos;
    OJ_CALL_AND_PRINT(ctx, oj__control__session_start, &req, a);
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt capture_opts[] = {
    {"tail", true, "N", "the last N lines as the screen shows them"},
    {"follow", false, NULL, "keep printing new output live until the session ends"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt send_opts[] = {
    {"interrupt", false, NULL, "send Ctrl-C instead of text"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt start_opts[] = {
    {"name", true, "NAME", "a name to find the session by"},
    {"cwd", true, "DIR", "working directory (default: the project root)"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_session_list = {
    "session", "list", "[--json]", "List sessions: id, pipeline, phase, state, idle time, age",
    NULL, json_only, 0, 0, exec_list,
};
const struct oj_cmd oj_cmd_session_show = {
    "session", "show", "<id> [--json]", "Everything about one session", NULL, json_only, 1, 1,
    exec_show,
};
const struct oj_cmd oj_cmd_session_capture = {
    "session", "capture", "<id> [--tail N] [--follow]", "Print a session's screen or follow it",
    NULL, capture_opts, 1, 1, exec_capture,
};
const struct oj_cmd oj_cmd_session_send = {
    "session", "send", "<id> <text> | <id> --interrupt", "Type text (then Enter) into a session",
    NULL, send_opts, 1, 2, exec_send,
};
const struct oj_cmd oj_cmd_session_nudge = {
    "session", "nudge", "<id> [message]", "Nudge a session's agent", NULL, json_only, 1, 2,
    exec_nudge,
};
const struct oj_cmd oj_cmd_session_kill = {
    "session", "kill", "<id>", "Kill a session", NULL, json_only, 1, 1, exec_kill,
};
const struct oj_cmd oj_cmd_session_start = {
    "session", "start", "[--name N] [--cwd DIR] -- <command...>", "Start a standalone session",
    NULL, start_opts, 1, -1, exec_start,
};
