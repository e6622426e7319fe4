/* cmd_session.c — `oj session …`: agents (any command) that the daemon runs
 * in its private tmux server and watches. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "follow.h"
#include "term.h"
#include "clock.h"
#include "duration.h"

static void human_list(const void *m)
{
    const Oj__SessionListResponse *r = m;
    if (r->n_sessions == 0) {
        printf("no sessions\n");
        return;
    }
    /* columns as wide as their longest value, so long names keep the table aligned */
    int wname = 4, wphase = 5, wstate = 5;
    for (size_t i = 0; i < r->n_sessions; i++) {
        const Oj__SessionInfo *s = r->sessions[i];
        int n = (int)strlen(oj_esc(s->name)), p = (int)strlen(oj_esc(s->phase)),
            st = (int)strlen(oj_esc(s->state)) +
                 (s->reason[0] ? (int)strlen(oj_esc(s->reason)) + 3 : 0) +
                 (s->prompt[0] ? (int)strlen(oj_esc(s->prompt)) + 5 : 0);
        wname = n > wname ? n : wname;
        wphase = p > wphase ? p : wphase;
        wstate = st > wstate ? st : wstate;
    }
    wstate = wstate > 48 ? 48 : wstate;
    /* on a terminal the row fits the window: the name gives way first */
    wname = oj_fit_width(wname, 9 + 1 + 1 + 9 + 1 + wphase + 1 + wstate + 1 + 9 + 1 + 6, 8);
    printf("%-9s %-*s %-9s %-*s %-*s %-9s %s\n", "ID", wname, "NAME", "PIPELINE", wphase, "PHASE",
           wstate, "STATE", "IDLE", "AGE");
    for (size_t i = 0; i < r->n_sessions; i++) {
        const Oj__SessionInfo *s = r->sessions[i];
        char idle[32], age[32], state[64];
        oj_duration_format(s->idle_ms, idle, sizeof idle);
        oj_duration_format(oj_wall_ms() - s->started_at_ms, age, sizeof age);
        if (s->reason[0])
            snprintf(state, sizeof state, "%s (%.40s)", oj_esc(s->state), oj_esc(s->reason));
        else if (s->prompt[0]) /* what it waits at: the prompt line or its question */
            snprintf(state, sizeof state, "%s (\"%.34s\")", oj_esc(s->state), oj_esc(s->prompt));
        else
            snprintf(state, sizeof state, "%s", oj_esc(s->state));
        printf("%-9s %s %-9s %-*s %s %-9s %s\n", oj_esc(s->id), oj_cell(NULL, oj_esc(s->name), wname),
               s->pipeline_id[0] ? oj_esc(s->pipeline_id) : "-", wphase,
               s->phase[0] ? oj_esc(s->phase) : "-", oj_cell(s->state, state, wstate), idle, age);
    }
}

static void human_show(const void *m)
{
    const Oj__SessionInfo *s = m;
    char idle[32], age[32];
    oj_duration_format(s->idle_ms, idle, sizeof idle);
    oj_duration_format(oj_wall_ms() - s->started_at_ms, age, sizeof age);
    printf("session %s (%s)\n", oj_esc(s->id), oj_esc(s->name));
    printf("  state:     %s%s%s\n", oj_esc(s->state), s->reason[0] ? ": " : "", oj_esc(s->reason));
    if (s->prompt[0])
        printf("  %s %s\n", s->asked ? "asks:     " : "prompt:   ", oj_esc(s->prompt));
    printf("  command:   %s\n", oj_esc(s->command));
    printf("  cwd:       %s\n", oj_esc(s->cwd));
    printf("  age:       %s\n", age);
    printf("  idle:      %s (time since its last output)\n", idle);
    if (s->idle_timeout_ms) {
        char t[32];
        oj_duration_format(s->idle_timeout_ms, t, sizeof t);
        printf("  timeout:   %s (quiet longer = idle, and a session.stuck event)\n", t);
    }
    if (s->pipeline_id[0])
        printf("  pipeline:  %s, phase %s\n", oj_esc(s->pipeline_id), oj_esc(s->phase));
}

static void human_capture(const void *m)
{
    const Oj__SessionCaptureResponse *r = m;
    fputs(r->text, stdout);
}

static void human_started(const void *m)
{
    const Oj__SessionInfo *s = m;
    printf("started session %s (%s)\n", oj_esc(s->id), oj_esc(s->name));
}

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SessionListRequest req = OJ__SESSION_LIST_REQUEST__INIT;
    WITH_CLIENT(ctx, c, (oj__control__session_list(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_list)));
}

static int exec_show(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SessionRef req = OJ__SESSION_REF__INIT;
    req.id = a->pos[0];
    WITH_CLIENT(ctx, c, (oj__control__session_show(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_show)));
}

static int exec_capture(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SessionCaptureRequest req = OJ__SESSION_CAPTURE_REQUEST__INIT;
    req.id = a->pos[0];
    if (oj_args_has(a, "follow")) {
        if (oj_args_has(a, "json")) {
            oj_errorf("--follow prints raw output; it does not combine with --json");
            return OJ_EXIT_USAGE;
        }
        WITH_CLIENT(ctx, c, oj_follow(ctx, c, a->pos[0]));
    }
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
    WITH_CLIENT(ctx, c, (oj__control__session_capture(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_capture)));
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
    req.allow_control = oj_args_has(a, "allow-control");
    WITH_CLIENT(ctx, c, (oj__control__session_send(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, oj_print_action)));
}

static int exec_nudge(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__NudgeRequest req = OJ__NUDGE_REQUEST__INIT;
    req.id = a->pos[0];
    req.message = a->npos > 1 ? a->pos[1] : "";
    WITH_CLIENT(ctx, c, (oj__control__session_nudge(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, oj_print_action)));
}

static int exec_kill(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__SessionRef req = OJ__SESSION_REF__INIT;
    req.id = a->pos[0];
    WITH_CLIENT(ctx, c, (oj__control__session_kill(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, oj_print_action)));
}

static int exec_start(struct oj_ctx *ctx, const struct oj_args *a)
{
    long long idle = 0;
    if (oj_opt_duration(a, "idle-timeout", &idle) != 0)
        return OJ_EXIT_USAGE;
    Oj__SessionStartRequest req = OJ__SESSION_START_REQUEST__INIT;
    req.idle_timeout_ms = idle;
    req.name = (char *)(oj_args_get(a, "name") ? oj_args_get(a, "name") : "");
    req.cwd = (char *)(oj_args_get(a, "cwd") ? oj_args_get(a, "cwd") : "");
    /* The daemon runs in /: a relative --cwd is relative to here (or to -C's
     * DIR, as git's -C has it). */
    char here[PATH_MAX], cwd[3 * PATH_MAX + 4];
    if (req.cwd[0] && req.cwd[0] != '/') {
        if (getcwd(here, sizeof here) == NULL) {
            oj_errorf("--cwd %s: cannot tell the current directory; give an absolute path",
                      req.cwd);
            return OJ_EXIT_USAGE;
        }
        if (ctx->dir && ctx->dir[0] == '/')
            snprintf(cwd, sizeof cwd, "%s/%s", ctx->dir, req.cwd);
        else if (ctx->dir)
            snprintf(cwd, sizeof cwd, "%s/%s/%s", here, ctx->dir, req.cwd);
        else
            snprintf(cwd, sizeof cwd, "%s/%s", here, req.cwd);
        req.cwd = cwd;
    }
    req.n_argv = (size_t)a->npos;
    req.argv = a->pos;
    WITH_CLIENT(ctx, c, (oj__control__session_start(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_started)));
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt capture_opts[] = {
    {"tail", true, "N", "the last N lines of the screen (of an ended session: of its log)"},
    {"follow", false, NULL, "print the screen, then new output live until the session ends"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt send_opts[] = {
    {"interrupt", false, NULL, "send Ctrl-C instead of text"},
    {"allow-control", false, NULL, "type control bytes (ESC, CR, Tab...) as keys"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt start_opts[] = {
    {"name", true, "NAME", "a name to find the session by (not shaped like an id)"},
    {"cwd", true, "DIR", "working directory (default: the project root)"},
    {"idle-timeout", true, "DUR", "quiet this long = idle: raise a session.stuck event"},
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
    "session", "send", "<id> <text> [--allow-control] | <id> --interrupt",
    "Type text (then Enter) into a session",
    "The text is typed literally. Text holding control bytes (below 0x20, or 0x7f) is\n"
    "refused unless --allow-control is given.",
    send_opts, 1, 2, exec_send,
};
const struct oj_cmd oj_cmd_session_nudge = {
    "session", "nudge", "<id> [message]", "Nudge a session's agent", NULL, json_only, 1, 2,
    exec_nudge,
};
const struct oj_cmd oj_cmd_session_kill = {
    "session", "kill", "<id>", "Kill a session",
    "A session that is already dead is not an error: what is left of it in tmux is removed,\n"
    "it prints '<id>: already dead (<reason>)' and exits 0; its record keeps its status.",
    json_only, 1, 1, exec_kill,
};
const struct oj_cmd oj_cmd_session_start = {
    "session", "start", "[--name N] [--cwd DIR] [--idle-timeout DUR] -- <command...>",
    "Start a standalone session",
    "A name is letters, digits, '.', '_' and '-' (at most 64), and not shaped like an id:\n"
    "'s' or 'p' followed only by 0-9 and a-f (s5, sad, p1a2b3c) is refused. A relative\n"
    "--cwd is taken from the current directory.",
    start_opts, 1, -1, exec_start,
};
