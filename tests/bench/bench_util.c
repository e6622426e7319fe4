/* bench_util.c — see bench_util.h. */
#include "bench_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "pipeline.h"
#include "sessions.h"
#include "state.h"
#include "wal.h"

/* ---- writing a WAL ----------------------------------------------------------------- */

bool walw_open(struct walw *w, const char *project_dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj", project_dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return false;
    snprintf(path, sizeof path, "%s/.oj/wal.jsonl", project_dir);
    *w = (struct walw){.f = fopen(path, "w"), .now = 1700000000000};
    return w->f != NULL;
}

bool walw_put(struct walw *w, const char *kind, const char *id, cJSON *value)
{
    cJSON *op = oj_op_put(kind, id, value);
    size_t len;
    w->seq++;
    char *line = oj_wal_format(w->seq, w->now + (int64_t)w->seq, op, &len);
    cJSON_Delete(op);
    bool ok = line && fwrite(line, 1, len, w->f) == len;
    w->bytes += ok ? len : 0;
    free(line);
    return ok;
}

bool walw_close(struct walw *w)
{
    return w->f && fclose(w->f) == 0;
}

/* ---- the records of a scale fixture ----------------------------------------------- */

void bench_pipeline_id(int n, char id[16]) { snprintf(id, 16, "p%06x", (unsigned)n & 0xffffff); }
void bench_session_id(int n, char id[16]) { snprintf(id, 16, "s%06x", (unsigned)n & 0xffffff); }

cJSON *bench_finished_pipeline(const char *dir, int n, int version, int64_t now)
{
    static const char *const phases[] = {"plan", "implement", "review", "merge"};
    char id[16], sid[16], buf[512];
    bench_pipeline_id(n, id);
    bench_session_id(n, sid);
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    oj_pipeline_set(&p.name, "build");
    snprintf(buf, sizeof buf, "feature-%d", n);
    oj_pipeline_add_input(&p, "name", buf);
    snprintf(buf, sizeof buf,
             "Add the %d-th small feature: read the issue, write the code and its tests, keep "
             "the docs accurate, and run make test before you say done.", n);
    oj_pipeline_add_input(&p, "task", buf);
    snprintf(buf, sizeof buf, "%s/.oj/workspaces/build-%s", dir, id);
    oj_pipeline_set(&p.workspace, buf);
    snprintf(buf, sizeof buf, "oj/build-%s", id);
    oj_pipeline_set(&p.branch, buf);
    int64_t t = now - 3600000 + n;
    p.created_at_ms = t;
    p.state = OJ_PIPELINE_RUNNING;
    /* version counts down to 0, the final record: fewer steps done before */
    int steps = 8 - (version > 8 ? 8 : version);
    oj_pipeline_enter(&p, phases[steps / 2 % 4], t + steps * 1000);
    oj_pipeline_agent_started(&p, sid, t + steps * 1000 + 10);
    for (int i = 0; i < 3 && i < steps; i++) {
        snprintf(buf, sizeof buf, "step %d of %d: committed work/feature-%d.md, tests pass", i + 1,
                 3, n);
        oj_pipeline_add_checkpoint(&p, t + i * 700, phases[1], buf);
    }
    if (steps > 4)
        oj_pipeline_add_recovery(&p, t + 4000, "nudge", "quiet for 10m (idle timeout 10m)");
    if (version == 0)
        oj_pipeline_finish(&p, n % 5 == 4 ? OJ_PIPELINE_FAILED : OJ_PIPELINE_DONE,
                           n % 5 == 4 ? "phase merge failed: the merge has conflicts" : NULL,
                           t + 9000);
    else
        oj_pipeline_touch(&p, t + steps * 1000 + 20);
    cJSON *v = oj_pipeline_to_json(&p);
    oj_pipeline_free(&p);
    return v;
}

cJSON *bench_dead_session(const char *dir, int n, int64_t now)
{
    char pid[16], sid[16], name[64], log[PATH_MAX], cwd[PATH_MAX];
    bench_pipeline_id(n, pid);
    bench_session_id(n, sid);
    snprintf(name, sizeof name, "%s-implement", pid);
    snprintf(log, sizeof log, "%s/.oj/logs/sessions/%s.log", dir, sid);
    snprintf(cwd, sizeof cwd, "%s/.oj/workspaces/build-%s", dir, pid);
    struct oj_session s;
    if (oj_session_init(&s, name, cwd, "oj-fake-agent --work", log, pid, "implement", 600000,
                        now - 3600000 + n) != 0)
        return NULL;
    oj_session_mark_dead(&s, 0, "exited with status 0", now - 3600000 + n + 8000);
    cJSON *v = oj_session_to_json(&s);
    oj_session_clear(&s);
    return v;
}

/* ---- the daemon ------------------------------------------------------------------------ */

int bench_daemon_start(const struct oj_env *e, char *const envp[])
{
    struct oj_out o = oj_run_in(e, NULL, envp, "daemon", "start", (char *)NULL);
    int code = o.code;
    if (code != 0)
        fprintf(stderr, "oj-bench: oj daemon start: %s%s", o.out, o.err);
    oj_out_free(&o);
    return code;
}

double bench_rss_mib(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    char *text = read_file(path);
    const char *line = text ? strstr(text, "\nVmRSS:") : NULL;
    long kib = line ? strtol(line + 7, NULL, 10) : -1;
    free(text);
    return kib < 0 ? -1 : (double)kib / 1024;
}

/* The first line of a small /proc file into buf; false when it cannot be read. */
static bool proc_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return false;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

int64_t bench_threads_cpu_ns(pid_t pid, const char *comm)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int64_t sum = 0;
    struct dirent *t;
    while ((t = readdir(d)) != NULL) {
        if (t->d_name[0] == '.')
            continue;
        char path[400], line[128];
        if (comm) {
            snprintf(path, sizeof path, "%s/%s/comm", dir, t->d_name);
            if (!proc_line(path, line, sizeof line) || strcmp(line, comm) != 0)
                continue;
        }
        /* schedstat: time on the CPU (ns), time waiting to run, timeslices */
        snprintf(path, sizeof path, "%s/%s/schedstat", dir, t->d_name);
        if (proc_line(path, line, sizeof line))
            sum += strtoll(line, NULL, 10);
    }
    closedir(d);
    return sum;
}

int64_t bench_children_cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = read_file(path);
    const char *p = stat ? strrchr(stat, ')') : NULL;
    long cut = 0, cst = 0;
    /* after the command: state(3) ... cutime(16) cstime(17) */
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %ld %ld", &cut, &cst);
    free(stat);
    return (int64_t)(cut + cst) * (1000000000 / sysconf(_SC_CLK_TCK));
}

extern char **environ;

double bench_spawn_ms(char *const argv[], const char *cwd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    int64_t t0 = oj_mono_ns();
    pid_t pid;
    int rv = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rv != 0)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    double ms = (double)(oj_mono_ns() - t0) / 1e6;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ms : -1;
}

double bench_mean(const double *v, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    return n > 0 ? sum / n : 0;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int bench_env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v && atoi(v) > 0 ? atoi(v) : dflt;
}
