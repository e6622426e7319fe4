/* How sessions end, end to end: the real daemon and its private tmux server.
 * A dead session is journaled once, with its real exit status, and never
 * again. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <limits.h>
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
