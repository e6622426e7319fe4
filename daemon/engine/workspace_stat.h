/* workspace_stat.h — each workspace's diff-stat against the commit it was
 * made from (`+127 -23` in `oj workspace list` and `oj pipeline status`),
 * kept in memory on the engine thread and measured by git on a thread of
 * its own: a request finds it in the cache when it is at most
 * OJ_DIFFSTAT_MAX_AGE_MS old, else git is asked off the engine and the
 * request answered when it has said (engine_work.h). Never journaled: a
 * restart measures again. */
#ifndef OJ_WORKSPACE_STAT_H
#define OJ_WORKSPACE_STAT_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "workspace_rules.h"

/* How old a cached diff-stat may be and still be shown without asking git. */
#define OJ_DIFFSTAT_MAX_AGE_MS 5000
/* How long one listing spends asking git in all: past it, the workspaces not
 * measured yet show their older measure (or none). */
#define OJ_DIFFSTAT_LIST_BUDGET_MS 10000

struct oj_ws_stat {
    struct oj_diffstat s;
    int64_t at_ms;      /* wall time git started measuring it; 0: never */
    int64_t changed_ms; /* when its pipeline last moved on: a measure started before is stale */
};

/* The cached diff-stat of workspace name, or NULL. Engine thread. */
const struct oj_ws_stat *oj_ws_stat_get(struct oj_daemon *d, const char *name);
/* Whether st is recent enough to show as it is (NULL: no). */
bool oj_ws_stat_fresh(const struct oj_ws_stat *st, int64_t now_ms);
/* Records a measure (at_ms 0: git could not measure it; keeps nothing). */
void oj_ws_stat_put(struct oj_daemon *d, const char *name, const struct oj_ws_stat *st);
/* The workspace at path (a pipeline's) has just changed for sure: a phase of
 * its pipeline ended or the pipeline finished. Its cached measure, and any
 * measure started before now, is stale: the next request measures again. */
void oj_ws_stat_changed(struct oj_daemon *d, const char *path);
/* Forgets workspace name (removed), or every one (d's end). */
void oj_ws_stat_drop(struct oj_daemon *d, const char *name);
void oj_ws_stats_forget(struct oj_daemon *d);

/* Measures a workspace: git in its folder at path against base (the commit
 * of its record's "base"); a thread's, no daemon state. at_ms 0 when it
 * could not (folder gone, no base recorded, git failed). */
void oj_ws_stat_measure(const char *path, const char *base, struct oj_ws_stat *st);

/* Measures the workspace of record w (name) on a thread of its own when its
 * cached measure is not fresh, then calls then(d, arg) on the engine thread
 * (d NULL: the engine ended first; only free arg). When it is fresh or
 * cannot be measured (no base, no path), then is called at once. false when
 * no thread could be had (then is not called). */
bool oj_ws_stat_refresh(struct oj_daemon *d, const char *name, const cJSON *w,
                        void (*then)(struct oj_daemon *d, void *arg), void *arg);
#endif
