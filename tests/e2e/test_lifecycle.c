/* Daemon lifecycle, end to end: the real bin/oj starting, stopping and
 * recovering the real daemon in a scratch git repo. */
#include <criterion/criterion.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static pid_t pid_in(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);
    return p ? (pid_t)atoi(p + strlen(prefix)) : 0;
}

static bool daemon_gone(void *arg)
{
    (void)arg;
    return env_daemon_pid(&e) == 0;
}

Test(lifecycle, start_twice_reports_the_running_daemon, .init = setup, .fini = teardown)
{
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_assert_eq(a.code, 0, "start failed: %s", a.err);
    pid_t pid = pid_in(a.out, "(pid ");
    cr_assert_gt(pid, 0, "no pid in: %s", a.out);
    cr_expect_eq(env_daemon_pid(&e), pid, "the lock holder is the pid printed");

    struct oj_out b = OJ(&e, "daemon", "start");
    cr_expect_eq(b.code, 0);
    cr_expect(strstr(b.out, "already running") != NULL, "%s", b.out);
    cr_expect_eq(pid_in(b.out, "(pid "), pid);
    cr_expect_eq(env_daemon_pid(&e), pid, "the second start changed nothing");

    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.oj/daemon.pid", e.dir);
    char *text = read_file(path);
    cr_expect_eq(atoi(text), pid, "pid file holds the pid");
    free(text);
    oj_out_free(&a);
    oj_out_free(&b);
}

Test(lifecycle, state_dir_is_private_at_git_top_and_invisible_to_git, .init = setup,
     .fini = teardown)
{
    char sub[PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/src/deep", e.dir);
    char *mk[] = {"mkdir", "-p", sub, NULL};
    cr_assert_eq(run_prog("/", 5000, NULL, 0, mk), 0);
    struct oj_out a = oj_run_in(&e, sub, NULL, "daemon", "start", (char *)NULL);
    cr_assert_eq(a.code, 0, "%s", a.err);
    char path[PATH_MAX + 32];
    struct stat st;
    snprintf(path, sizeof path, "%s/.oj", e.dir);
    cr_assert_eq(stat(path, &st), 0, ".oj/ must be at the git top level");
    cr_expect_eq(st.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/.oj/daemon.sock", e.dir);
    cr_assert_eq(stat(path, &st), 0);
    cr_expect(S_ISSOCK(st.st_mode));
    cr_expect_eq(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/src/deep/.oj", e.dir);
    cr_expect_neq(stat(path, &st), 0, "no .oj/ in the subdirectory");

    char out[4096];
    char *gs[] = {"git", "status", "--porcelain", "--untracked-files=all", NULL};
    cr_assert_eq(run_prog(e.dir, 10000, out, sizeof out, gs), 0);
    cr_expect(strstr(out, ".oj") == NULL, "git status shows .oj: %s", out);

    /* Commands in the subdirectory find the project by walking up. */
    struct oj_out s = oj_run_in(&e, sub, NULL, "status", (char *)NULL);
    cr_expect_eq(s.code, 0, "%s", s.err);
    oj_out_free(&a);
    oj_out_free(&s);
}

Test(lifecycle, dash_C_works_like_git, .init = setup, .fini = teardown)
{
    struct oj_out a = oj_run_in(&e, "/", NULL, "-C", e.dir, "daemon", "start", (char *)NULL);
    cr_assert_eq(a.code, 0, "%s", a.err);
    struct oj_out s = oj_run_in(&e, "/", NULL, "-C", e.dir, "status", (char *)NULL);
    cr_expect_eq(s.code, 0, "%s", s.err);
    cr_expect(strstr(s.out, "daemon running") != NULL, "%s", s.out);
    struct oj_out bad = oj_run_in(&e, "/", NULL, "-C", "/nonexistent", "status", (char *)NULL);
    cr_expect_eq(bad.code, 2);
    cr_expect(strstr(bad.err, "/nonexistent") != NULL, "%s", bad.err);
    oj_out_free(&a);
    oj_out_free(&s);
    oj_out_free(&bad);
}

Test(lifecycle, graceful_stop, .init = setup, .fini = teardown)
{
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_assert_eq(a.code, 0, "%s", a.err);
    pid_t pid = env_daemon_pid(&e);
    struct oj_out s = OJ(&e, "daemon", "stop");
    cr_expect_eq(s.code, 0, "%s", s.err);
    cr_expect(strstr(s.out, "daemon stopped") != NULL, "%s", s.out);
    cr_expect_eq(pid_in(s.out, "(pid "), pid);
    cr_expect_eq(env_daemon_pid(&e), 0, "stop returns only once the daemon is gone");
    cr_expect_not(process_alive(pid), "the process is gone");
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.oj/daemon.sock", e.dir);
    cr_expect_neq(access(path, F_OK), 0, "a graceful stop removes the socket");
    snprintf(path, sizeof path, "%s/.oj/logs/daemon.log", e.dir);
    char *log = read_file(path);
    cr_assert_not_null(log);
    cr_expect(strstr(log, "stop requested") && strstr(log, "stopped (pid"), "%s", log);
    free(log);

    struct oj_out again = OJ(&e, "daemon", "stop");
    cr_expect_eq(again.code, 0, "stopping a stopped daemon is not an error");
    cr_expect(strstr(again.out, "not running") != NULL, "%s", again.out);
    oj_out_free(&a);
    oj_out_free(&s);
    oj_out_free(&again);
}

Test(lifecycle, sigterm_is_a_graceful_stop, .init = setup, .fini = teardown)
{
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_assert_eq(a.code, 0, "%s", a.err);
    kill(env_daemon_pid(&e), SIGTERM);
    cr_expect(wait_until(daemon_gone, NULL, 10000));
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.oj/logs/daemon.log", e.dir);
    char *log = read_file(path);
    cr_expect(strstr(log, "SIGTERM received") != NULL, "%s", log);
    free(log);
    oj_out_free(&a);
}

Test(lifecycle, force_stop_and_stale_files_never_block_a_start, .init = setup, .fini = teardown)
{
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_assert_eq(a.code, 0, "%s", a.err);
    pid_t pid = env_daemon_pid(&e);
    struct oj_out f = OJ(&e, "daemon", "stop", "--force");
    cr_expect_eq(f.code, 0, "%s", f.err);
    cr_expect(strstr(f.out, "killed") != NULL, "%s", f.out);
    cr_expect_eq(env_daemon_pid(&e), 0);

    struct oj_out st = OJ(&e, "status");
    cr_expect_eq(st.code, 3, "status after a forced stop: %s", st.err);

    /* Now a real crash: kill -9 leaves pid and socket files behind. */
    struct oj_out b = OJ(&e, "daemon", "start");
    cr_assert_eq(b.code, 0, "%s", b.err);
    pid_t pid2 = env_daemon_pid(&e);
    cr_expect_neq(pid2, pid);
    kill(pid2, SIGKILL);
    cr_assert(wait_until(daemon_gone, NULL, 5000));
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.oj/daemon.sock", e.dir);
    cr_expect_eq(access(path, F_OK), 0, "the crash left the socket file");
    snprintf(path, sizeof path, "%s/.oj/daemon.pid", e.dir);
    cr_expect_eq(access(path, F_OK), 0, "the crash left the pid file");

    struct oj_out down = OJ(&e, "status");
    cr_expect_eq(down.code, 3, "stale files do not look like a running daemon: %s", down.err);
    cr_expect(strstr(down.err, "not running") != NULL, "%s", down.err);

    struct oj_out c = OJ(&e, "daemon", "start");
    cr_expect_eq(c.code, 0, "stale files must not block a start: %s", c.err);
    struct oj_out up = OJ(&e, "status");
    cr_expect_eq(up.code, 0, "%s", up.err);
    oj_out_free(&a);
    oj_out_free(&f);
    oj_out_free(&st);
    oj_out_free(&b);
    oj_out_free(&down);
    oj_out_free(&c);
    oj_out_free(&up);
}

Test(lifecycle, foreground_stays_attached_and_stops_on_sigint, .init = setup, .fini = teardown)
{
    char *argv[] = {e.oj, "-C", e.dir, "daemon", "start", "--foreground", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
    pid_t pid;
    extern char **environ;
    cr_assert_eq(posix_spawn(&pid, e.oj, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);

    bool up = false;
    for (int i = 0; i < 400 && !up; i++) { /* poll: the daemon answers within seconds */
        struct oj_out s = OJ(&e, "status");
        up = s.code == 0;
        oj_out_free(&s);
    }
    cr_assert(up, "foreground daemon never answered");
    cr_expect_eq(env_daemon_pid(&e), pid, "the foreground process is the daemon");
    kill(pid, SIGINT);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

Test(lifecycle, failed_start_says_why, .init = setup, .fini = teardown)
{
    /* A file where the log directory belongs: the daemon cannot start. */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.oj", e.dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/.oj/logs", e.dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_expect_eq(a.code, 1);
    cr_expect(strstr(a.err, "failed to start") && strstr(a.err, "logs"), "%s", a.err);
    cr_expect_eq(env_daemon_pid(&e), 0);
    oj_out_free(&a);
}

Test(lifecycle, log_level_and_session_limit_from_the_environment, .init = setup,
     .fini = teardown)
{
    char *env_ok[] = {"OJ_LOG_LEVEL=debug", "OJ_MAX_SESSIONS=3", NULL};
    struct oj_out a = oj_run_in(&e, NULL, env_ok, "daemon", "start", (char *)NULL);
    cr_assert_eq(a.code, 0, "%s", a.err);
    struct oj_out s = OJ(&e, "status");
    cr_expect(strstr(s.out, "0 active / 3 max") != NULL, "%s", s.out);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/.oj/logs/daemon.log", e.dir);
    char *log = read_file(path);
    cr_expect(strstr(log, " DEBUG ") != NULL, "debug entries expected: %s", log);
    free(log);
    oj_out_free(&a);
    oj_out_free(&s);
}

Test(lifecycle, bad_settings_are_usage_errors, .init = setup, .fini = teardown)
{
    char *bad_level[] = {"OJ_LOG_LEVEL=loud", NULL};
    struct oj_out a = oj_run_in(&e, NULL, bad_level, "daemon", "start", (char *)NULL);
    cr_expect_eq(a.code, 2);
    cr_expect(strstr(a.err, "OJ_LOG_LEVEL") && strstr(a.err, "loud"), "%s", a.err);
    char *bad_max[] = {"OJ_MAX_SESSIONS=lots", NULL};
    struct oj_out b = oj_run_in(&e, NULL, bad_max, "daemon", "start", (char *)NULL);
    cr_expect_eq(b.code, 2);
    cr_expect(strstr(b.err, "OJ_MAX_SESSIONS") != NULL, "%s", b.err);
    cr_expect_eq(env_daemon_pid(&e), 0, "nothing started");
    oj_out_free(&a);
    oj_out_free(&b);
}

Test(lifecycle, long_project_paths_use_the_fallback_socket, .init = setup, .fini = teardown)
{
    char deep[PATH_MAX + 128];
    snprintf(deep, sizeof deep, "%s/%s/%s", e.dir,
             "a-directory-name-long-enough-to-push-the-socket-path",
             "past-the-unix-socket-limit-of-108-bytes");
    char *mk[] = {"mkdir", "-p", deep, NULL};
    cr_assert_eq(run_prog("/", 5000, NULL, 0, mk), 0);
    char rt[PATH_MAX + 8], xdg[PATH_MAX + 32];
    snprintf(rt, sizeof rt, "%s/rt", e.dir);
    mkdir(rt, 0700);
    snprintf(xdg, sizeof xdg, "XDG_RUNTIME_DIR=%s", rt);
    char *env[] = {xdg, NULL};
    /* Inside a git repo a start would put .oj/ at the (short) top level, so
     * make the deep directory a project of its own. */
    char ojdir[PATH_MAX + 160];
    snprintf(ojdir, sizeof ojdir, "%s/.oj", deep);
    cr_assert_eq(mkdir(ojdir, 0700), 0);
    struct oj_out a = oj_run_in(&e, deep, env, "daemon", "start", (char *)NULL);
    cr_assert_eq(a.code, 0, "%s", a.err);
    struct oj_out s = oj_run_in(&e, deep, env, "status", "--verbose", (char *)NULL);
    cr_expect_eq(s.code, 0, "%s", s.err);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "socket:     %s/oj/", rt);
    cr_expect(strstr(s.out, want) != NULL, "want %s in %s", want, s.out);
    struct oj_out stop2 = oj_run_in(&e, deep, env, "daemon", "stop", (char *)NULL);
    cr_expect_eq(stop2.code, 0, "%s", stop2.err);
    oj_out_free(&a);
    oj_out_free(&s);
    oj_out_free(&stop2);
}
