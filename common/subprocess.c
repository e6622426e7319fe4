/* subprocess.c — see subprocess.h. */
#include "subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

extern char **environ;

const char *oj_spawn_why(int errnum)
{
    switch (errnum) {
    case E2BIG:
        return "its arguments and environment are too long for the system (E2BIG); pass less "
               "text";
    case ENOENT:
        return "not found (is it installed and on PATH?) or its working directory is missing";
    case EACCES:
        return "permission denied (EACCES)";
    case ENOMEM:
    case EAGAIN:
        return "out of memory or processes (the system is overloaded)";
    default:
        return strerror(errnum);
    }
}

int oj_run(char *const argv[], const char *cwd, int timeout_ms, char *out, size_t outlen,
           int merge_stderr, struct oj_proc_result *res)
{
    return oj_run_env(argv, cwd, NULL, timeout_ms, out, outlen, merge_stderr, res);
}

int oj_run_env(char *const argv[], const char *cwd, char *const envp[], int timeout_ms, char *out,
               size_t outlen, int merge_stderr, struct oj_proc_result *res)
{
    memset(res, 0, sizeof *res);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    if (merge_stderr)
        posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    else
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    /* Own process group, so a timeout kills the grandchildren too; default
     * signal dispositions and mask, whatever the caller has blocked. */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rv = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp ? envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rv != 0) {
        close(fds[0]);
        errno = rv;
        return -1;
    }

    int64_t deadline = oj_mono_ms() + timeout_ms;
    size_t used = 0;
    char sink[4096];
    for (;;) {
        int64_t left = deadline - oj_mono_ms();
        if (left <= 0) {
            res->timed_out = 1;
            kill(-pid, SIGKILL);
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue;
        char *dst = sink;
        size_t room = sizeof sink;
        if (out && used + 1 < outlen) {
            dst = out + used;
            room = outlen - 1 - used;
        }
        ssize_t r = read(fds[0], dst, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* EOF: the child closed stdout (normally by exiting) */
        if (dst != sink)
            used += (size_t)r;
    }
    close(fds[0]);
    if (out && outlen)
        out[used] = '\0';
    res->out_len = used;

    /* stdout closed; the child is exiting. Bound the wait all the same. */
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            break;
        if (oj_mono_ms() >= deadline) {
            res->timed_out = 1;
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    res->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}
