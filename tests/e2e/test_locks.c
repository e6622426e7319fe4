/* Locks through the real CLI and daemon: holders, staleness, force release,
 * and durability across restarts. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;

static void setup(void)
{
    env_setup(&e, true);
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_assert_eq(a.code, 0, "%s", a.err);
    oj_out_free(&a);
}
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static cJSON *json_of(struct oj_out *o)
{
    cJSON *j = cJSON_Parse(o->out);
    cr_assert_not_null(j, "not JSON (exit %d): %s %s", o->code, o->out, o->err);
    return j;
}

Test(locks, acquire_status_release_by_holder_only, .init = setup, .fini = teardown)
{
    struct oj_out a = OJ(&e, "lock", "acquire", "merge-lock", "--holder", "alice");
    cr_assert_eq(a.code, 0, "%s", a.err);
    cr_expect(strstr(a.out, "acquired merge-lock as alice") != NULL, "%s", a.out);

    struct oj_out busy = OJ(&e, "lock", "acquire", "merge-lock", "--holder", "bob");
    cr_expect_eq(busy.code, 5);
    cr_expect(strstr(busy.err, "held by alice") != NULL, "%s", busy.err);

    struct oj_out st = OJ(&e, "lock", "status", "merge-lock", "--json");
    cr_assert_eq(st.code, 0, "%s", st.err);
    cJSON *j = json_of(&st);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "held")));
    cr_expect_str_eq(cJSON_GetObjectItem(j, "holder")->valuestring, "alice");
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(j, "stale")));
    cr_expect_gt(cJSON_GetObjectItem(j, "since_ms")->valuedouble, 0);
    cr_expect_gt(cJSON_GetObjectItem(j, "heartbeat_ms")->valuedouble, 0);
    cJSON_Delete(j);

    struct oj_out wrong = OJ(&e, "lock", "release", "merge-lock", "--holder", "bob");
    cr_expect_eq(wrong.code, 5, "a non-holder may not release");
    cr_expect(strstr(wrong.err, "held by alice") && strstr(wrong.err, "--force"), "%s", wrong.err);

    struct oj_out ok = OJ(&e, "lock", "release", "merge-lock", "--holder", "alice");
    cr_expect_eq(ok.code, 0, "%s", ok.err);
    struct oj_out free_ = OJ(&e, "lock", "status", "merge-lock");
    cr_expect_eq(free_.code, 0);
    cr_expect(strstr(free_.out, "merge-lock: free") != NULL, "%s", free_.out);
    struct oj_out again = OJ(&e, "lock", "release", "merge-lock", "--holder", "alice");
    cr_expect_eq(again.code, 4, "releasing a free lock: not found");

    struct oj_out bad = OJ(&e, "lock", "acquire", "merge lock!");
    cr_expect_eq(bad.code, 2, "a bad name is a usage error: %s", bad.err);
    oj_out_free(&a);
    oj_out_free(&busy);
    oj_out_free(&st);
    oj_out_free(&wrong);
    oj_out_free(&ok);
    oj_out_free(&free_);
    oj_out_free(&again);
    oj_out_free(&bad);
}

Test(locks, force_release_from_the_runbook, .init = setup, .fini = teardown)
{
    struct oj_out a = OJ(&e, "lock", "acquire", "merge-lock", "--holder", "pipeline-7");
    cr_assert_eq(a.code, 0, "%s", a.err);
    struct oj_out f = OJ(&e, "lock", "release", "merge-lock", "--force");
    cr_expect_eq(f.code, 0, "%s", f.err);
    cr_expect(strstr(f.out, "force-released merge-lock (held by pipeline-7)") != NULL, "%s", f.out);
    struct oj_out l = OJ(&e, "lock", "list");
    cr_expect(strstr(l.out, "no locks held") != NULL, "%s", l.out);
    oj_out_free(&a);
    oj_out_free(&f);
    oj_out_free(&l);
}

/* `--force` means "free afterwards": a lock that already is free is not an
 * error (a cleanup script runs it to be sure), while a plain release of it
 * still says there was nothing to release. */
Test(locks, force_release_of_a_free_lock_exits_0, .init = setup, .fini = teardown)
{
    struct oj_out f = OJ(&e, "lock", "release", "merge-lock", "--force");
    cr_expect_eq(f.code, 0, "%s", f.err);
    cr_expect(strstr(f.out, "merge-lock was already free") != NULL, "%s|%s", f.out, f.err);
    struct oj_out plain = OJ(&e, "lock", "release", "merge-lock");
    cr_expect_eq(plain.code, 4, "without --force a free lock is still not found: %s", plain.err);
    struct oj_out bad = OJ(&e, "lock", "release", "merge lock!", "--force");
    cr_expect_eq(bad.code, 2, "a bad name stays a usage error: %s", bad.err);
    oj_out_free(&f);
    oj_out_free(&plain);
    oj_out_free(&bad);
}

static bool is_stale(void *arg)
{
    (void)arg;
    struct oj_out o = OJ(&e, "lock", "list", "--stale", "--json");
    cJSON *j = cJSON_Parse(o.out);
    bool stale = j && cJSON_GetArraySize(cJSON_GetObjectItem(j, "locks")) == 1;
    cJSON_Delete(j);
    oj_out_free(&o);
    return stale;
}

Test(locks, a_lock_whose_holder_died_is_stale_and_can_be_taken_over, .init = setup,
     .fini = teardown)
{
    /* A script takes the lock and exits: the lock follows the script's life. */
    char cmd[PATH_MAX * 2 + 64];
    snprintf(cmd, sizeof cmd, "%s -C %s lock acquire deploy-lock", e.oj, e.dir);
    char *sh[] = {"sh", "-c", cmd, NULL};
    cr_assert_eq(run_prog(e.dir, 10000, NULL, 0, sh), 0);
    cr_expect(wait_until(is_stale, NULL, 10000), "the lock of a dead script must show as stale");
    struct oj_out st = OJ(&e, "lock", "status", "deploy-lock");
    cr_expect(strstr(st.out, "STALE") != NULL, "%s", st.out);
    struct oj_out take = OJ(&e, "lock", "acquire", "deploy-lock", "--holder", "new");
    cr_expect_eq(take.code, 0, "%s", take.err);
    cr_expect(strstr(take.out, "took over") != NULL, "%s", take.out);
    oj_out_free(&st);
    oj_out_free(&take);
}

Test(locks, a_heartbeat_timeout_makes_a_lock_stale, .init = setup, .fini = teardown)
{
    struct oj_out a =
        OJ(&e, "lock", "acquire", "merge-lock", "--holder", "slow", "--timeout", "300ms");
    cr_assert_eq(a.code, 0, "%s", a.err);
    cr_expect(wait_until(is_stale, NULL, 10000));
    /* The holder renewing in time keeps it fresh again. */
    struct oj_out r =
        OJ(&e, "lock", "acquire", "merge-lock", "--holder", "slow", "--timeout", "300ms");
    cr_expect_eq(r.code, 0);
    cr_expect(strstr(r.out, "renewed") != NULL, "%s", r.out);
    oj_out_free(&a);
    oj_out_free(&r);
}

static bool daemon_gone(void *arg)
{
    (void)arg;
    return env_daemon_pid(&e) == 0;
}

Test(locks, locks_survive_restarts_and_crashes, .init = setup, .fini = teardown)
{
    struct oj_out a = OJ(&e, "lock", "acquire", "merge-lock", "--holder", "alice");
    cr_assert_eq(a.code, 0, "%s", a.err);
    struct oj_out s = OJ(&e, "daemon", "stop");
    cr_assert_eq(s.code, 0);
    struct oj_out b = OJ(&e, "daemon", "start");
    cr_assert_eq(b.code, 0);
    struct oj_out st = OJ(&e, "lock", "status", "merge-lock");
    cr_expect(strstr(st.out, "holder:     alice") != NULL, "after a stop: %s", st.out);

    struct oj_out c = OJ(&e, "lock", "acquire", "other", "--holder", "bob");
    cr_assert_eq(c.code, 0);
    kill(env_daemon_pid(&e), SIGKILL);
    cr_assert(wait_until(daemon_gone, NULL, 10000), "the killed daemon never let go of its lock");
    struct oj_out d = OJ(&e, "daemon", "start");
    cr_assert_eq(d.code, 0, "%s", d.err);
    struct oj_out l = OJ(&e, "lock", "list");
    cr_expect(strstr(l.out, "merge-lock") && strstr(l.out, "other"), "after a crash: %s", l.out);
    oj_out_free(&a);
    oj_out_free(&s);
    oj_out_free(&b);
    oj_out_free(&st);
    oj_out_free(&c);
    oj_out_free(&d);
    oj_out_free(&l);
}
