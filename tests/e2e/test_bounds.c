/* Bounds and honest messages, end to end: loops in runbooks pause between
 * passes, the daemon log stays bounded and reopens on SIGHUP, user text
 * cannot forge output, and failures say what really went wrong. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "rpc_client.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static void start_daemon(char *const envp[])
{
    struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "oj daemon start (%d): %s", o.code, o.err);
    oj_out_free(&o);
}

/* Writes .oj/runbooks/<name>.json; the text uses ' for " to stay readable. */
static void runbook(const char *name, const char *text)
{
    cr_assert_eq(env_write_runbook_q(&e, name, text), 0, "cannot write runbook %s: %s", name, strerror(errno));
}

static void project_path(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", e.dir, rel);
}

/* `oj run` printed the id alone on stdout; copies it. */
static void run_ok(char id[16], const char *pipeline)
{
    struct oj_out o = OJ(&e, "run", pipeline);
    cr_assert_eq(o.code, 0, "oj run %s (%d): %s", pipeline, o.code, o.err);
    cr_assert(sscanf(o.out, "%15s", id) == 1, "%s", o.out);
    oj_out_free(&o);
}

/* ---- loops pause between passes ------------------------------------------------- */

struct lines_ctx {
    const char *path;
    int want;
};

static int count_lines(const char *path)
{
    char *t = read_file(path);
    int n = 0;
    for (const char *p = t; p && *p; p++)
        n += *p == '\n';
    free(t);
    return n;
}

static bool has_lines(void *arg)
{
    struct lines_ctx *c = arg;
    return count_lines(c->path) >= c->want;
}

/* The pass start times (ms, one per line) written by a looping step. */
static int read_times(const char *path, long long *t, int max)
{
    char *text = read_file(path);
    int n = 0;
    for (char *p = text, *end; p && *p && n < max; p = end + 1) {
        long long v = strtoll(p, &end, 10);
        if (end == p || *end != '\n')
            break; /* the end, or a line still being written */
        t[n++] = v;
    }
    free(text);
    return n;
}

static bool in_pause(void *id)
{
    struct oj_out o = OJ(&e, "pipeline", "status", (char *)id);
    bool yes = strstr(o.out, "step:      pause") && strstr(o.out, "a pause between two passes");
    oj_out_free(&o);
    return yes;
}

Test(bounds, a_phase_that_loops_back_pauses_between_passes, .init = setup, .fini = teardown)
{
    /* `self` loops into itself with the default pause (1 s); `ping` and `pong`
     * loop through each other, back into `ping`, whose pause is 2 s. */
    runbook("loops", "{'pipelines': {"
                     " 'self': {'phases': [{'name': 'again',"
                     "   'run': 'echo $(($(date +%s%N) / 1000000)) >> {project}/self.txt',"
                     "   'next': 'again'}]},"
                     " 'cycle': {'phases': ["
                     "  {'name': 'ping', 'pause': '2s',"
                     "   'run': 'echo $(($(date +%s%N) / 1000000)) >> {project}/cycle.txt'},"
                     "  {'name': 'pong', 'run': 'true', 'next': 'ping'}]}}}");
    start_daemon(NULL);
    char self_id[16], cycle_id[16], self_txt[PATH_MAX], cycle_txt[PATH_MAX];
    run_ok(self_id, "self");
    run_ok(cycle_id, "cycle");
    project_path(self_txt, sizeof self_txt, "self.txt");
    project_path(cycle_txt, sizeof cycle_txt, "cycle.txt");
    struct lines_ctx s = {self_txt, 4}, c = {cycle_txt, 3};
    cr_assert(wait_until(has_lines, &s, 30000), "the self loop ran %d passes",
              count_lines(self_txt));
    cr_assert(wait_until(has_lines, &c, 30000), "the cycle ran %d passes", count_lines(cycle_txt));

    /* Between two passes: at least the pause (without it: ~40 passes a second). */
    long long t[64];
    int n = read_times(self_txt, t, 64);
    for (int i = 1; i < n; i++)
        cr_expect_geq(t[i] - t[i - 1], 1000, "self: passes %d and %d only %lld ms apart", i,
                      i + 1, t[i] - t[i - 1]);
    n = read_times(cycle_txt, t, 64);
    for (int i = 1; i < n; i++)
        cr_expect_geq(t[i] - t[i - 1], 2000, "cycle: passes %d and %d only %lld ms apart", i,
                      i + 1, t[i] - t[i - 1]);

    /* Between passes the pipeline says it pauses; a cancel ends the loop. */
    cr_expect(wait_until(in_pause, self_id, 10000), "oj pipeline status never showed the pause");
    struct oj_out o = OJ(&e, "pipeline", "cancel", self_id);
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "cancel", cycle_id);
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

/* ---- the daemon log is bounded -------------------------------------------------- */

static long file_size(const char *rel)
{
    char p[PATH_MAX];
    project_path(p, sizeof p, rel);
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* How often `what` occurs in daemon.log and its rotated files. */
static int count_in_logs(const char *what)
{
    const char *names[] = {".oj/logs/daemon.log", ".oj/logs/daemon.log.1",
                           ".oj/logs/daemon.log.2", ".oj/logs/daemon.log.moved"};
    int n = 0;
    for (int i = 0; i < 4; i++) {
        char p[PATH_MAX];
        project_path(p, sizeof p, names[i]);
        char *t = read_file(p);
        for (const char *q = t; q && (q = strstr(q, what)); q++)
            n++;
        free(t);
    }
    return n;
}

static bool log_reopened(void *arg)
{
    (void)arg;
    char p[PATH_MAX];
    project_path(p, sizeof p, ".oj/logs/daemon.log");
    char *t = read_file(p);
    bool yes = t && strstr(t, "SIGHUP: reopened");
    free(t);
    return yes;
}

Test(bounds, the_daemon_log_rotates_reopens_on_sighup_and_limits_repeats, .init = setup,
     .fini = teardown)
{
    char *env[] = {"OJ_LOG_LEVEL=debug", "OJ_LOG_MAX_SIZE=8KiB", "OJ_LOG_KEEP=2", NULL};
    start_daemon(env);
    char sock[PATH_MAX];
    project_path(sock, sizeof sock, ".oj/daemon.sock");

    /* 300 requests, one debug line each (~22 KB in all): rotated at 8 KiB, 2 kept. */
    struct oj_client *c;
    cr_assert_eq(oj_client_open(&c, sock, 10000), 0);
    for (int i = 0; i < 300; i++) {
        Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
        Oj__StatusResponse *resp = NULL;
        cr_assert_eq(OJ_RPC(c, oj__control__status, &req, &resp), OJ__STATUS_CODE__OK);
        oj_client_free_reply(resp);
    }
    oj_client_close(c);
    const char *files[] = {".oj/logs/daemon.log", ".oj/logs/daemon.log.1",
                           ".oj/logs/daemon.log.2"};
    for (int i = 0; i < 3; i++) {
        long n = file_size(files[i]);
        cr_expect_gt(n, 0, "%s is missing (daemon.log: %ld bytes)", files[i], file_size(files[0]));
        cr_expect_leq(n, 8192, "%s is %ld bytes, over OJ_LOG_MAX_SIZE=8KiB", files[i], n);
    }
    cr_expect_eq(file_size(".oj/logs/daemon.log.3"), -1, "OJ_LOG_KEEP=2 keeps two old files");

    /* 200 garbage frames: each is answered, but the log says so at most 10 times. */
    nng_socket raw;
    cr_assert_eq(nng_req0_open(&raw), 0);
    nng_socket_set_ms(raw, NNG_OPT_RECVTIMEO, 10000);
    char url[PATH_MAX + 8];
    snprintf(url, sizeof url, "ipc://%s", sock);
    cr_assert_eq(nng_dial(raw, url, NULL, 0), 0);
    for (int i = 0; i < 200; i++) {
        char junk[] = "\xff\xfe not a RequestFrame";
        cr_assert_eq(nng_send(raw, junk, sizeof junk, 0), 0);
        char *buf;
        size_t len;
        cr_assert_eq(nng_recv(raw, &buf, &len, NNG_FLAG_ALLOC), 0, "frame %d got no answer", i);
        nng_free(buf, len);
    }
    nng_close(raw);
    int lines = count_in_logs("undecodable request frame");
    cr_expect_leq(lines, 10, "200 garbage frames logged %d warnings", lines);
    cr_expect_geq(lines, 1, "the first garbage frames are still logged");
    cr_expect_eq(count_in_logs("suppressed and counted"), 1, "the log says it holds the rest back");

    /* logrotate's way: move the file, send SIGHUP, and the daemon writes a new one. */
    char live[PATH_MAX], moved[PATH_MAX];
    project_path(live, sizeof live, ".oj/logs/daemon.log");
    project_path(moved, sizeof moved, ".oj/logs/daemon.log.moved");
    cr_assert_eq(rename(live, moved), 0);
    cr_assert_eq(kill(env_daemon_pid(&e), SIGHUP), 0);
    cr_expect(wait_until(log_reopened, NULL, 10000), "no new daemon.log after SIGHUP");
    struct oj_out o = OJ(&e, "status");
    cr_expect_eq(o.code, 0, "the daemon keeps serving after SIGHUP: %s", o.err);
    oj_out_free(&o);
}

/* ---- user text cannot forge output ---------------------------------------------- */

static int line_count(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static bool pipeline_failed(void *id)
{
    struct oj_out o = OJ(&e, "pipeline", "status", (char *)id, "--json");
    bool yes = strstr(o.out, "\"failed\"") != NULL;
    oj_out_free(&o);
    return yes;
}

Test(bounds, user_text_is_escaped_in_tables_and_exact_in_json, .init = setup, .fini = teardown)
{
    start_daemon(NULL);
    const char *holder = "x\nforged-lock              root                 2020-01-01 00:00:00 "
                         "1s         held\x1b[2J\x1b[31m";
    struct oj_out o = OJ(&e, "lock", "acquire", "forged", "--holder", holder);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);

    o = OJ(&e, "lock", "list");
    cr_expect_eq(line_count(o.out), 2, "a header and one row, no forged one:\n%s", o.out);
    cr_expect(strchr(o.out, '\x1b') == NULL, "no terminal escape reaches the terminal");
    cr_expect(strstr(o.out, "x\\nforged-lock") && strstr(o.out, "held\\e[2J\\e[31m"), "%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "lock", "status", "forged");
    cr_expect(strchr(o.out, '\x1b') == NULL && strstr(o.out, "holder:     x\\nforged-lock"), "%s",
              o.out);
    oj_out_free(&o);
    /* The error naming the holder stays one line. */
    o = OJ(&e, "lock", "release", "forged", "--holder", "someone-else");
    cr_expect_eq(o.code, 5, "%s", o.err);
    cr_expect_eq(line_count(o.err), 1, "%s", o.err);
    cr_expect(strchr(o.err, '\x1b') == NULL && strstr(o.err, "x\\nforged-lock"), "%s", o.err);
    oj_out_free(&o);
    /* --json stays exact. */
    o = OJ(&e, "lock", "list", "--json");
    cJSON *j = cJSON_Parse(o.out);
    const cJSON *l = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "locks"), 0);
    cr_expect_str_eq(cJSON_GetObjectItem(l, "holder")->valuestring, holder);
    cJSON_Delete(j);
    oj_out_free(&o);

    /* A pipeline input and a last error (the failing step's last line of output). */
    runbook("echo", "{'pipelines': {'echo': {'inputs': ['what'], 'phases': [{'name': 'say',"
                    " 'run': 'printf \\\"out\\\\033[31m\\\\n\\\"; exit 3'}]}}}");
    const char *input = "line1\nline2\x1b[31m";
    o = OJ(&e, "run", "echo", input);
    cr_assert_eq(o.code, 0, "%s", o.err);
    char id[16];
    cr_assert_eq(sscanf(o.out, "%15s", id), 1);
    oj_out_free(&o);
    cr_assert(wait_until(pipeline_failed, id, 30000), "pipeline %s did not fail", id);
    o = OJ(&e, "pipeline", "show", id);
    cr_expect(strchr(o.out, '\x1b') == NULL, "%s", o.out);
    cr_expect(strstr(o.out, "input:     what = line1\\nline2\\e[31m"), "%s", o.out);
    cr_expect(strstr(o.out, "exit status 3: out\\e[31m"), "%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "show", id, "--json");
    j = cJSON_Parse(o.out);
    const cJSON *in = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "inputs"), 0);
    cr_expect_str_eq(cJSON_GetObjectItem(in, "value")->valuestring, input);
    cr_expect(strstr(cJSON_GetObjectItem(j, "last_error")->valuestring, "out\x1b[31m"), "%s",
              o.out);
    cJSON_Delete(j);
    oj_out_free(&o);
}

/* ---- failures say what really went wrong ---------------------------------------- */

Test(bounds, a_command_too_long_to_run_says_so, .init = setup, .fini = teardown)
{
    start_daemon(NULL);
    /* Two arguments of 100 KB: each fits the CLI's own argv, but the command
     * they make (one argument for tmux, or for sh -c) is past the kernel's
     * 128 KiB limit for one string. */
    static char big[100 * 1000];
    memset(big, 'x', sizeof big - 1);
    struct oj_out o = OJ(&e, "session", "start", "--name", "big", "--", "echo", big, big);
    cr_expect_eq(o.code, 1, "%s", o.err);
    cr_expect(strstr(o.err, "too long") && strstr(o.err, "E2BIG"), "%s", o.err);
    cr_expect(strstr(o.err, "is it installed") == NULL, "tmux is installed: %s", o.err);
    oj_out_free(&o);

    runbook("twice", "{'pipelines': {'twice': {'inputs': ['t'], 'phases': [{'name': 'say',"
                     " 'run': 'echo {t} {t}'}]}}}");
    o = OJ(&e, "run", "twice", big);
    cr_assert_eq(o.code, 0, "%s", o.err);
    char id[16];
    cr_assert_eq(sscanf(o.out, "%15s", id), 1);
    oj_out_free(&o);
    cr_assert(wait_until(pipeline_failed, id, 30000), "pipeline %s did not fail", id);
    o = OJ(&e, "pipeline", "status", id);
    cr_expect(strstr(o.out, "could not run sh in") && strstr(o.out, "too long") &&
                  strstr(o.out, "E2BIG"),
              "%s", o.out);
    oj_out_free(&o);
}

Test(bounds, a_wal_that_is_a_directory_is_named_as_one, .init = setup, .fini = teardown)
{
    start_daemon(NULL);
    struct oj_out o = OJ(&e, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    char wal[PATH_MAX], aside[PATH_MAX + 8];
    project_path(wal, sizeof wal, ".oj/wal.jsonl");
    snprintf(aside, sizeof aside, "%s.aside", wal);
    cr_assert(unlink(wal) == 0 || errno == ENOENT);
    cr_assert_eq(mkdir(wal, 0700), 0);
    o = OJ(&e, "daemon", "start");
    cr_expect_eq(o.code, 1);
    cr_expect(strstr(o.err, "wal.jsonl is a directory, not the WAL file") && strstr(o.err, "mv "),
              "%s", o.err);
    cr_expect(strstr(o.err, "No such device") == NULL, "%s", o.err);
    oj_out_free(&o);
    /* Doing what it says works. */
    cr_assert_eq(rename(wal, aside), 0);
    o = OJ(&e, "daemon", "start");
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

/* Runs oj as user nobody (uid/gid 65534) with the arguments; stderr into err. */
static int oj_as_nobody(char *err, size_t errlen, const char *a1, const char *a2, const char *a3)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(p[1], 2);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        close(p[0]);
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            _exit(120);
        char *argv[] = {e.oj, "-C", e.dir, (char *)a1, (char *)a2, (char *)a3, NULL};
        execv(e.oj, argv);
        _exit(121);
    }
    close(p[1]);
    size_t used = 0;
    ssize_t r;
    while (used + 1 < errlen && (r = read(p[0], err + used, errlen - 1 - used)) > 0)
        used += (size_t)r;
    err[used] = '\0';
    close(p[0]);
    return child_wait_exit(pid, 30000);
}

Test(bounds, another_user_is_told_permission_denied_not_that_no_daemon_runs, .init = setup,
     .fini = teardown)
{
    if (getuid() != 0)
        cr_skip_test("needs root, to run oj as another user");
    /* The project is open to all; its .oj/ is the daemon owner's alone (0700). */
    cr_assert_eq(chmod(e.dir, 0755), 0);
    start_daemon(NULL);
    pid_t daemon = env_daemon_pid(&e);
    const char *cmds[][3] = {{"status", NULL, NULL},
                             {"lock", "list", NULL},
                             {"daemon", "stop", NULL},
                             {"daemon", "stop", "--force"},
                             {"daemon", "start", NULL}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char err[1024];
        int code = oj_as_nobody(err, sizeof err, cmds[i][0], cmds[i][1], cmds[i][2]);
        cr_expect_eq(code, 9, "oj %s %s %s as nobody: exit %d: %s", cmds[i][0],
                     cmds[i][1] ? cmds[i][1] : "", cmds[i][2] ? cmds[i][2] : "", code, err);
        cr_expect(strstr(err, "permission denied") && strstr(err, "belongs to root"), "%s", err);
        cr_expect(strstr(err, "not running") == NULL && strstr(err, "nothing to stop") == NULL,
                  "%s", err);
    }
    cr_expect_eq(env_daemon_pid(&e), daemon, "the daemon still runs");
    struct oj_out o = OJ(&e, "status");
    cr_expect_eq(o.code, 0, "its owner still reaches it: %s", o.err);
    oj_out_free(&o);
}

struct text_wait {
    const char *id, *want;
};

static bool status_has(void *arg)
{
    struct text_wait *w = arg;
    struct oj_out o = OJ(&e, "pipeline", "status", w->id);
    bool yes = strstr(o.out, w->want) != NULL;
    oj_out_free(&o);
    return yes;
}

Test(bounds, a_failing_notify_command_shows_in_the_recovery_steps_and_the_log, .init = setup,
     .fini = teardown)
{
    /* The old example's mistake: parentheses around a quoted value. */
    runbook("alarm", "{'pipelines': {'alarm': {'phases': [{'name': 'wait', 'agent': {"
                     " 'command': 'oj-fake-agent --mute', 'idle_timeout': '1s',"
                     " 'on_stuck': ['escalate']}}],"
                     " 'notify': 'echo pipeline {id} ({pipeline}) needs a human'}}}");
    start_daemon(NULL);
    char id[16];
    run_ok(id, "alarm");
    struct text_wait w = {id, "the notify command failed: exit status 2: "};
    cr_expect(wait_until(status_has, &w, 30000), "no failed notify in the recovery steps");
    struct oj_out o = OJ(&e, "pipeline", "status", id);
    cr_expect(strstr(o.out, "state:     escalated") && strstr(o.out, "notify ") &&
                  strstr(o.out, "Syntax error"),
              "%s", o.out);
    oj_out_free(&o);
    char want[128];
    snprintf(want, sizeof want, "pipeline %s: the notify command failed (status 2", id);
    cr_expect_eq(count_in_logs(want), 1, "the daemon log names the pipeline and the status");
    o = OJ(&e, "pipeline", "cancel", id);
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}
