/* How sessions end, end to end: the real daemon and its private tmux server.
 * A dead session is journaled once, with its real exit status, and never
 * again; what is left of it in tmux (the dead pane, the pipe-pane `cat`) is
 * removed once its output is in its log, the server exits when nothing lives
 * in it, and archive takes old ended sessions out of the live state. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;

static void setup(void)
{
    env_setup(&e, true);
    cr_assert_eq(env_start_daemon(&e), 0);
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static void path_in(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/.oj/%s", e.dir, rel);
}

static cJSON *show(const char *id)
{
    struct oj_out o = OJ(&e, "session", "show", id, "--json");
    cJSON *j = o.code == 0 ? cJSON_Parse(o.out) : NULL;
    oj_out_free(&o);
    return j;
}

static bool is_dead(void *arg)
{
    cJSON *j = show(arg);
    bool dead = j && strcmp(cJSON_GetObjectItem(j, "state")->valuestring, "dead") == 0;
    cJSON_Delete(j);
    return dead;
}

static void expect_dead(const char *id)
{
    if (!wait_until(is_dead, (void *)id, 20000))
        cr_assert_fail("session %s was never recorded dead", id);
}

/* The id in `oj session start --json` output (static buffer). */
static const char *started_id(struct oj_out *o)
{
    static char id[32];
    cr_assert_eq(o->code, 0, "%s", o->err);
    cJSON *j = cJSON_Parse(o->out);
    cr_assert_not_null(j, "%s", o->out);
    snprintf(id, sizeof id, "%s", cJSON_GetObjectItem(j, "id")->valuestring);
    cJSON_Delete(j);
    oj_out_free(o);
    return id;
}

/* The WAL's size as `oj status --verbose` reports it: it grows with every
 * record the daemon journals. */
static long long wal_bytes(void)
{
    struct oj_out o = OJ(&e, "status", "--verbose", "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "%s", o.out);
    const cJSON *b = cJSON_GetObjectItem(j, "wal_bytes");
    cr_assert_not_null(b, "no wal_bytes in %s", o.out);
    long long n = (long long)b->valuedouble;
    cJSON_Delete(j);
    oj_out_free(&o);
    return n;
}

/* Watches the WAL for `ms` (the whole time: a tick that writes again later
 * is caught too); how many times its size changed. */
static int wal_changes_during(int ms)
{
    long long last = wal_bytes();
    int changes = 0;
    for (int waited = 0; waited < ms; waited += 250) {
        usleep(250 * 1000);
        long long now = wal_bytes();
        changes += now != last;
        last = now;
    }
    return changes;
}

/* Fails when a line of daemon.log (its text after the time stamp) that
 * mentions `id` appears more than once. */
static void expect_no_repeated_log_lines(const char *id)
{
    char path[PATH_MAX];
    path_in(path, sizeof path, "logs/daemon.log");
    char *log = read_file(path);
    cr_assert_not_null(log);
    char *lines[4096];
    int n = 0;
    for (char *save = NULL, *l = strtok_r(log, "\n", &save); l && n < 4096;
         l = strtok_r(NULL, "\n", &save)) {
        if (strstr(l, id) == NULL)
            continue;
        char *text = strchr(l, ' '); /* after the time stamp */
        lines[n++] = text ? text : l;
    }
    const char *twice = NULL;
    for (int i = 0; i < n && !twice; i++)
        for (int k = i + 1; k < n && !twice; k++)
            if (strcmp(lines[i], lines[k]) == 0)
                twice = lines[i];
    cr_expect_null(twice, "logged more than once:%s", twice);
    free(log);
}

/* Issue 9 item 5: a session tmux calls dead without a status (its pane's
 * terminal closed while its process goes on; the status file holds the
 * command's real status, 3). It is recorded dead once with status 3; the
 * ticks after it (another session keeps them observing) write nothing, and it
 * is never recorded again with another status. The old tick re-recorded it
 * as "exited (tmux recorded no status)", status -1, every second from the
 * tenth tick on. */
Test(session_end, a_dead_session_is_journaled_once_with_its_real_status, .init = setup,
     .fini = teardown, .timeout = 120)
{
    char keeper[32], liar[32];
    cr_assert_eq(env_start_agent(&e, "keeper", keeper, sizeof keeper), 0);
    /* exec: the pane's own process; HUP ignored: it outlives its terminal */
    struct oj_out o = OJ(&e, "session", "start", "--json", "--name", "liar", "--", "exec", "sh",
                         "-c",
                         "trap '' HUP; echo 'the command says 3'; "
                         "printf 3 > \"$OJ_PROJECT/.oj/logs/sessions/$OJ_SESSION_ID.status\"; "
                         "exec sleep 25 </dev/null >/dev/null 2>&1");
    snprintf(liar, sizeof liar, "%s", started_id(&o));
    expect_dead(liar);
    cJSON *j = show(liar);
    cr_expect_eq(cJSON_GetObjectItem(j, "exit_status")->valueint, 3);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "reason")->valuestring, "exited with status 3");
    double ended = cJSON_GetObjectItem(j, "ended_at_ms")->valuedouble;
    cJSON_Delete(j);

    /* 14 ticks: the old code re-recorded it from the 10th on. */
    int changes = wal_changes_during(14000);
    cr_expect_eq(changes, 0, "the daemon journaled %d time(s) in ticks that observed nothing new",
                 changes);
    j = show(liar);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, "dead");
    cr_expect_eq(cJSON_GetObjectItem(j, "exit_status")->valueint, 3, "the real status was lost");
    cr_expect_str_eq(cJSON_GetObjectItem(j, "reason")->valuestring, "exited with status 3");
    cr_expect_eq(cJSON_GetObjectItem(j, "ended_at_ms")->valuedouble, ended);
    cJSON_Delete(j);
    expect_no_repeated_log_lines(liar);
    cr_expect_not(is_dead(keeper), "the keeper session still runs");
}

/* ---- what is left in tmux ---------------------------------------------------- */

static void tmux_sock(char *buf, size_t len) { path_in(buf, len, "tmux.sock"); }

/* The private tmux server's pid, 0 when none runs. */
static pid_t tmux_server_pid(void)
{
    char sock[PATH_MAX], out[64] = "";
    tmux_sock(sock, sizeof sock);
    char *argv[] = {"tmux", "-S", sock, "display-message", "-p", "#{pid}", NULL};
    if (run_prog("/", 5000, out, sizeof out, argv) != 0)
        return 0;
    return (pid_t)atoi(out);
}

/* `tmux list-panes -a` on the private server: one "<session> <dead>" line a
 * pane; "" when no server runs. */
static void panes(char *out, size_t len)
{
    char sock[PATH_MAX];
    tmux_sock(sock, sizeof sock);
    char *argv[] = {"tmux", "-S", sock, "list-panes", "-a", "-F",
                    "#{session_name} #{pane_dead}", NULL};
    out[0] = '\0';
    if (run_prog("/", 5000, out, len, argv) != 0)
        out[0] = '\0';
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The pipe-pane `cat`s writing this project's session logs: processes
 * whose stdout is a file in .oj/logs/sessions/. */
static int pipe_cats(void)
{
    char logs[PATH_MAX];
    path_in(logs, sizeof logs, "logs/sessions/");
    DIR *proc = opendir("/proc");
    cr_assert_not_null(proc);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(proc))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        char fd1[300], target[PATH_MAX + 1];
        snprintf(fd1, sizeof fd1, "/proc/%s/fd/1", de->d_name);
        ssize_t k = readlink(fd1, target, sizeof target - 1);
        if (k <= 0)
            continue;
        target[k] = '\0';
        if (strncmp(target, logs, strlen(logs)) == 0 && process_alive(atoi(de->d_name)))
            n++;
    }
    closedir(proc);
    return n;
}

struct left_in_tmux {
    int panes, cats; /* how many may be left */
};

static bool only_left(void *arg)
{
    struct left_in_tmux *w = arg;
    char out[8192];
    panes(out, sizeof out);
    return count_lines(out) == w->panes && pipe_cats() == w->cats;
}

static bool server_gone(void *arg) { return !process_alive(*(pid_t *)arg); }

static void restart_daemon_with(char *env[])
{
    struct oj_out stop = OJ(&e, "daemon", "stop");
    cr_assert_eq(stop.code, 0, "%s", stop.err);
    oj_out_free(&stop);
    struct oj_out st = oj_run_in(&e, NULL, env, "daemon", "start", (char *)NULL);
    cr_assert_eq(st.code, 0, "%s", st.err);
    oj_out_free(&st);
}

struct screen {
    const char *id, *text;
};

static bool screen_shows(void *arg)
{
    const struct screen *w = arg;
    struct oj_out o = OJ(&e, "session", "capture", w->id, "--tail", "5");
    bool has = o.code == 0 && strstr(o.out, w->text) != NULL;
    oj_out_free(&o);
    return has;
}

/* Whether `oj session capture <id> --tail 5` shows text (within 10 s). */
static bool screen_has(const char *id, const char *text)
{
    struct screen w = {id, text};
    if (wait_until(screen_shows, &w, 10000))
        return true;
    struct oj_out o = OJ(&e, "session", "capture", id, "--tail", "5");
    fprintf(stderr, "capture %s (exit %d): %s%s\n", id, o.code, o.out, o.err);
    oj_out_free(&o);
    return false;
}

#define ENDED 20

/* Issue 9 item 12: sessions that exit on their own leave nothing in tmux:
 * no dead pane, no pipe-pane `cat`; their output stays readable from their
 * logs; the server exits once nothing lives in it, and the next session
 * starts a new one; `kill` of a dead session is not an error; archive takes
 * them out of the live state. The old daemon left every dead pane and its
 * `cat` under a server that never exited. */
Test(session_end, sessions_that_exit_leave_nothing_behind_in_tmux, .init = setup,
     .fini = teardown, .timeout = 180)
{
    char *env[] = {"OJ_MAX_SESSIONS=30", NULL};
    restart_daemon_with(env);
    char keeper[32], ids[ENDED][32];
    cr_assert_eq(env_start_agent(&e, "keeper", keeper, sizeof keeper), 0);
    pid_t server = tmux_server_pid();
    cr_assert_gt(server, 0, "no tmux server");
    for (int i = 0; i < ENDED; i++) {
        char name[16], status[8];
        snprintf(name, sizeof name, "e%d", i);
        snprintf(status, sizeof status, "%d", i % 7);
        struct oj_out o = OJ(&e, "session", "start", "--json", "--name", name, "--", "sh", "-c",
                             "echo \"said $0\"; exit $1", name, status);
        snprintf(ids[i], sizeof ids[i], "%s", started_id(&o));
    }
    for (int i = 0; i < ENDED; i++) {
        expect_dead(ids[i]);
        cJSON *j = show(ids[i]);
        cr_expect_eq(cJSON_GetObjectItem(j, "exit_status")->valueint, i % 7, "%s", ids[i]);
        cJSON_Delete(j);
    }

    /* Only the keeper's pane and its `cat` are left. */
    struct left_in_tmux keep_only = {1, 1};
    if (!wait_until(only_left, &keep_only, 15000)) {
        char out[8192];
        panes(out, sizeof out);
        cr_assert_fail("dead panes or their pipes were left: %d cats; panes:\n%s", pipe_cats(),
                       out);
    }
    char out[8192];
    panes(out, sizeof out);
    cr_expect(strstr(out, keeper) != NULL, "the live session's pane went too: %s", out);
    for (int i = 0; i < ENDED; i++) {
        char said[32];
        snprintf(said, sizeof said, "said e%d", i);
        cr_expect(screen_has(ids[i], said), "the output of %s is not readable", ids[i]);
    }

    /* kill of a dead session: exit 0, says so, changes nothing. */
    struct oj_out k = OJ(&e, "session", "kill", ids[3]);
    cr_expect_eq(k.code, 0, "%s", k.err);
    cr_expect(strstr(k.out, "already dead (exited with status 3)") != NULL, "%s", k.out);
    oj_out_free(&k);
    cJSON *j = show(ids[3]);
    cr_expect_eq(cJSON_GetObjectItem(j, "exit_status")->valueint, 3);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "reason")->valuestring, "exited with status 3");
    cJSON_Delete(j);

    /* The last one killed: nothing lives in the server, so it exits. */
    k = OJ(&e, "session", "kill", keeper);
    cr_expect_eq(k.code, 0, "%s", k.err);
    oj_out_free(&k);
    cr_expect(wait_until(server_gone, &server, 10000), "the tmux server outlived its sessions");
    struct left_in_tmux nothing = {0, 0};
    cr_expect(wait_until(only_left, &nothing, 10000), "%d pipe-pane cats left", pipe_cats());
    cr_expect(screen_has(keeper, "fake agent ready"), "a killed session's output");

    /* A new session starts a new server, and the ticks keep it running. */
    char phoenix[32];
    cr_assert_eq(env_start_agent(&e, "phoenix", phoenix, sizeof phoenix), 0);
    struct oj_out s = OJ(&e, "session", "send", phoenix, "hello again");
    cr_expect_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);
    cr_expect(screen_has(phoenix, "got: hello again"));
    cr_expect_not(is_dead(phoenix), "a live session was marked dead");
    k = OJ(&e, "session", "kill", phoenix);
    oj_out_free(&k);

    /* Archive: every ended session leaves the live state for the archive file. */
    struct oj_out a = OJ(&e, "maintenance", "archive", "--older-than", "0s");
    cr_assert_eq(a.code, 0, "%s", a.err);
    char want[64];
    snprintf(want, sizeof want, "archived 0 pipeline(s) and %d session(s) to ", ENDED + 2);
    cr_expect(strstr(a.out, want) != NULL, "%s", a.out);
    char *path = strstr(a.out, " to ");
    cr_assert_not_null(path);
    path += 4;
    path[strcspn(path, "\n")] = '\0';
    char *text = read_file(path);
    cr_assert_not_null(text, "no archive file %s", path);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    const cJSON *sessions = cJSON_GetObjectItem(doc, "sessions");
    cr_expect_eq(cJSON_GetArraySize(sessions), ENDED + 2);
    const cJSON *three = cJSON_GetObjectItem(sessions, ids[3]);
    cr_assert_not_null(three, "%s is not in the archive", ids[3]);
    cr_expect_eq(cJSON_GetObjectItem(three, "exit_status")->valueint, 3);
    cJSON_Delete(doc);
    oj_out_free(&a);

    /* ... journaled: gone for good, also after a crash. */
    cr_assert(env_crash_daemon(&e));
    cr_assert_eq(env_start_daemon(&e), 0);
    struct oj_out l = OJ(&e, "session", "list");
    cr_expect_eq(l.code, 0, "%s", l.err);
    cr_expect(strstr(l.out, "no sessions") != NULL, "%s", l.out);
    oj_out_free(&l);
    struct oj_out sh = OJ(&e, "session", "show", ids[3]);
    cr_expect_eq(sh.code, 4, "an archived session is not found: %s", sh.err);
    oj_out_free(&sh);
    for (int i = 0; i < ENDED; i++)
        expect_no_repeated_log_lines(ids[i]);
    /* No server for a while was no trouble for the tick. */
    char logpath[PATH_MAX];
    path_in(logpath, sizeof logpath, "logs/daemon.log");
    char *log = read_file(logpath);
    cr_expect(log && !strstr(log, "WARN  sessions:") && !strstr(log, "ERROR sessions:"), "%s",
              log ? log : "(no log)");
    free(log);
}

static void tmux_send(const char *id, const char *text)
{
    char sock[PATH_MAX], target[64];
    tmux_sock(sock, sizeof sock);
    snprintf(target, sizeof target, "=%s:", id);
    char *argv[] = {"tmux", "-S", sock, "send-keys", "-t", target, (char *)text, "Enter", NULL};
    cr_assert_eq(run_prog("/", 5000, NULL, 0, argv), 0);
}

static bool pane_dead(void *arg)
{
    char out[8192], want[64];
    panes(out, sizeof out);
    snprintf(want, sizeof want, "%s 1\n", (const char *)arg);
    return strstr(out, want) != NULL;
}

/* A session that ends while the daemon is down: the next start records its
 * real status, then removes its pane, and the server, empty, exits. */
Test(session_end, a_session_that_ended_while_the_daemon_was_down, .init = setup,
     .fini = teardown, .timeout = 60)
{
    struct oj_out o = OJ(&e, "session", "start", "--json", "--name", "waiter", "--", "sh", "-c",
                         "read x; echo \"bye $x\"; exit 4");
    char id[32];
    snprintf(id, sizeof id, "%s", started_id(&o));
    pid_t server = tmux_server_pid();
    cr_assert_gt(server, 0);
    struct oj_out stop = OJ(&e, "daemon", "stop");
    cr_assert_eq(stop.code, 0, "%s", stop.err);
    oj_out_free(&stop);
    tmux_send(id, "now");
    cr_assert(wait_until(pane_dead, id, 10000), "the pane never died");

    cr_assert_eq(env_start_daemon(&e), 0);
    expect_dead(id);
    cJSON *j = show(id);
    cr_expect_eq(cJSON_GetObjectItem(j, "exit_status")->valueint, 4);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "reason")->valuestring, "exited with status 4");
    cJSON_Delete(j);
    cr_expect(wait_until(server_gone, &server, 10000), "its dead pane kept the server");
    struct left_in_tmux nothing = {0, 0};
    cr_expect(wait_until(only_left, &nothing, 10000), "%d pipe-pane cats left", pipe_cats());
    cr_expect(screen_has(id, "bye now"));
    expect_no_repeated_log_lines(id);
}

struct pipeline_session {
    const char *pipeline;
    char id[32];
};

/* A dead session of the pipeline: its id into w->id. */
static bool pipeline_session_dead(void *arg)
{
    struct pipeline_session *w = arg;
    struct oj_out o = OJ(&e, "session", "list", "--json");
    cJSON *j = o.code == 0 ? cJSON_Parse(o.out) : NULL;
    oj_out_free(&o);
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(j, "sessions"))
    {
        if (strcmp(cJSON_GetObjectItem(s, "pipeline_id")->valuestring, w->pipeline) == 0 &&
            strcmp(cJSON_GetObjectItem(s, "state")->valuestring, "dead") == 0)
            snprintf(w->id, sizeof w->id, "%s", cJSON_GetObjectItem(s, "id")->valuestring);
    }
    cJSON_Delete(j);
    return w->id[0] != '\0';
}

static void expect_archived(const char *sessions_and_pipelines)
{
    struct oj_out a = OJ(&e, "maintenance", "archive", "--older-than", "0s");
    cr_expect_eq(a.code, 0, "%s", a.err);
    cr_expect(strstr(a.out, sessions_and_pipelines) != NULL, "%s", a.out);
    oj_out_free(&a);
}

/* Archive takes an ended session only when no pipeline that stays live
 * names it: here the agent of a pipeline's first phase, ended after its
 * `oj done` while the pipeline goes on (its record names the session whose
 * `oj done` it took). Once the pipeline is finished and archived too, so is
 * the session. */
Test(session_end, archive_keeps_the_sessions_a_live_pipeline_names, .init = setup,
     .fini = teardown, .timeout = 90)
{
    const char *rb = "{\"pipelines\": {\"two\": {\"inputs\": [], \"phases\": ["
                     "{\"name\": \"talk\", \"agent\": {\"command\": \"oj-fake-agent --work\", "
                     "\"prompt\": \"say something\"}},"
                     "{\"name\": \"wait\", \"run\": \"sleep 60\"}]}}}";
    cr_assert_eq(env_write_runbook(&e, "two", rb), 0);
    struct oj_out r = OJ(&e, "run", "two");
    cr_assert_eq(r.code, 0, "%s", r.err);
    char pipeline[16];
    snprintf(pipeline, sizeof pipeline, "%.7s", r.out);
    oj_out_free(&r);
    struct pipeline_session agent = {.pipeline = pipeline};
    cr_assert(wait_until(pipeline_session_dead, &agent, 40000), "the agent never ended");
    struct oj_out o = OJ(&e, "session", "start", "--json", "--name", "loner", "--", "true");
    char loner[32];
    snprintf(loner, sizeof loner, "%s", started_id(&o));
    expect_dead(loner);

    expect_archived("archived 0 pipeline(s) and 1 session(s) to ");
    cJSON *kept = show(agent.id), *gone = show(loner);
    cr_expect_not_null(kept, "the session a live pipeline names was archived");
    cJSON_Delete(kept);
    cr_expect_null(gone, "the loner was not archived");
    cJSON_Delete(gone);

    struct oj_out c = OJ(&e, "pipeline", "cancel", pipeline);
    cr_assert_eq(c.code, 0, "%s", c.err);
    oj_out_free(&c);
    expect_archived("archived 1 pipeline(s) and 1 session(s) to ");
    struct oj_out l = OJ(&e, "session", "list");
    cr_expect(strstr(l.out, "no sessions") != NULL, "%s", l.out);
    oj_out_free(&l);
}

/* Whether the daemon's tmux holds session id's pane, and whether it is dead. */
static bool pane_of(const char *id, bool *dead)
{
    char sock[PATH_MAX], target[64], out[64] = "";
    path_in(sock, sizeof sock, "tmux.sock");
    snprintf(target, sizeof target, "=%s:", id);
    char *argv[] = {"tmux", "-S", sock, "display-message", "-p", "-t", target, "#{pane_dead}",
                    NULL};
    if (run_prog(e.dir, 10000, out, sizeof out, argv) != 0)
        return false;
    *dead = out[0] == '1';
    return true;
}

/* Issue 11 item 10: a session that ended a moment ago, whose dead pane is
 * still in tmux (until the daemon has its output in the log), shows its
 * output from its log. The old capture showed the dead pane's screen: tmux's
 * "Pane is dead (status 0, ...)" line, which scrolled the one line of output
 * off it. Captures are taken until the pane is gone; those taken while it
 * was there and dead are checked. */
Test(session_end, a_session_that_just_ended_shows_its_output_not_pane_is_dead, .init = setup,
     .fini = teardown, .timeout = 60)
{
    struct oj_out o = OJ(&e, "session", "start", "--json", "--", "echo", "the-only-line");
    char id[32];
    snprintf(id, sizeof id, "%s", started_id(&o));
    int checked = 0;
    bool dead = false;
    for (int i = 0; i < 2000 && pane_of(id, &dead); i++) {
        if (!dead)
            continue;
        struct oj_out c = OJ(&e, "session", "capture", id, "--tail", "5");
        cr_assert_eq(c.code, 0, "%s", c.err);
        cr_assert(strstr(c.out, "Pane is dead") == NULL, "capture %d shows tmux's dead pane:\n%s",
                  checked, c.out);
        cr_assert(strstr(c.out, "the-only-line\n") != NULL, "capture %d lacks the output:\n%s",
                  checked, c.out);
        oj_out_free(&c);
        checked++;
    }
    cr_expect_gt(checked, 0, "the dead pane was never seen in tmux");
    expect_dead(id);
    struct oj_out c = OJ(&e, "session", "capture", id, "--tail", "5");
    cr_expect_str_eq(c.out, "the-only-line\n");
    oj_out_free(&c);
}
