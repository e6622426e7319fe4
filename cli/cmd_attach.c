/* cmd_attach.c — `oj attach <session|pipeline> [--read-only]`: the agent's
 * terminal in yours. The daemon says where the session lives (its private
 * tmux server's socket and the exact target, rpc SessionAttach); oj then
 * becomes a tmux client of that server (exec), so the terminal is tmux's own
 * business and detaching (prefix, then d) ends oj with tmux's exit status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Where to attach, asked of the daemon; 0 with the socket and target copied,
 * else the exit code (the error printed). */
static int ask(struct oj_ctx *ctx, const char *ref, char *sock, size_t socklen, char *target,
               size_t targetlen, char *id, size_t idlen)
{
    struct oj_client *c;
    int rc = oj_ctx_connect(ctx, &c);
    if (rc != 0)
        return rc;
    Oj__AttachRequest req = OJ__ATTACH_REQUEST__INIT;
    req.ref = (char *)ref;
    Oj__SessionInfo *info;
    if (OJ_RPC(c, oj__control__session_attach, &req, &info) != OJ__STATUS_CODE__OK) {
        rc = oj_call_failed(c);
    } else if (info->tmux_socket[0] == '\0' || info->tmux_target[0] == '\0') {
        oj_errorf("the daemon did not say where session %s is (an older daemon? restart it "
                  "with `oj daemon stop` and `oj daemon start`)", oj_esc(info->id));
        rc = OJ_EXIT_FAILURE;
    } else {
        snprintf(sock, socklen, "%s", info->tmux_socket);
        snprintf(target, targetlen, "%s", info->tmux_target);
        snprintf(id, idlen, "%s", info->id);
    }
    if (rc == 0)
        oj_client_free_reply(info);
    oj_client_close(c);
    return rc;
}

static int exec_attach(struct oj_ctx *ctx, const struct oj_args *a)
{
    char sock[4200], target[200], id[64];
    int rc = ask(ctx, a->pos[0], sock, sizeof sock, target, sizeof target, id, sizeof id);
    if (rc != 0)
        return rc;
    /* tmux needs a terminal to draw on; without one it fails with a message
     * about the terminal, not about oj */
    if (!isatty(STDIN_FILENO)) {
        oj_errorf("attach needs a terminal (stdin is not one); to read session %s's screen "
                  "without one use `oj session capture %s`", id, id);
        return OJ_EXIT_USAGE;
    }
    /* Inside tmux: a client of the daemon's server nested in the current pane
     * (docs/cli.md says why not a new window). tmux refuses to nest while
     * $TMUX is set, and TMUX_PANE would name a pane of the other server. */
    bool nested = getenv("TMUX") != NULL && getenv("TMUX")[0] != '\0';
    unsetenv("TMUX");
    unsetenv("TMUX_PANE");
    bool ro = oj_args_has(a, "read-only");
    fprintf(stderr, "oj: attaching to session %s%s; detach with %s\n", id,
            ro ? " read-only" : "", nested ? "Ctrl-b Ctrl-b d (you are inside tmux)" : "Ctrl-b d");
    fflush(stderr);
    char *argv[8];
    int n = 0;
    argv[n++] = "tmux";
    argv[n++] = "-S";
    argv[n++] = sock;
    argv[n++] = "attach-session";
    if (ro)
        argv[n++] = "-r";
    argv[n++] = "-t";
    argv[n++] = target;
    argv[n] = NULL;
    execvp("tmux", argv);
    oj_errorf("cannot run tmux to attach: %s", strerror(errno));
    return OJ_EXIT_FAILURE;
}

static const struct oj_opt attach_opts[] = {
    {"read-only", false, NULL, "watch only: what you type does not reach the agent"},
    {0},
};

const struct oj_cmd oj_cmd_attach = {
    NULL, "attach", "<session|pipeline> [--read-only]",
    "Open an agent's terminal here (detach: Ctrl-b d)",
    "Attaches your terminal to the session's tmux pane on the daemon's private tmux\n"
    "server. The argument is a session (id, id prefix or name) or a pipeline (id or id\n"
    "prefix): a pipeline means its current agent session. Refused when that session is\n"
    "dead or still starting, when the pipeline has no agent session now (exit 5), when\n"
    "the argument could mean more than one session (exit 2), and without a terminal on\n"
    "stdin (exit 2). Detach with Ctrl-b d, and oj exits 0. Inside tmux the agent's\n"
    "terminal opens nested in the current pane: detach with Ctrl-b Ctrl-b d.\n"
    "--read-only: keys other than detach are ignored.",
    attach_opts, 1, 1, exec_attach,
};
