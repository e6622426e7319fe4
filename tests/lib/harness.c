/* harness.c — see harness.h. */
#include "harness.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "pidlock.h"
#include "subprocess.h"
#include "wal.h"

extern char **environ;

/* Set when an oj run printed a sanitizer report; env_teardown fails then. */
static bool sanitizer_seen;

static void die(const char *what)
{
    fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
    abort();
}

void env_setup(struct oj_env *e, bool git)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/ojt.XXXXXX");
    if (mkdtemp(e->dir) == NULL)
        die("mkdtemp");
    const char *bin = getenv("OJ_BIN");
    if (bin == NULL || *bin == '\0')
        bin = "bin/oj";
    if (realpath(bin, e->oj) == NULL)
        die("OJ_BIN (build bin/oj first)");
    /* The user's own ~/.config/oj/config.json must not reach a test's daemon:
     * every test has an empty user config directory of its own. */
    char xdg[sizeof e->dir + 16];
    snprintf(xdg, sizeof xdg, "%s/.xdg-config", e->dir);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    if (git) {
        char *init[] = {"git", "init", "-q", "-b", "main", ".", NULL};
        char *cfg1[] = {"git", "config", "user.email", "test@oj.invalid", NULL};
        char *cfg2[] = {"git", "config", "user.name", "oj test", NULL};
        char *commit[] = {"git", "commit", "-q", "--allow-empty", "-m", "init", NULL};
        if (run_prog(e->dir, 10000, NULL, 0, init) || run_prog(e->dir, 10000, NULL, 0, cfg1) ||
            run_prog(e->dir, 10000, NULL, 0, cfg2) || run_prog(e->dir, 10000, NULL, 0, commit)) {
            errno = EIO;
            die("git init");
        }
    }
}

pid_t env_daemon_pid(const struct oj_env *e)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/.oj/daemon.pid", e->dir);
    pid_t pid = oj_pidlock_holder(p);
    return pid > 0 ? pid : 0;
}

char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

off_t wal_data_end(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    off_t end = fstat(fd, &st) == 0 ? oj_wal_data_end(fd, st.st_size) : -1;
    close(fd);
    return end;
}

char *read_wal(const char *path)
{
    char *text = read_file(path);
    off_t end = wal_data_end(path);
    if (text && end >= 0 && (size_t)end <= strlen(text))
        text[end] = '\0';
    return text;
}

void wal_write_at_end(const char *path, const void *bytes, size_t n)
{
    off_t end = wal_data_end(path);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (end < 0 || fd < 0 || pwrite(fd, bytes, n, end) != (ssize_t)n)
        die("wal_write_at_end");
    close(fd);
}

bool env_teardown(struct oj_env *e)
{
    pid_t pid = env_daemon_pid(e);
    if (pid > 0) {
        /* A graceful stop first, so sanitizers get to report leaks at exit. */
        kill(pid, SIGTERM);
        int64_t deadline = oj_mono_ms() + 10000;
        while (env_daemon_pid(e) > 0 && oj_mono_ms() < deadline) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (env_daemon_pid(e) > 0)
            kill(pid, SIGKILL);
    }
    /* The daemon's private tmux server outlives it by design; not the test's. */
    char sock[PATH_MAX];
    snprintf(sock, sizeof sock, "%s/.oj/tmux.sock", e->dir);
    char *kill_tmux[] = {"tmux", "-S", sock, "kill-server", NULL};
    if (access(sock, F_OK) == 0)
        run_prog("/", 10000, NULL, 0, kill_tmux);
    bool clean = !sanitizer_seen;
    sanitizer_seen = false;
    char log[PATH_MAX + 32];
    snprintf(log, sizeof log, "%s/.oj/logs/daemon.log", e->dir);
    char *text = read_file(log);
    if (text && (strstr(text, "Sanitizer") || strstr(text, "runtime error:"))) {
        fprintf(stderr, "sanitizer report in %s:\n%s\n", log, text);
        clean = false;
    }
    free(text);
    char *rm[] = {"rm", "-rf", e->dir, NULL};
    run_prog("/", 30000, NULL, 0, rm);
    return clean;
}

int run_prog(const char *cwd, int timeout_ms, char *out, size_t outlen, char *const argv[])
{
    struct oj_proc_result r;
    if (oj_run(argv, cwd, timeout_ms, out, outlen, 1, &r) != 0)
        return -1;
    return r.timed_out ? 124 : r.exit_status;
}

/* Appends what is readable on fd to a growing buffer; false at EOF. */
static bool drain(int fd, char **buf, size_t *len, size_t *cap)
{
    if (*cap - *len < 4096) {
        *cap = *cap * 2 + 4096;
        *buf = realloc(*buf, *cap);
    }
    ssize_t r = read(fd, *buf + *len, *cap - *len - 1);
    if (r < 0 && errno == EINTR)
        return true;
    if (r <= 0)
        return false;
    *len += (size_t)r;
    return true;
}

struct oj_out oj_run_in(const struct oj_env *e, const char *cwd, char *const envp[], ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)e->oj;
    va_list ap;
    va_start(ap, envp);
    char *a;
    while ((a = va_arg(ap, char *)) != NULL && argc < 63)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    /* Environment: ours plus the extras, which replace ours of the same name
     * (a test's PATH=... must be the one oj sees). */
    char *env[512];
    int n = 0;
    for (char **p = environ; *p && n < 400; p++) {
        size_t klen = strcspn(*p, "=");
        bool replaced = false;
        for (int i = 0; envp && envp[i] && !replaced; i++)
            replaced = strncmp(envp[i], *p, klen + 1) == 0;
        if (!replaced)
            env[n++] = *p;
    }
    for (int i = 0; envp && envp[i] && n < 510; i++)
        env[n++] = envp[i];
    env[n] = NULL;

    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
        die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addchdir_np(&fa, cwd ? cwd : e->dir);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int64_t t0 = oj_mono_ns();
    if (posix_spawn(&pid, argv[0], &fa, &attr, argv, env) != 0)
        die("spawn oj");
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(po[1]);
    close(pe[1]);

    struct oj_out o = {0};
    size_t ol = 0, oc = 0, el = 0, ec = 0;
    bool open_o = true, open_e = true;
    int64_t deadline = oj_mono_ms() + 60000;
    while ((open_o || open_e) && oj_mono_ms() < deadline) {
        struct pollfd p[2] = {{.fd = open_o ? po[0] : -1, .events = POLLIN},
                              {.fd = open_e ? pe[0] : -1, .events = POLLIN}};
        if (poll(p, 2, 1000) <= 0)
            continue;
        if (p[0].revents && !drain(po[0], &o.out, &ol, &oc))
            open_o = false;
        if (p[1].revents && !drain(pe[0], &o.err, &el, &ec))
            open_e = false;
    }
    close(po[0]);
    close(pe[0]);
    if (open_o || open_e)
        kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    o.secs = (double)(oj_mono_ns() - t0) / 1e9;
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (o.out == NULL)
        o.out = calloc(1, 1);
    else
        o.out[ol] = '\0';
    if (o.err == NULL)
        o.err = calloc(1, 1);
    else
        o.err[el] = '\0';
    if (strstr(o.err, "Sanitizer") || strstr(o.err, "runtime error:")) {
        fprintf(stderr, "sanitizer report from `oj %s`:\n%s\n", argc > 1 ? argv[1] : "", o.err);
        sanitizer_seen = true;
    }
    return o;
}

void oj_out_free(struct oj_out *o)
{
    free(o->out);
    free(o->err);
    o->out = o->err = NULL;
}

bool wait_until(bool (*cond)(void *), void *arg, int timeout_ms)
{
    int64_t deadline = oj_mono_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return true;
        if (oj_mono_ms() >= deadline)
            return false;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

bool process_alive(pid_t pid)
{
    if (kill(pid, 0) != 0)
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = read_file(path);
    if (stat == NULL)
        return false;
    const char *close_paren = strrchr(stat, ')');
    bool alive = close_paren && close_paren[1] == ' ' && close_paren[2] != 'Z';
    free(stat);
    return alive;
}

int env_start_daemon(const struct oj_env *e)
{
    struct oj_out o = OJ(e, "daemon", "start");
    int code = o.code;
    if (code != 0)
        fprintf(stderr, "oj daemon start failed (%d): %s", code, o.err);
    oj_out_free(&o);
    return code;
}

int env_start_agent(const struct oj_env *e, const char *name, char *id, size_t idlen)
{
    char agent[PATH_MAX];
    if (realpath("tests/agents/fake-agent.sh", agent) == NULL)
        die("tests/agents/fake-agent.sh (tests run from the repository root)");
    struct oj_out o = OJ(e, "session", "start", "--name", name, "--", agent);
    int code = o.code;
    if (code != 0)
        fprintf(stderr, "oj session start failed (%d): %s", code, o.err);
    /* "started session <id> (<name>)" */
    else if (sscanf(o.out, "started session %31s", id) != 1 || idlen < 32)
        code = -1;
    oj_out_free(&o);
    return code;
}

int env_write_runbook(const struct oj_env *e, const char *name, const char *json)
{
    char dir[PATH_MAX], path[PATH_MAX + 300], tmp[PATH_MAX + 300];
    snprintf(dir, sizeof dir, "%s/.oj", e->dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(dir, sizeof dir, "%s/.oj/runbooks", e->dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.json.tmp", dir, name);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    bool ok = fputs(json, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0)
        return -1;
    /* The daemon reloads when the newest mtime in the folder changes; file
     * times tick coarsely (a few ms), so make each write's time later than
     * the one before. */
    static struct timespec last;
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    struct timespec t = st.st_mtim;
    if (t.tv_sec < last.tv_sec || (t.tv_sec == last.tv_sec && t.tv_nsec <= last.tv_nsec)) {
        t = last;
        t.tv_nsec += 1000000;
        if (t.tv_nsec >= 1000000000) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000;
        }
        struct timespec times[2] = {t, t};
        if (utimensat(AT_FDCWD, path, times, 0) != 0)
            return -1;
    }
    last = t;
    return 0;
}

bool env_crash_daemon(const struct oj_env *e)
{
    pid_t pid = env_daemon_pid(e);
    if (pid <= 0)
        return false;
    kill(pid, SIGKILL);
    int64_t deadline = oj_mono_ms() + 10000;
    while (env_daemon_pid(e) > 0) {
        if (oj_mono_ms() >= deadline)
            return false;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

pid_t oj_spawn_bg(const struct oj_env *e, const char *out_path, char *const envp[],
                  char *const args[])
{
    char *argv[64] = {(char *)e->oj, "-C", (char *)e->dir};
    int n = 3;
    for (int i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char *env[512];
    int k = 0;
    for (char **p = environ; *p && k < 400; p++)
        env[k++] = *p;
    for (int i = 0; envp && envp[i] && k < 510; i++)
        env[k++] = envp[i];
    env[k] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    if (posix_spawn(&pid, argv[0], &fa, &attr, argv, env) != 0)
        die("spawn oj");
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return pid;
}

int child_wait_exit(pid_t pid, int timeout_ms)
{
    int64_t deadline = oj_mono_ms() + timeout_ms;
    for (;;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (oj_mono_ms() >= deadline)
            break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

int env_write_runbook_q(const struct oj_env *e, const char *name, const char *text)
{
    char *json = strdup(text);
    if (json == NULL)
        return -1;
    for (char *p = json; *p; p++)
        if (*p == '\'')
            *p = '"';
    int rc = env_write_runbook(e, name, json);
    int saved = errno;
    free(json);
    errno = saved;
    return rc;
}

struct agent_wait {
    const struct oj_env *e;
    const char *id;
    char sid[16];
};

static bool pipeline_runs_agent(void *arg)
{
    struct agent_wait *w = arg;
    struct oj_out o = OJ(w->e, "pipeline", "status", w->id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(j, "session_id");
    bool yes = cJSON_IsString(step) && strcmp(step->valuestring, "agent") == 0 &&
               cJSON_IsString(sid) && sid->valuestring[0];
    if (yes)
        snprintf(w->sid, sizeof w->sid, "%s", sid->valuestring);
    cJSON_Delete(j);
    oj_out_free(&o);
    return yes;
}

bool env_wait_pipeline_agent(const struct oj_env *e, const char *id, char sid[16],
                             int timeout_ms)
{
    struct agent_wait w = {.e = e, .id = id};
    bool yes = wait_until(pipeline_runs_agent, &w, timeout_ms);
    snprintf(sid, 16, "%s", w.sid);
    return yes;
}
