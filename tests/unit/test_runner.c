/* The runner on its own, with no daemon: a run hands its result to the
 * callback it was given, on its own thread (runner.h). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "runner.h"

struct got {
    pthread_mutex_t mu;
    bool done;
    int posts;
    struct oj_run_result res;
    pthread_t thread;
};

static void post(void *arg, const struct oj_run_result *res)
{
    struct got *g = arg;
    pthread_mutex_lock(&g->mu);
    g->res = *res;
    g->posts++;
    g->thread = pthread_self();
    g->done = true;
    pthread_mutex_unlock(&g->mu);
}

static bool posted(void *arg)
{
    struct got *g = arg;
    pthread_mutex_lock(&g->mu);
    bool done = g->done;
    pthread_mutex_unlock(&g->mu);
    return done;
}

Test(runner, a_run_posts_its_status_and_last_line_and_logs_its_output)
{
    char dir[] = "/tmp/oj-runner-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char log[128], pgid[128];
    snprintf(log, sizeof log, "%s/step.log", dir);
    snprintf(pgid, sizeof pgid, "%s/step.pgid", dir);
    char *env[] = {"OJ_TEST_WORD=hello", NULL};
    struct oj_run_spec spec = {.command = "echo \"$OJ_TEST_WORD\"; pwd; echo last; exit 3",
                               .cwd = dir,
                               .log_path = log,
                               .pgid_file = pgid,
                               .env = env,
                               .timeout_ms = 10000};
    struct got g = {.mu = PTHREAD_MUTEX_INITIALIZER};
    cr_assert_eq(oj_run_start(&spec, post, &g), 0);
    cr_assert(wait_until(posted, &g, 10000), "the result was never posted");
    cr_expect_eq(g.posts, 1);
    cr_expect_not(pthread_equal(g.thread, pthread_self()), "posted from the runner's thread");
    cr_expect_eq(g.res.exit_status, 3);
    cr_expect_not(g.res.timed_out);
    cr_expect_str_eq(g.res.tail, "last");

    char *text = read_file(log);
    cr_assert_not_null(text);
    /* The command as given, not with the pgid prefix; then its output, then how it ended. */
    cr_expect(strstr(text, "$ echo \"$OJ_TEST_WORD\"; pwd; echo last; exit 3\n") == text, "%s",
              text);
    cr_expect(strstr(text, "hello\n") != NULL, "the env entries reach the command: %s", text);
    cr_expect(strstr(text, dir) != NULL, "it runs in cwd: %s", text);
    cr_expect(strstr(text, "[exit 3 after ") != NULL, "%s", text);
    free(text);
    char *pid = read_file(pgid);
    cr_expect(pid != NULL && atoi(pid) > 0, "sh writes its process group first");
    free(pid);
    unlink(log);
    unlink(pgid);
    rmdir(dir);
}

Test(runner, a_run_past_its_time_limit_is_killed_and_says_so)
{
    struct oj_run_spec spec = {.command = "sleep 30", .cwd = "/", .timeout_ms = 200};
    struct got g = {.mu = PTHREAD_MUTEX_INITIALIZER};
    cr_assert_eq(oj_run_start(&spec, post, &g), 0);
    cr_assert(wait_until(posted, &g, 10000), "the result was never posted");
    cr_expect(g.res.timed_out);
    cr_expect_neq(g.res.exit_status, 0);
}

Test(runner, a_missing_directory_is_a_result_not_a_crash)
{
    struct oj_run_spec spec = {
        .command = "true", .cwd = "/nonexistent/oj-runner", .timeout_ms = 5000};
    struct got g = {.mu = PTHREAD_MUTEX_INITIALIZER};
    cr_assert_eq(oj_run_start(&spec, post, &g), 0);
    cr_assert(wait_until(posted, &g, 10000), "the result was never posted");
    cr_expect_neq(g.res.exit_status, 0);
    cr_expect(strstr(g.res.tail, "/nonexistent/oj-runner") != NULL, "%s", g.res.tail);
}
