/* bench_util.h — what the "cost as work grows" sections share: a project's
 * state written straight into its WAL with the daemon's own codecs (the fast
 * path: ten thousand pipelines without running them), a daemon started with
 * extra environment, and what /proc says of it (CPU of its threads, RSS). */
#ifndef OJ_BENCH_UTIL_H
#define OJ_BENCH_UTIL_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/harness.h"

/* A WAL being written: <project>/.oj/wal.jsonl, records from seq 1. */
struct walw {
    void *f;
    uint64_t seq;
    int64_t now;
    uint64_t bytes;
};
bool walw_open(struct walw *w, const char *project_dir);
/* Appends a put of kind/id (takes value). */
bool walw_put(struct walw *w, const char *kind, const char *id, cJSON *value);
bool walw_close(struct walw *w);

/* The n-th finished pipeline of a scale fixture and its agent's session, as a
 * real one looks at its end: two inputs, a workspace, three checkpoints, a
 * recovery step; state done (every fifth failed). ids: "p%06x" / "s%06x".
 * `version` (0 = final) makes earlier versions of the same record, for a WAL
 * with history. */
cJSON *bench_finished_pipeline(const char *dir, int n, int version, int64_t now);
cJSON *bench_dead_session(const char *dir, int n, int64_t now);
void bench_pipeline_id(int n, char id[16]);
void bench_session_id(int n, char id[16]);

/* `oj daemon start` with extra environment (NULL-terminated "K=V" list, may
 * be NULL); its exit status (its stderr printed on failure). */
int bench_daemon_start(const struct oj_env *e, char *const envp[]);

/* VmRSS of pid in MiB, -1 when gone. */
double bench_rss_mib(pid_t pid);
/* CPU time (ns, from schedstat) of pid's threads named `comm` (NULL: all of
 * them), -1 when gone. */
int64_t bench_threads_cpu_ns(pid_t pid, const char *comm);
/* CPU time of the children pid waited for (cutime+cstime), in ns. */
int64_t bench_children_cpu_ns(pid_t pid);

/* Runs argv (argv[0] a path) in cwd, stdin and stdout /dev/null, to the
 * end; its wall time in ms, or -1 when it could not run or did not exit 0. */
double bench_spawn_ms(char *const argv[], const char *cwd);
/* Mean of n samples. */
double bench_mean(const double *v, int n);
/* Median of n samples (sorts v): what a run usually costs, whatever else
 * the machine did during a few of them. */
double bench_median(double *v, int n);

void bench_sleep_ms(int64_t ms);
int bench_env_int(const char *name, int dflt);
#endif
