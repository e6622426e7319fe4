/* tmux.c — see tmux.h. */
#include "tmux.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "subprocess.h"
#include "tmux_arg.h"

extern char **environ;

/* The daemon's environment without TMUX and TMUX_PANE. */
static char *clean[1024];
static pthread_once_t clean_once = PTHREAD_ONCE_INIT;

static void build_clean_env(void)
{
    int n = 0;
    for (char **e = environ; *e && n < 1023; e++)
        if (strncmp(*e, "TMUX=", 5) != 0 && strncmp(*e, "TMUX_", 5) != 0)
            clean[n++] = *e;
    clean[n] = NULL;
}

/* The daemon's environment without TMUX*, built once (runner threads and the
 * engine call tmux at the same time). */
static char **clean_env(void)
{
    pthread_once(&clean_once, build_clean_env);
    return clean;
}

/* tmux matches -t targets by prefix ("s1" finds "s10"); "=name" is exact. */
static void exact(char *buf, size_t len, const char *name, bool pane)
{
    snprintf(buf, len, "=%s%s", name, pane ? ":" : "");
}

/* One tmux command line (commands separated by ";"). Every word goes through
 * oj_tmux_arg, so nothing a user or a path supplies is tmux syntax; only
 * next_command's separators are. */
struct cmdline {
    char *argv[128];
    bool owned[128];
    int n;
    bool broken;      /* out of memory or too many words */
    const char *what; /* the name errors give it (default: its first word) */
};

static void push(struct cmdline *c, char *w, bool owned)
{
    if (w == NULL || c->n >= 127) {
        c->broken = true;
        if (owned)
            free(w);
        return;
    }
    c->owned[c->n] = owned;
    c->argv[c->n++] = w;
    c->argv[c->n] = NULL;
}

/* A word tmux reads the way `how` says. */
static void word(struct cmdline *c, const char *s, enum oj_tmux_expands how)
{
    push(c, oj_tmux_arg(s, how), true);
}

static void next_command(struct cmdline *c) { push(c, ";", false); }

static void cmdline_free(struct cmdline *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->owned[i])
            free(c->argv[i]);
    c->n = 0;
}

/* Runs tmux -S sock -f /dev/null <cmd>; output into out. */
static int run_cmdline(const char *sock, const struct cmdline *cmd, char *out, size_t outlen,
                       char *err, size_t errlen)
{
    if (cmd->broken) {
        snprintf(err, errlen, "cannot build the tmux command (out of memory or too many words)");
        return -1;
    }
    char *argv[136];
    int n = 0;
    argv[n++] = "tmux";
    argv[n++] = "-S";
    argv[n++] = (char *)sock;
    argv[n++] = "-f";
    argv[n++] = "/dev/null";
    for (int i = 0; i < cmd->n; i++)
        argv[n++] = cmd->argv[i];
    argv[n] = NULL;
    const char *what = cmd->what ? cmd->what : cmd->argv[0];
    char buf[4096];
    if (out == NULL) {
        out = buf;
        outlen = sizeof buf;
    }
    struct oj_proc_result r;
    /* A server whose last session was just killed exits, but first waits for
     * its other clients (the tick's list-panes, a capture) to go; a command
     * that connects in that moment is dropped with "server exited
     * unexpectedly" and ran nothing. Once the old server is gone, the command
     * starts a new one (or finds none), so try again, within the time limit. */
    int64_t give_up = oj_mono_ms() + OJ_TMUX_TIMEOUT_MS;
    for (;;) {
        if (oj_run_env(argv, "/", clean_env(), OJ_TMUX_TIMEOUT_MS, out, outlen, 1, &r) != 0) {
            snprintf(err, errlen, "cannot run tmux: %s", oj_spawn_why(errno));
            return -1;
        }
        if (r.timed_out || r.exit_status == 0 || oj_mono_ms() >= give_up ||
            (strstr(out, "server exited unexpectedly") == NULL && strstr(out, "lost server") == NULL))
            break;
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (r.timed_out) {
        snprintf(err, errlen, "tmux %s did not finish within %d ms", what,
                 OJ_TMUX_TIMEOUT_MS);
        return -1;
    }
    if (r.exit_status != 0) {
        out[strcspn(out, "\n")] = '\0';
        snprintf(err, errlen, "tmux %s failed: %.300s", what, out);
        return strstr(out, "no server running") || strstr(out, "No such file") ||
                       strstr(out, "error connecting")
                   ? -2
                   : -1;
    }
    return 0;
}

/* Runs one tmux command whose words tmux reads as words only: each is
 * escaped, so a final ';' is data. A word tmux expands as a format needs
 * word(..., OJ_TMUX_FORMAT) in a cmdline instead; the one exception is a -F
 * template of oj's own, meant to be expanded. */
static int run(const char *sock, char *const args[], char *out, size_t outlen, char *err,
               size_t errlen)
{
    struct cmdline c = {0};
    for (int i = 0; args[i]; i++)
        word(&c, args[i], OJ_TMUX_WORD);
    int rc = run_cmdline(sock, &c, out, outlen, err, errlen);
    cmdline_free(&c);
    return rc;
}

int oj_tmux_new(const char *sock, const char *name, const char *cwd, char *const env[],
                const char *command, const char *log_path, char *err, size_t errlen)
{
    char *qlog = oj_shell_quote(log_path);
    char pipe_cmd[4400];
    snprintf(pipe_cmd, sizeof pipe_cmd, "exec cat >> %s", qlog ? qlog : "/dev/null");
    free(qlog);
    /* One command sequence. The pane's output pipe must be in place before
     * the command's first byte, and tmux may read a new pane's output before
     * the pipe-pane that follows new-session (under load about 1 start in
     * 1000 lost a fast command's output), so the command first waits on a
     * tmux channel that the sequence signals once the pipe is there (a signal
     * sent before the wait is kept; `tmux` is on the pane's PATH, as it is on
     * the daemon's). remain-on-exit is set globally, first: set on the
     * new session after its creation it comes too late for a command that
     * ends at once, and tmux then records no exit status. */
    char channel[96];
    snprintf(channel, sizeof channel, "oj-start-%.80s", name);
    /* the pane's shell hands the channel to a tmux that parses it as a word */
    char *tchannel = oj_tmux_arg(channel, OJ_TMUX_WORD);
    char *qchannel = tchannel ? oj_shell_quote(tchannel) : NULL;
    char *qsock = oj_shell_quote(sock);
    /* And the last bytes: the kernel hands a pty's output to its reader
     * through a deferred work queue, and tmux closes a pane whose process has
     * exited once the pty shows nothing waiting; under load a fast command's
     * whole output was still in flight then (1 run in 18 of the fast-command
     * test with three sanitizer suites at once). So after the command the
     * pane writes an end mark, an OSC sequence terminals ignore, and stays
     * until the mark is in the log: everything before it is too (2 s at
     * most, in case the output pipe is gone). The command is not put in a
     * subshell: one that execs (the pane's process becomes it) or is hung up
     * on ends the pane as it always did, and one that ends the shell with
     * `exit` skips the mark; a newline, not `;`, follows it, so a trailing
     * comment or `&` in it stays its own. */
    char *qlog_tail = oj_shell_quote(log_path);
    char *gated = NULL;
    if (qsock == NULL || qchannel == NULL || qlog_tail == NULL ||
        asprintf(&gated,
                 "tmux -S %s wait-for %s; %s\noj_st=$?; printf '\\033]7777;%s\\007'; "
                 "oj_i=0; while [ $oj_i -lt 200 ] && ! tail -c 64 %s 2>/dev/null | "
                 "grep -q %s; do sleep 0.01; oj_i=$((oj_i+1)); done; exit $oj_st",
                 qsock, qchannel, command, OJ_TMUX_END_MARK, qlog_tail, OJ_TMUX_END_MARK) < 0)
        gated = NULL;
    free(tchannel);
    free(qchannel);
    free(qsock);
    free(qlog_tail);
    if (gated == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char pane[80];
    exact(pane, sizeof pane, name, true);
    struct cmdline c = {.what = "new-session"};
    word(&c, "set-option", OJ_TMUX_WORD);
    word(&c, "-g", OJ_TMUX_WORD);
    word(&c, "remain-on-exit", OJ_TMUX_FORMAT);
    word(&c, "on", OJ_TMUX_WORD);
    next_command(&c);
    word(&c, "new-session", OJ_TMUX_WORD);
    word(&c, "-d", OJ_TMUX_WORD);
    word(&c, "-s", OJ_TMUX_WORD);
    word(&c, name, OJ_TMUX_FORMAT);
    word(&c, "-x", OJ_TMUX_WORD);
    word(&c, "200", OJ_TMUX_FORMAT);
    word(&c, "-y", OJ_TMUX_WORD);
    word(&c, "50", OJ_TMUX_FORMAT);
    word(&c, "-c", OJ_TMUX_WORD);
    word(&c, cwd, OJ_TMUX_FORMAT);
    for (int i = 0; env && env[i]; i++) {
        word(&c, "-e", OJ_TMUX_WORD);
        word(&c, env[i], OJ_TMUX_WORD);
    }
    word(&c, gated, OJ_TMUX_WORD);
    next_command(&c);
    word(&c, "pipe-pane", OJ_TMUX_WORD);
    word(&c, "-o", OJ_TMUX_WORD);
    word(&c, "-t", OJ_TMUX_WORD);
    word(&c, pane, OJ_TMUX_WORD);
    word(&c, pipe_cmd, OJ_TMUX_FORMAT_TIME);
    next_command(&c);
    word(&c, "wait-for", OJ_TMUX_WORD);
    word(&c, "-S", OJ_TMUX_WORD);
    word(&c, channel, OJ_TMUX_WORD);
    int rc = run_cmdline(sock, &c, NULL, 0, err, errlen);
    cmdline_free(&c);
    free(gated);
    if (rc != 0) {
        /* a pane left waiting for a signal that never came */
        char ignored[256];
        oj_tmux_kill(sock, name, ignored, sizeof ignored);
        return -1;
    }
    return 0;
}

int oj_tmux_list(const char *sock, struct oj_tmux_pane **out, char *err, size_t errlen)
{
    *out = NULL;
    size_t cap_buf = 1 << 16;
    char *buf = malloc(cap_buf);
    if (buf == NULL)
        return -1;
    /* the -F template is ours: the one format oj wants tmux to expand */
    char *args[] = {"list-panes", "-a", "-F",
                    "#{session_name}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_dead_signal}\t"
                    "#{pane_pid}",
                    NULL};
    int rc = run(sock, args, buf, cap_buf, err, errlen);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    int n = 0, cap = 16;
    struct oj_tmux_pane *panes = calloc((size_t)cap, sizeof *panes);
    for (char *line = strtok(buf, "\n"); line && panes; line = strtok(NULL, "\n")) {
        /* Fields split by hand: sscanf's %d would skip an empty field (a
         * live pane has no dead status) and read the next one instead. */
        struct oj_tmux_pane p = {0};
        char *f[5] = {line, NULL, NULL, NULL, NULL};
        for (int k = 1; k < 5 && f[k - 1]; k++) {
            char *tab = strchr(f[k - 1], '\t');
            if (tab) {
                *tab = '\0';
                f[k] = tab + 1;
            }
        }
        if (f[4] == NULL)
            continue;
        snprintf(p.session, sizeof p.session, "%s", f[0]);
        p.dead = strcmp(f[1], "1") == 0;
        if (f[2][0]) {
            p.status_known = true;
            p.exit_status = atoi(f[2]);
        } else if (f[3][0]) {
            p.status_known = true;
            p.exit_status = 128 + atoi(f[3]);
        }
        p.pid = atoi(f[4]);
        if (n == cap) {
            cap *= 2;
            struct oj_tmux_pane *g = realloc(panes, (size_t)cap * sizeof *panes);
            if (g == NULL)
                break;
            panes = g;
        }
        panes[n++] = p;
    }
    free(buf);
    *out = panes;
    return n;
}

int oj_tmux_capture(const char *sock, const char *name, unsigned lines, char **text, bool *dead,
                    char *err, size_t errlen)
{
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    if (buf == NULL)
        return -1;
    char pane[80];
    exact(pane, sizeof pane, name, true);
    /* Whether the pane is dead, in the same breath as its screen: "0" or "1"
     * on a line of its own first (the format is oj's own, to be expanded). */
    struct cmdline c = {.what = "capture-pane"};
    word(&c, "display-message", OJ_TMUX_WORD);
    word(&c, "-p", OJ_TMUX_WORD);
    word(&c, "-t", OJ_TMUX_WORD);
    word(&c, pane, OJ_TMUX_WORD);
    word(&c, "#{pane_dead}", OJ_TMUX_WORD);
    next_command(&c);
    word(&c, "capture-pane", OJ_TMUX_WORD);
    word(&c, "-p", OJ_TMUX_WORD);
    word(&c, "-J", OJ_TMUX_WORD);
    word(&c, "-t", OJ_TMUX_WORD);
    word(&c, pane, OJ_TMUX_WORD);
    int rc = run_cmdline(sock, &c, buf, cap, err, errlen);
    cmdline_free(&c);
    if (rc != 0) {
        free(buf);
        return -1;
    }
    char *screen = strchr(buf, '\n');
    screen = screen ? screen + 1 : buf + strlen(buf);
    if (dead)
        *dead = buf[0] == '1';
    memmove(buf, screen, strlen(screen) + 1);
    /* Drop trailing blank lines, then keep the last `lines`. */
    size_t len = strlen(buf);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    char *start = buf;
    if (lines > 0) {
        unsigned seen = 0;
        for (char *p = buf + len; p > buf; p--)
            if (p[-1] == '\n' && ++seen == lines) {
                start = p;
                break;
            }
    }
    *text = malloc(strlen(start) + 2);
    if (*text)
        sprintf(*text, "%s%s", start, len ? "\n" : "");
    free(buf);
    return *text ? 0 : -1;
}

int oj_tmux_send(const char *sock, const char *name, const char *text, char *err, size_t errlen)
{
    char pane[80];
    exact(pane, sizeof pane, name, true);
    if (strlen(text) > 500) {
        /* Long text: a named paste buffer, pasted without bracketed paste
         * markers (some agents mishandle them), then Enter on its own. */
        char *set[] = {"set-buffer", "-b", "oj-send", "--", (char *)text, NULL};
        char *paste[] = {"paste-buffer", "-d", "-b", "oj-send", "-t", pane, NULL};
        if (run(sock, set, NULL, 0, err, errlen) != 0 || run(sock, paste, NULL, 0, err, errlen) != 0)
            return -1;
    } else {
        char *keys[] = {"send-keys", "-t", pane, "-l", "--", (char *)text, NULL};
        if (run(sock, keys, NULL, 0, err, errlen) != 0)
            return -1;
    }
    /* Enter as a separate call: sent in the same breath as the text, some
     * agents' input handling drops it. */
    char *enter[] = {"send-keys", "-t", pane, "Enter", NULL};
    return run(sock, enter, NULL, 0, err, errlen) == 0 ? 0 : -1;
}

int oj_tmux_interrupt(const char *sock, const char *name, char *err, size_t errlen)
{
    char pane[80];
    exact(pane, sizeof pane, name, true);
    char *args[] = {"send-keys", "-t", pane, "C-c", NULL};
    return run(sock, args, NULL, 0, err, errlen) == 0 ? 0 : -1;
}

int oj_tmux_kill(const char *sock, const char *name, char *err, size_t errlen)
{
    char sess[80];
    exact(sess, sizeof sess, name, false);
    char *args[] = {"kill-session", "-t", sess, NULL};
    return run(sock, args, NULL, 0, err, errlen) == 0 ? 0 : -1;
}
