/* Scheduled jobs end to end: jobs from a runbook run on their interval,
 * `oj cron run` starts one at once (a command or a pipeline), disable stops
 * the schedule and survives a restart, and bad names are refused. */
#include <criterion/criterion.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static const char *const JOBS =
    "{\"pipelines\":{\"note\":{\"inputs\":[\"what\"],\"phases\":["
    "{\"name\":\"write\",\"run\":\"echo {what} >> {project}/notes.txt\"}]}},"
    " \"jobs\":{"
    "  \"tick\":{\"every\":\"1s\",\"run\":\"echo tick >> ticks.txt\"},"
    "  \"off\":{\"every\":\"1s\",\"run\":\"echo off >> off.txt\",\"enabled\":false},"
    "  \"hourly\":{\"every\":\"1h\",\"pipeline\":\"note\",\"inputs\":{\"what\":\"from-cron\"}}}}";

static char *file_in(const char *name)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", e.dir, name);
    return path;
}

static int lines_in(const char *name)
{
    char *text = read_file(file_in(name));
    int n = 0;
    for (char *p = text; p && *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

static bool ticked_twice(void *arg)
{
    (void)arg;
    return lines_in("ticks.txt") >= 2;
}

static int settled; /* lines in ticks.txt when the schedule was switched off */

static bool ticked_again(void *arg)
{
    (void)arg;
    return lines_in("ticks.txt") > settled;
}

static bool note_written(void *arg)
{
    (void)arg;
    char *text = read_file(file_in("notes.txt"));
    bool ok = text && strstr(text, "from-cron");
    free(text);
    return ok;
}

Test(cron, jobs_run_on_their_interval_and_can_be_disabled, .init = setup, .fini = teardown)
{
    cr_assert_eq(env_write_runbook(&e, "jobs", JOBS), 0, "%s", strerror(errno));
    cr_assert_eq(env_start_daemon(&e), 0);

    struct oj_out o = OJ(&e, "cron", "list");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "tick") && strstr(o.out, "echo tick >> ticks.txt"), "%s", o.out);
    cr_expect(strstr(o.out, "pipeline note") != NULL, "a pipeline job names it: %s", o.out);
    cr_expect(strstr(o.out, "off ") && strstr(strstr(o.out, "off "), " no "),
              "the runbook's enabled:false shows: %s", o.out);
    oj_out_free(&o);

    /* Runs by itself, every second. */
    cr_assert(wait_until(ticked_twice, NULL, 10000), "the 1s job did not run twice");
    cr_expect_eq(lines_in("off.txt"), 0, "a job disabled in its runbook never runs by itself");

    o = OJ(&e, "cron", "disable", "tick");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "disabled") != NULL, "%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "cron", "list", "--json");
    cr_expect(strstr(o.out, "\"enabled\":\tfalse") != NULL, "%s", o.out);
    oj_out_free(&o);

    /* The operator's choice survives a restart. */
    o = OJ(&e, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    settled = lines_in("ticks.txt");
    cr_assert_eq(env_start_daemon(&e), 0);
    o = OJ(&e, "cron", "list");
    char *row = strstr(o.out, "tick ");
    cr_expect(row && strstr(row, " no "), "still disabled after a restart: %s", o.out);
    oj_out_free(&o);
    /* Three intervals pass without a run (the wait must run out). */
    cr_expect_not(wait_until(ticked_again, NULL, 3000), "a disabled job ran: %d lines, was %d",
                  lines_in("ticks.txt"), settled);
    o = OJ(&e, "cron", "run", "tick");
    cr_expect_eq(o.code, 0, "a disabled job still runs on demand: %s", o.err);
    oj_out_free(&o);
    cr_expect(wait_until(ticked_again, NULL, 5000), "oj cron run ran it");

    o = OJ(&e, "cron", "enable", "tick");
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    settled = lines_in("ticks.txt");
    cr_expect(wait_until(ticked_again, NULL, 10000), "enabled again, it runs by itself");
}

Test(cron, run_starts_a_pipeline_job_at_once, .init = setup, .fini = teardown)
{
    cr_assert_eq(env_write_runbook(&e, "jobs", JOBS), 0, "%s", strerror(errno));
    cr_assert_eq(env_start_daemon(&e), 0);
    struct oj_out o = OJ(&e, "cron", "run", "hourly");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "started pipeline p") != NULL, "%s", o.out);
    oj_out_free(&o);
    cr_expect(wait_until(note_written, NULL, 10000),
              "the job's pipeline ran its step with the job's inputs");
    o = OJ(&e, "pipeline", "list");
    cr_expect(strstr(o.out, "note") != NULL, "%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "cron", "list", "--json");
    cr_expect(strstr(o.out, "last_run_ms") != NULL, "%s", o.out);
    oj_out_free(&o);
}

Test(cron, unknown_jobs_are_named, .init = setup, .fini = teardown)
{
    cr_assert_eq(env_write_runbook(&e, "jobs", JOBS), 0, "%s", strerror(errno));
    cr_assert_eq(env_start_daemon(&e), 0);
    const char *verbs[] = {"run", "enable", "disable"};
    for (int i = 0; i < 3; i++) {
        struct oj_out o = OJ(&e, "cron", verbs[i], "nightly");
        cr_expect_eq(o.code, 4, "cron %s: exit %d", verbs[i], o.code);
        cr_expect(strstr(o.err, "no scheduled job 'nightly'") && strstr(o.err, "oj cron list"),
                  "%s", o.err);
        oj_out_free(&o);
    }
}

static bool skipped(void *arg)
{
    (void)arg;
    struct oj_out o = OJ(&e, "cron", "list");
    bool yes = o.code == 0 && strstr(o.out, "last: skipped: pipeline p") != NULL;
    oj_out_free(&o);
    return yes;
}

/* A pipeline job does not pile up pipelines behind one that is still active. */
Test(cron, a_pipeline_job_waits_for_its_last_pipeline, .init = setup, .fini = teardown)
{
    cr_assert_eq(env_write_runbook(&e, "jobs",
                                   "{\"pipelines\":{\"quiet\":{\"inputs\":[],\"phases\":["
                                   "{\"name\":\"wait\",\"agent\":{\"command\":\"oj-fake-agent "
                                   "--mute\",\"idle_timeout\":\"1h\"}}]}},"
                                   "\"jobs\":{\"often\":{\"every\":\"1s\",\"pipeline\":\"quiet\"}}}"),
                 0, "%s", strerror(errno));
    cr_assert_eq(env_start_daemon(&e), 0);
    cr_assert(wait_until(skipped, NULL, 15000), "the job never skipped a turn");
    struct oj_out o = OJ(&e, "pipeline", "list", "--json");
    int n = 0;
    for (const char *p = o.out; (p = strstr(p, "\"name\":\t\"quiet\"")) != NULL; p++)
        n++;
    cr_expect_eq(n, 1, "one pipeline, not one per second: %s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "cron", "run", "often");
    cr_expect_eq(o.code, 5, "a manual run is refused too: %s", o.err);
    cr_expect(strstr(o.err, "still active") != NULL, "%s", o.err);
    oj_out_free(&o);
}

/* A job's log is appended per run; a job that prints a lot, every second,
 * keeps a bounded log: past 1 MiB it moves to <name>.log.1 before the next
 * run (issue 15: .oj/logs bounded as a whole). */
static bool job_log_rotated(void *arg)
{
    (void)arg;
    struct stat st;
    return stat(file_in(".oj/logs/cron/loud.log.1"), &st) == 0 && lines_in("loud.txt") >= 4;
}

Test(cron, a_loud_jobs_log_is_bounded, .init = setup, .fini = teardown)
{
    cr_assert_eq(env_write_runbook(&e, "jobs",
                                   "{\"jobs\":{\"loud\":{\"every\":\"1s\",\"run\":"
                                   "\"head -c 700000 /dev/zero; echo ran >> loud.txt\"}}}"),
                 0, "%s", strerror(errno));
    cr_assert_eq(env_start_daemon(&e), 0);
    cr_assert(wait_until(job_log_rotated, NULL, 30000),
              "four runs of 700 KB each and the log never moved aside");
    struct stat a, b;
    cr_assert_eq(stat(file_in(".oj/logs/cron/loud.log.1"), &b), 0);
    if (stat(file_in(".oj/logs/cron/loud.log"), &a) != 0)
        a.st_size = 0;
    cr_expect_leq(b.st_size, 1024 * 1024 + 800000, "the old part: %lld", (long long)b.st_size);
    cr_expect_leq(a.st_size, 1024 * 1024 + 800000, "the current part: %lld", (long long)a.st_size);
}
