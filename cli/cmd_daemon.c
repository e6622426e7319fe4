/* cmd_daemon.c — `oj daemon start` and `oj daemon stop`. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "daemon_main.h"
#include "duration.h"
#include "pidlock.h"
#include "progress.h"
#include "subprocess.h"

/* How long `oj daemon start` waits for the daemon to answer: replaying a big
 * WAL takes a while (see make bench). */
#define START_WAIT_MS 120000

/* Shows the last error lines of the daemon log, for a start that failed. */
static void show_log_tail(const char *log_path)
{
    FILE *f = fopen(log_path, "re");
    if (f == NULL)
        return;
    char line[1024], last[3][1024] = {{0}};
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, " ERROR ") || strstr(line, "ERROR:") || strstr(line, "Sanitizer"))
            snprintf(last[n++ % 3], sizeof last[0], "%s", line);
    fclose(f);
    for (int i = n > 3 ? n - 3 : 0; i < n; i++) {
        last[i % 3][strcspn(last[i % 3], "\n")] = '\0';
        fprintf(stderr, "  %s\n", oj_esc(last[i % 3]));
    }
}

static int start_background(const char *root, const struct oj_paths *paths, bool recover,
                            bool rebuild, const char *const *set, int n_set)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        oj_errorf("cannot create a pipe: %s", strerror(errno));
        return OJ_EXIT_FAILURE;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        oj_errorf("cannot fork: %s", strerror(errno));
        return OJ_EXIT_FAILURE;
    }
    if (child == 0) {
        /* Detach: new session, then fork again so the daemon is not a session
         * leader and can never get a controlling terminal back. Nothing in
         * this process has touched nng, so the daemon starts clean. */
        close(fds[0]);
        if (setsid() < 0)
            _exit(1);
        pid_t grandchild = fork();
        if (grandchild != 0)
            _exit(grandchild < 0 ? 1 : 0);
        umask(077);
        if (chdir("/") != 0)
            _exit(1);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            if (null > STDERR_FILENO)
                close(null);
        }
        struct oj_daemon_opts o = {.root = root, .foreground = false, .ready_fd = fds[1],
                                   .recover = recover, .rebuild = rebuild, .set = set,
                                   .n_set = n_set};
        _exit(oj_daemon_run(&o));
    }
    close(fds[1]);
    int status;
    waitpid(child, &status, 0);

    /* The daemon's word: NOTE lines, then READY, ALREADY or ERROR; EOF
     * without one of those means it died. It closes the pipe after READY. */
    char buf[16384];
    size_t used = 0;
    int64_t deadline = oj_mono_ms() + START_WAIT_MS;
    bool eof = false;
    /* A big WAL takes a while to replay: say so on a terminal. */
    struct oj_progress *progress = oj_progress_start("starting the daemon (loading its state)");
    while (used < sizeof buf - 1) {
        int64_t left = deadline - oj_mono_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        ssize_t r = read(fds[0], buf + used, sizeof buf - 1 - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            eof = true;
            break;
        }
        used += (size_t)r;
    }
    oj_progress_stop(progress);
    close(fds[0]);
    buf[used] = '\0';

    int rc = -1;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        long pid;
        if (strncmp(line, "NOTE ", 5) == 0) {
            printf("note: %s\n", oj_esc(line + 5));
        } else if (sscanf(line, "READY %ld", &pid) == 1) {
            printf("daemon started (pid %ld) in %s\n", pid, oj_esc(root));
            rc = OJ_EXIT_OK;
        } else if (sscanf(line, "ALREADY %ld", &pid) == 1) {
            printf("daemon already running (pid %ld) in %s\n", pid, oj_esc(root));
            rc = OJ_EXIT_OK;
        } else if (strncmp(line, "ERROR ", 6) == 0) {
            oj_errorf("daemon failed to start: %s", line + 6);
            rc = OJ_EXIT_FAILURE;
        }
    }
    if (rc >= 0)
        return rc;
    if (!eof) {
        oj_errorf("daemon did not answer within %d s; see %s", START_WAIT_MS / 1000,
                  paths->log_path);
        return OJ_EXIT_TIMEOUT;
    }
    oj_errorf("daemon exited during start-up; last errors from %s:", paths->log_path);
    show_log_tail(paths->log_path);
    return OJ_EXIT_FAILURE;
}

static int exec_start(struct oj_ctx *ctx, const struct oj_args *a)
{
    char root[PATH_MAX];
    int rc = oj_ctx_new_root(ctx, root, sizeof root);
    if (rc != 0)
        return rc;
    struct oj_paths paths;
    if (oj_paths_init(&paths, root) != 0) {
        oj_errorf("project path %s is too long for a socket even in the fallback directory; set "
                  "XDG_RUNTIME_DIR to a short directory",
                  root);
        return OJ_EXIT_FAILURE;
    }
    pid_t holder = oj_pidlock_holder(paths.pid_path);
    if (oj_reach_classify(holder, errno, false) == OJ_REACH_DENIED) {
        struct oj_ctx owner = {.paths = paths, .have_paths = true};
        return oj_permission_denied(&owner, "start a daemon");
    }
    if (holder > 0) {
        printf("daemon already running (pid %d) in %s\n", (int)holder, oj_esc(root));
        return OJ_EXIT_OK;
    }
    /* Bad settings are the operator's to fix: say so before forking (after
     * the checks above: another user's .oj/ is "permission denied", not an
     * unreadable config file). */
    char err[PATH_MAX + 512];
    const char *set[64];
    int n_set = oj_args_all(a, "set", set, 64);
    if (oj_daemon_check_settings(paths.state_dir, set, n_set, err, sizeof err) != 0) {
        oj_errorf("%s", err);
        return OJ_EXIT_USAGE;
    }
    bool recover = oj_args_has(a, "recover"), rebuild = oj_args_has(a, "rebuild-state");
    if (oj_args_has(a, "foreground")) {
        struct oj_daemon_opts o = {.root = root, .foreground = true, .ready_fd = -1,
                                   .recover = recover, .rebuild = rebuild, .set = set,
                                   .n_set = n_set};
        return oj_daemon_run(&o) == 0 ? OJ_EXIT_OK : OJ_EXIT_FAILURE;
    }
    return start_background(root, &paths, recover, rebuild, set, n_set);
}

/* Polls the pid lock until its holder is gone or the deadline passes. */
static bool wait_gone(const char *pid_path, int64_t deadline)
{
    for (;;) {
        if (oj_pidlock_holder(pid_path) <= 0)
            return true;
        if (oj_mono_ms() >= deadline)
            return false;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int exec_stop(struct oj_ctx *ctx, const struct oj_args *a)
{
    long long timeout_ms = OJ_DEFAULT_STOP_TIMEOUT_MS;
    if (oj_opt_duration(a, "timeout", &timeout_ms) != 0)
        return OJ_EXIT_USAGE;
    if (timeout_ms <= 0) {
        oj_errorf("--timeout must be more than 0 (e.g. 30s)");
        return OJ_EXIT_USAGE;
    }
    int rc = oj_ctx_project(ctx);
    if (rc != 0)
        return rc;
    pid_t pid = oj_pidlock_holder(ctx->paths.pid_path);
    if (oj_reach_classify(pid, errno, false) == OJ_REACH_DENIED)
        return oj_permission_denied(ctx, "stop the daemon");
    if (pid <= 0) {
        printf("daemon is not running in %s (nothing to stop)\n", oj_esc(ctx->paths.root));
        return OJ_EXIT_OK;
    }

    if (oj_args_has(a, "force")) {
        if (kill(pid, SIGKILL) != 0 && errno != ESRCH) {
            if (errno == EPERM)
                return oj_permission_denied(ctx, "kill the daemon");
            oj_errorf("cannot kill daemon (pid %d): %s", (int)pid, strerror(errno));
            return OJ_EXIT_FAILURE;
        }
        if (!wait_gone(ctx->paths.pid_path, oj_mono_ms() + 5000)) {
            oj_errorf("daemon (pid %d) still holds its lock 5 s after SIGKILL; check `ps %d`",
                      (int)pid, (int)pid);
            return OJ_EXIT_TIMEOUT;
        }
        /* The socket files of a killed daemon are stale; the next start also
         * removes them, but leave the directory tidy. */
        unlink(ctx->paths.sock_path);
        unlink(ctx->paths.events_sock_path);
        printf("daemon killed (pid %d); agents in tmux keep running\n", (int)pid);
        return OJ_EXIT_OK;
    }

    struct oj_client *c;
    rc = oj_ctx_connect(ctx, &c);
    if (rc != 0) {
        oj_errorf("cannot ask daemon (pid %d) to stop; use `oj daemon stop --force`", (int)pid);
        return rc;
    }
    /* Short: a stopping daemon may close its socket before the answer is
     * out, and then its exit (the lock let go) is the answer we wait for. */
    oj_client_set_timeout(c, 1000);
    Oj__DaemonStopRequest req = OJ__DAEMON_STOP_REQUEST__INIT;
    req.timeout_ms = timeout_ms;
    Oj__DaemonStopResponse *resp;
    int st = OJ_RPC(c, oj__control__daemon_stop, &req, &resp);
    /* A stopping daemon may close its socket before its answer is written
     * out, so a missing answer is no failure: its exit is the answer. Only a
     * refusal (an error status from the daemon) is. */
    if (st != OJ__STATUS_CODE__OK && st != OJ_RPC_UNREACHABLE && st != OJ_RPC_NO_ANSWER) {
        rc = oj_call_failed(c);
        oj_client_close(c);
        return rc;
    }
    oj_client_free_reply(resp);
    oj_client_close(c);
    char human[32];
    oj_duration_format(timeout_ms, human, sizeof human);
    if (!wait_gone(ctx->paths.pid_path, oj_mono_ms() + timeout_ms + 5000)) {
        if (st == OJ_RPC_NO_ANSWER)
            oj_errorf("daemon (pid %d) did not answer the stop request and is still running; use "
                      "`oj daemon stop --force`",
                      (int)pid);
        else
            oj_errorf("daemon (pid %d) is still running %s after the stop request; use `oj "
                      "daemon stop --force`",
                      (int)pid, human);
        return OJ_EXIT_TIMEOUT;
    }
    printf("daemon stopped (pid %d)\n", (int)pid);
    return OJ_EXIT_OK;
}

static const struct oj_opt start_opts[] = {
    {"foreground", false, NULL, "stay attached: log to stderr too, stop with Ctrl-C (for systemd)"},
    {"recover", false, NULL, "accept the losses a start refused: keep copies, start from what is good"},
    {"rebuild-state", false, NULL, "ignore snapshots and replay the whole WAL"},
    {"set", true, "KEY=VALUE", "a setting for this run, over the environment and the config "
                               "files (repeatable; keys as in .oj/config.json)"},
    {0},
};
static const struct oj_opt stop_opts[] = {
    {"timeout", true, "DUR", "how long to let requests and shell steps finish (default 10s)"},
    {"force", false, NULL, "kill the daemon at once (SIGKILL); agents in tmux keep running"},
    {0},
};

const struct oj_cmd oj_cmd_daemon_start = {
    "daemon", "start", "[--foreground] [--recover] [--rebuild-state] [--set KEY=VALUE...]",
    "Start the daemon for this project",
    "Creates .oj/ at the git top level (or here, outside git) when no .oj/ exists above the\n"
    "current directory, then starts the daemon in the background and returns once it answers.\n"
    "Prints the pid. When a daemon already runs, says so and changes nothing (exit 0).\n"
    "Start-up loads the newest snapshot that verifies and replays the WAL after it, and never\n"
    "goes back past a sequence number it can see was used. An unfinished last record is cut\n"
    "off (its bytes kept, with a note). Other damage or a gap refuses the start, changing\n"
    "nothing, with the missing seq ranges and where they were: --recover then starts from the\n"
    "newest good snapshot plus the records before the first gap, keeps the WAL as\n"
    "wal.jsonl.corrupt-<time> and unusable snapshots as <id>.json.unusable, and reports each\n"
    "range it lost. --rebuild-state ignores snapshots and replays the whole WAL.\n"
    "Reads .oj/config.json (docs/config.md: the notifier, a command run for chosen event\n"
    "kinds); a bad one refuses the start, naming the key.\n"
    "Environment: OJ_LOG_LEVEL (error|warn|info|debug, default info), OJ_MAX_SESSIONS\n"
    "(default 10), OJ_SNAPSHOT_EVERY (10000), OJ_SNAPSHOT_KEEP (5), OJ_COMPACT_SIZE (100MB),\n"
    "OJ_LOG_MAX_SIZE (10MB: daemon.log rotates to daemon.log.1 ...), OJ_LOG_KEEP (5).\n"
    "SIGHUP makes the daemon reopen .oj/logs/daemon.log (for an external logrotate).",
    start_opts, 0, 0, exec_start,
};
const struct oj_cmd oj_cmd_daemon_stop = {
    "daemon", "stop", "[--timeout DUR] [--force]", "Stop the daemon (graceful unless --force)",
    "Graceful, in five steps: 1. stop accepting new work (requests and new pipeline\n"
    "phases); 2. wait for in-flight requests and running shell steps, within --timeout;\n"
    "3. checkpoint all sessions (agents keep running in tmux); 4. release all locks\n"
    "(pipelines that held one take it back first thing at the next start); 5. sync the\n"
    "WAL. This command returns when the daemon is gone.\n"
    "--force kills it at once; nothing acknowledged is lost, agents keep running in tmux.",
    stop_opts, 0, 0, exec_stop,
};
