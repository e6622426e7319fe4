/* The project notifier on its own (notifier.h): a command per event of the
 * chosen kinds, the event on stdin and in OJ_EVENT_*; handing an event over
 * never waits for a command; a full queue drops (and counts); failures and
 * time-outs are counted (and logged). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "clock.h"
#include "notifier.h"

static struct oj_env e;
static void setup(void) { env_setup(&e, false); }
static void teardown(void) { env_teardown(&e); }

static struct oj_notifier *notifier(const char *command, const char *const *kinds, size_t n,
                                    int64_t timeout_ms, size_t queue_max)
{
    struct oj_notifier_opts o = {.command = command, .kinds = kinds, .n_kinds = n,
                                 .timeout_ms = timeout_ms, .cwd = e.dir, .tmp_dir = e.dir,
                                 .queue_max = queue_max};
    struct oj_notifier *nt = oj_notifier_new(&o);
    cr_assert_not_null(nt);
    return nt;
}

static void event(struct oj_notifier *nt, uint64_t seq, const char *kind, const char *message)
{
    struct oj_notifier_event ev = {seq, 1700000000123, kind, "p1a2b3c", "s4d5e6f", "implement",
                                   message};
    oj_notifier_event(nt, &ev);
}

struct file_wait {
    char path[PATH_MAX];
};

static bool exists(void *arg)
{
    struct file_wait *w = arg;
    return access(w->path, F_OK) == 0;
}

static char *wait_file(const char *name)
{
    struct file_wait w;
    snprintf(w.path, sizeof w.path, "%s/%s", e.dir, name);
    cr_assert(wait_until(exists, &w, 10000), "%s never appeared", name);
    /* written by a shell: wait for the command's end (its counted run) too */
    return read_file(w.path);
}

struct count_wait {
    struct oj_notifier *nt;
    uint64_t run;
};

static bool ran(void *arg)
{
    struct count_wait *w = arg;
    return oj_notifier_counts(w->nt).run >= w->run;
}

static void wait_runs(struct oj_notifier *nt, uint64_t n)
{
    struct count_wait w = {nt, n};
    cr_assert(wait_until(ran, &w, 15000), "fewer than %llu runs", (unsigned long long)n);
}

Test(notifier, the_event_on_stdin_and_in_the_environment, .init = setup, .fini = teardown)
{
    const char *kinds[] = {"pipeline.escalated", "session."};
    struct oj_notifier *nt = notifier("cat > ev-$OJ_EVENT_SEQ.json; env | grep '^OJ_EVENT_' | "
                                      "sort > env-$OJ_EVENT_SEQ.txt; pwd > pwd-$OJ_EVENT_SEQ",
                                      kinds, 2, 5000, 0);
    event(nt, 7, "pipeline.done", "done");           /* not chosen */
    event(nt, 8, "pipeline.escalated", "it's \"stuck\"; $HOME `x`");
    event(nt, 9, "session.needs_input", "Do you want to proceed?");
    wait_runs(nt, 2);
    char *json = wait_file("ev-8.json");
    cr_expect(strstr(json, "\"kind\":\"pipeline.escalated\"") != NULL, "%s", json);
    cr_expect(strstr(json, "\"seq\":\"8\"") != NULL, "%s", json);
    cr_expect(strstr(json, "\"pipeline_id\":\"p1a2b3c\"") != NULL, "%s", json);
    cr_expect(strstr(json, "\"message\":\"it's \\\"stuck\\\"; $HOME `x`\"") != NULL, "%s", json);
    free(json);
    char *env = wait_file("env-8.txt");
    cr_expect(strstr(env, "OJ_EVENT_KIND=pipeline.escalated\n") != NULL, "%s", env);
    cr_expect(strstr(env, "OJ_EVENT_MESSAGE=it's \"stuck\"; $HOME `x`\n") != NULL, "%s", env);
    cr_expect(strstr(env, "OJ_EVENT_PIPELINE=p1a2b3c\n") != NULL, "%s", env);
    cr_expect(strstr(env, "OJ_EVENT_SESSION=s4d5e6f\n") != NULL, "%s", env);
    cr_expect(strstr(env, "OJ_EVENT_PHASE=implement\n") != NULL, "%s", env);
    cr_expect(strstr(env, "OJ_EVENT_SEQ=8\n") != NULL, "%s", env);
    cr_expect(strstr(env, "OJ_EVENT_TIME_MS=1700000000123\n") != NULL, "%s", env);
    free(env);
    char *pwd = wait_file("pwd-8");
    cr_expect(strstr(pwd, e.dir) != NULL, "runs in the project: %s", pwd);
    free(pwd);
    free(wait_file("ev-9.json"));
    char p7[PATH_MAX];
    snprintf(p7, sizeof p7, "%s/ev-7.json", e.dir);
    cr_expect_neq(access(p7, F_OK), 0, "a kind not chosen is not notified");
    struct oj_notifier_counts c = oj_notifier_counts(nt);
    cr_expect_eq(c.run, 2);
    cr_expect_eq(c.failed, 0);
    oj_notifier_free(nt, 5000);
    /* the event files are gone after their runs */
    char out[4096] = "";
    char *ls[] = {"sh", "-c", "ls notify-* 2>/dev/null | wc -l", NULL};
    run_prog(e.dir, 5000, out, sizeof out, ls);
    cr_expect_eq(atoi(out), 0, "event files left behind: %s", out);
}

Test(notifier, handing_over_never_waits_and_a_full_queue_drops, .init = setup, .fini = teardown)
{
    const char *kinds[] = {"pipeline."};
    struct oj_notifier *nt = notifier("touch started-$OJ_EVENT_SEQ; sleep 1", kinds, 1, 5000, 2);
    event(nt, 1, "pipeline.failed", "x");
    free(wait_file("started-1"));
    /* One runs; two fit in the queue; three are dropped. */
    int64_t t0 = oj_mono_ms();
    for (uint64_t seq = 2; seq <= 6; seq++)
        event(nt, seq, "pipeline.failed", "x");
    cr_expect_lt(oj_mono_ms() - t0, 200, "handing over waited for the command");
    cr_expect_eq(oj_notifier_counts(nt).dropped, 3);
    wait_runs(nt, 3);
    free(wait_file("started-3"));
    char p4[PATH_MAX];
    snprintf(p4, sizeof p4, "%s/started-4", e.dir);
    cr_expect_neq(access(p4, F_OK), 0, "a dropped event ran");
    /* Room again: a new event runs. */
    event(nt, 7, "pipeline.failed", "x");
    free(wait_file("started-7"));
    oj_notifier_free(nt, 5000);
}

Test(notifier, failures_and_time_outs_are_counted, .init = setup, .fini = teardown)
{
    const char *kinds[] = {"cron.failed"};
    struct oj_notifier *nt = notifier("if [ $OJ_EVENT_SEQ = 1 ]; then echo no webhook; exit 3; "
                                      "fi; sleep 30", kinds, 1, 300, 0);
    int64_t t0 = oj_mono_ms();
    event(nt, 1, "cron.failed", "x");
    event(nt, 2, "cron.failed", "x");
    wait_runs(nt, 2);
    cr_expect_lt(oj_mono_ms() - t0, 10000, "the time limit ended the second");
    cr_expect_eq(oj_notifier_counts(nt).failed, 2);
    oj_notifier_free(nt, 5000);
}

Test(notifier, the_stop_waits_for_the_run_only_so_long, .init = setup, .fini = teardown)
{
    const char *kinds[] = {"pipeline.done"};
    struct oj_notifier *nt = notifier("touch started; sleep 3", kinds, 1, 4000, 0);
    event(nt, 1, "pipeline.done", "x");
    free(wait_file("started"));
    int64_t t0 = oj_mono_ms();
    oj_notifier_free(nt, 200); /* the run goes on to its time limit; n is freed then */
    cr_expect_lt(oj_mono_ms() - t0, 2000);
}
