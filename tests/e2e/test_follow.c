/* `oj session capture --follow`: live output over pub/sub, complete and in
 * order, ending with the session, leaving cleanly on Ctrl-C. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "rpc_client.h"

extern char **environ;

static struct oj_env e;

static void setup(void)
{
    env_setup(&e, true);
    cr_assert_eq(env_start_daemon(&e), 0);
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static void start_agent(const char *name)
{
    char id[32];
    cr_assert_eq(env_start_agent(&e, name, id, sizeof id), 0);
}

/* Starts `oj -C <dir> <args...>` in the background with stdout to out_path. */
static pid_t spawn_oj(const char *out_path, char *const args[])
{
    char *argv[16] = {e.oj, "-C", e.dir};
    int n = 3;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, e.oj, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* Starts `oj session capture <name> --follow` with stdout to out_path. */
static pid_t start_follower(const char *name, const char *out_path)
{
    char *args[] = {"session", "capture", (char *)name, "--follow", NULL};
    return spawn_oj(out_path, args);
}

struct file_wait {
    const char *path, *text;
};

static bool file_has(void *arg)
{
    struct file_wait *w = arg;
    char *t = read_file(w->path);
    bool has = t && strstr(t, w->text);
    free(t);
    return has;
}

static void send_line(const char *name, const char *text)
{
    struct oj_out o = OJ(&e, "session", "send", name, text);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
}

static int wait_exit(pid_t pid, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

Test(follow, every_line_of_a_10000_line_burst_in_order, .init = setup, .fini = teardown,
     .timeout = 120)
{
    start_agent("loud");
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/follow.out", e.dir);
    struct file_wait ready = {out, "fake agent ready"};
    pid_t f = start_follower("loud", out);
    cr_assert(wait_until(file_has, &ready, 10000), "the follower never showed the screen");

    send_line("loud", "burst 10000");
    struct file_wait last = {out, "line 10000\r\n"};
    cr_assert(wait_until(file_has, &last, 60000), "the burst never fully arrived");
    send_line("loud", "exit 0");
    cr_expect_eq(wait_exit(f, 15000), 0, "the follower ends, cleanly, when the session ends");

    char *text = read_file(out);
    cr_assert_not_null(text);
    const char *p = text;
    for (int i = 1; i <= 10000; i++) {
        char line[32];
        snprintf(line, sizeof line, "\nline %d\r\n", i);
        const char *at = strstr(p, line);
        if (at == NULL) {
            cr_assert_fail("line %d missing or out of order", i);
            break;
        }
        if (i < 10000) {
            char next[32];
            snprintf(next, sizeof next, "line %d\r\n", i + 1);
            cr_assert(strncmp(at + strlen(line), next, strlen(next)) == 0,
                      "line %d is not followed directly by line %d (gap or duplicate)", i, i + 1);
        }
        p = at + strlen(line) - 1;
    }
    cr_expect(strstr(text, "exiting with 0") != NULL, "the last words arrive too");
    free(text);
}

/* A range of a session's log past 64 KiB (capture --follow's catch-up, the
 * dashboard's terminal) is read on a thread of its own, off the state
 * (engine_work.h oj_engine_read): the bytes are the log's, from the offset
 * asked for, and the end offset says where they stop. */
static bool log_has_last_line(void *arg)
{
    char *t = read_file((const char *)arg);
    bool has = t && strstr(t, "line 30000\r\n");
    free(t);
    return has;
}

Test(follow, a_large_range_of_the_log_is_the_logs_bytes, .init = setup, .fini = teardown,
     .timeout = 120)
{
    char id[32], log[PATH_MAX], sock[PATH_MAX];
    cr_assert_eq(env_start_agent(&e, "loud", id, sizeof id), 0);
    snprintf(log, sizeof log, "%s/.oj/logs/sessions/%s.log", e.dir, id);
    send_line("loud", "burst 30000");
    cr_assert(wait_until(log_has_last_line, log, 60000), "the burst never reached %s", log);
    char *file = read_file(log);
    cr_assert_not_null(file);
    size_t size = strlen(file); /* terminal output: no NUL byte in it */
    cr_assert_gt(size, 300000, "%zu bytes", size);

    snprintf(sock, sizeof sock, "%s/.oj/daemon.sock", e.dir);
    struct oj_client *c;
    cr_assert_eq(oj_client_open(&c, sock, 10000), 0);
    uint64_t froms[] = {0, 70000};
    for (size_t i = 0; i < 2; i++) {
        Oj__SessionCaptureRequest req = OJ__SESSION_CAPTURE_REQUEST__INIT;
        req.id = id;
        req.range = true;
        req.from_offset = froms[i];
        req.to_offset = size;
        Oj__SessionCaptureResponse *r = NULL;
        cr_assert_eq(OJ_RPC(c, oj__control__session_capture, &req, &r), OJ__STATUS_CODE__OK,
                     "%s", oj_client_message(c));
        cr_expect_eq(r->data.len, size - froms[i], "from %llu", (unsigned long long)froms[i]);
        cr_expect_eq(r->log_offset, size);
        cr_expect(r->data.len <= size - froms[i] &&
                      memcmp(r->data.data, file + froms[i], r->data.len) == 0,
                  "the bytes from %llu are not the log's", (unsigned long long)froms[i]);
        cr_expect_str_eq(r->state, "running");
        oj_client_free_reply(r);
    }
    oj_client_close(c);
    free(file);
}

Test(follow, ctrl_c_leaves_cleanly, .init = setup, .fini = teardown)
{
    start_agent("calm");
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/follow.out", e.dir);
    pid_t f = start_follower("calm", out);
    struct file_wait ready = {out, "fake agent ready"};
    cr_assert(wait_until(file_has, &ready, 10000));
    send_line("calm", "first");
    struct file_wait got = {out, "got: first"};
    cr_assert(wait_until(file_has, &got, 10000), "live output within the deadline");
    kill(f, SIGINT);
    cr_expect_eq(wait_exit(f, 5000), 0, "Ctrl-C leaves with exit 0");
    struct oj_out s = OJ(&e, "session", "show", "calm");
    cr_expect(strstr(s.out, "running") != NULL, "following never disturbs the session");
    oj_out_free(&s);
}

Test(follow, a_dead_session_prints_its_screen_and_ends, .init = setup, .fini = teardown)
{
    start_agent("gone");
    struct oj_out s = OJ(&e, "session", "send", "gone", "exit 4");
    oj_out_free(&s);
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/follow.out", e.dir);
    /* Wait for the tick to see it dead. */
    for (int i = 0; i < 500; i++) {
        struct oj_out o = OJ(&e, "session", "show", "gone");
        bool dead = strstr(o.out, "dead") != NULL;
        oj_out_free(&o);
        if (dead)
            break;
        usleep(20000);
    }
    pid_t f = start_follower("gone", out);
    cr_expect_eq(wait_exit(f, 10000), 0);
    char *text = read_file(out);
    cr_expect(text && strstr(text, "exiting with 4"), "%s", text ? text : "");
    free(text);
}

Test(follow, events_follow_shows_sessions_starting_and_ending, .init = setup, .fini = teardown)
{
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/events.out", e.dir);
    char *args[] = {"events", "--follow", "--json", NULL};
    pid_t pid = spawn_oj(out, args);

    /* The subscription takes a moment: start sessions until one is seen. */
    struct file_wait started = {out, "\"session.started\""};
    int tries = 0;
    char name[32];
    do {
        snprintf(name, sizeof name, "ev%d", tries);
        start_agent(name);
    } while (!wait_until(file_has, &started, 500) && ++tries < 20);
    cr_assert_lt(tries, 20, "no session.started event arrived");
    struct oj_out k = OJ(&e, "session", "kill", name);
    cr_assert_eq(k.code, 0, "%s", k.err);
    oj_out_free(&k);
    struct file_wait ended = {out, "killed by the operator"};
    cr_expect(wait_until(file_has, &ended, 10000), "no session.ended event");
    char *text = read_file(out);
    cr_expect(text && strstr(text, "\"kind\":\"session.ended\""), "%s", text ? text : "");
    free(text);
    kill(pid, SIGINT);
    cr_expect_eq(wait_exit(pid, 5000), 0, "Ctrl-C leaves with exit 0");
}

Test(follow, a_half_open_connection_to_the_events_socket_does_not_stop_followers,
     .init = setup, .fini = teardown, .timeout = 60)
{
    start_agent("steady");
    /* Connect to the events socket and hang up before the handshake. */
    char sock[PATH_MAX];
    snprintf(sock, sizeof sock, "%s/.oj/events.sock", e.dir);
    char *poke[] = {"/usr/bin/python3", "-c",
                    "import socket,sys\n"
                    "s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.send(b'\\0SP\\0'); s.close()",
                    sock, NULL};
    cr_assert_eq(run_prog("/", 10000, NULL, 0, poke), 0);
    char out[PATH_MAX];
    snprintf(out, sizeof out, "%s/follow.out", e.dir);
    pid_t f = start_follower("steady", out);
    struct file_wait ready = {out, "fake agent ready"};
    cr_assert(wait_until(file_has, &ready, 10000));
    send_line("steady", "are you there");
    struct file_wait got = {out, "got: are you there"};
    cr_expect(wait_until(file_has, &got, 20000), "live output stopped after a half-open connection");
    kill(f, SIGINT);
    cr_expect_eq(wait_exit(f, 5000), 0);
}
