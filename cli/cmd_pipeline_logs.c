/* cmd_pipeline_logs.c — following pipelines and the daemon: `oj pipeline
 * logs [-f]`, `oj pipeline wait`, `oj daemon logs [-f] [-n N]`. Thin clients
 * of the PipelineLogs, PipelineStatus and DaemonLogs rpcs and the events
 * socket (pipeline_follow.c): they never open the daemon's files, so they
 * work wherever the daemon can be reached. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "pipeline_follow.h"

static int exec_logs(struct oj_ctx *ctx, const struct oj_args *a)
{
    WITH_CLIENT(ctx, c,
                oj_pipeline_print_logs(ctx, c, a->pos[0], oj_args_has(a, "follow"),
                                       oj_args_has(a, "json"), NULL, 0));
}

static int exec_wait(struct oj_ctx *ctx, const struct oj_args *a)
{
    long long timeout = 0;
    if (oj_opt_duration(a, "timeout", &timeout) != 0)
        return OJ_EXIT_USAGE;
    WITH_CLIENT(ctx, c, oj_pipeline_await(ctx, c, a->pos[0], timeout, oj_args_has(a, "json")));
}

/* ---- oj daemon logs ------------------------------------------------------------------------ */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

#define DAEMON_LOGS_POLL_MS 250

static int exec_daemon_logs(struct oj_ctx *ctx, const struct oj_args *a)
{
    long lines = 10;
    const char *n = oj_args_get(a, "lines");
    if (n) {
        char *end;
        lines = strtol(n, &end, 10);
        if (*n == '\0' || *end != '\0' || lines < 1 || lines > 100000) {
            oj_errorf("-n/--lines takes a whole number of lines from 1 to 100000, got '%s'", n);
            return OJ_EXIT_USAGE;
        }
    }
    struct oj_client *c;
    int rc = oj_ctx_connect(ctx, &c);
    if (rc != 0)
        return rc;
    bool follow = oj_args_has(a, "follow");
    Oj__DaemonLogsRequest req = OJ__DAEMON_LOGS_REQUEST__INIT;
    req.tail_lines = (uint32_t)lines;
    struct sigaction sa = {.sa_handler = on_sigint}, old_int, old_term;
    if (follow) {
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    for (;;) {
        Oj__DaemonLogsResponse *r;
        if (OJ_RPC(c, oj__control__daemon_logs, &req, &r) != OJ__STATUS_CODE__OK) {
            rc = oj_call_failed(c);
            break;
        }
        if (r->data.len)
            fwrite(r->data.data, 1, r->data.len, stdout);
        fflush(stdout);
        bool more = r->data.len > 0;
        req.from = true;
        req.offset = r->offset;
        req.file_id = r->file_id;
        oj_client_free_reply(r);
        if (!follow || interrupted)
            break;
        if (!more) { /* the daemon's log has no events of its own: look again shortly */
            struct timespec ts = {0, DAEMON_LOGS_POLL_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (interrupted)
            break;
    }
    if (follow) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    oj_client_close(c);
    return rc;
}

static const struct oj_opt logs_opts[] = {
    {"follow", false, NULL, "then print what comes, until the pipeline has finished or Ctrl-C"},
    {"json", false, NULL, "one PipelineLogsResponse per line (fields as in proto/oj.proto)"},
    {0},
};
static const struct oj_opt wait_opts[] = {
    {"timeout", true, "DUR", "give up after this long (exit 7); default: no limit"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_opt daemon_logs_opts[] = {
    {"follow", false, NULL, "then print what the daemon writes, until Ctrl-C"},
    {"lines", true, "N", "start with the last N lines (default 10)"},
    {0},
};

const struct oj_cmd oj_cmd_pipeline_logs = {
    "pipeline", "logs", "<id> [-f] [--json]",
    "The pipeline's output in order: shell steps and agent sessions",
    "Its shell steps' output (.oj/logs/pipelines/<id>.log, each step as `$ command` ... `[exit\n"
    "N after T ms]`, written when the step ends) and each agent's terminal output (its\n"
    "session log, raw, under a `==> agent session <sid> (phase <phase>) <==` heading), in\n"
    "the order they ran. -f follows live (over the events socket, never missing a byte)\n"
    "and ends (exit 0) once the pipeline has finished and everything is printed; Ctrl-C\n"
    "ends it too (exit 0). The id may be any unique prefix; an archived pipeline's output\n"
    "is found by its whole id while its logs are kept.",
    logs_opts, 1, 1, exec_logs,
};
const struct oj_cmd oj_cmd_pipeline_wait = {
    "pipeline", "wait", "<id> [--timeout DUR] [--json]",
    "Wait for the pipeline's outcome; the exit status says it",
    "Returns once the pipeline is done (exit 0), failed (10), cancelled (11) or escalated\n"
    "(12: a human is needed), printing `<id>: <state>` and its last error; exit 7 when\n"
    "--timeout passes first. Woken by the daemon's events, it also asks every 2 s.",
    wait_opts, 1, 1, exec_wait,
};
const struct oj_cmd oj_cmd_daemon_logs = {
    "daemon", "logs", "[-f] [-n N]", "Print the daemon's log",
    "The last N lines (default 10) of the daemon's log (.oj/logs/daemon.log), read through\n"
    "the daemon. -f then prints what the daemon writes (asked for every 250 ms) across\n"
    "its rotation (the rest of daemon.log.1 first), until Ctrl-C (exit 0).",
    daemon_logs_opts, 0, 0, exec_daemon_logs,
};
