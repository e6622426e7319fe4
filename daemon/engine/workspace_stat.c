/* workspace_stat.c — see workspace_stat.h. */
#include "workspace_stat.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "engine_work.h"
#include "json.h"
#include "log.h"
#include "worktree.h"

const struct oj_ws_stat *oj_ws_stat_get(struct oj_daemon *d, const char *name)
{
    return oj_hmap_get(&d->workspace_stats, name);
}

bool oj_ws_stat_fresh(const struct oj_ws_stat *st, int64_t now_ms)
{
    return st && st->at_ms > 0 && st->at_ms > st->changed_ms &&
           now_ms - st->at_ms <= OJ_DIFFSTAT_MAX_AGE_MS;
}

/* The entry of name, made (never measured) when there is none; NULL when
 * out of memory. */
static struct oj_ws_stat *entry(struct oj_daemon *d, const char *name)
{
    struct oj_ws_stat *have = oj_hmap_get(&d->workspace_stats, name);
    if (have)
        return have;
    struct oj_ws_stat *made = calloc(1, sizeof *made);
    bool oom = made == NULL;
    if (made)
        oj_hmap_put(&d->workspace_stats, name, made, &oom);
    if (oom) {
        free(made);
        return NULL;
    }
    return made;
}

void oj_ws_stat_put(struct oj_daemon *d, const char *name, const struct oj_ws_stat *st)
{
    if (st->at_ms <= 0)
        return;
    struct oj_ws_stat *have = entry(d, name);
    /* an older measure than the one kept, or one started before the last change */
    if (have == NULL || st->at_ms < have->at_ms || st->at_ms <= have->changed_ms)
        return;
    have->s = st->s;
    have->at_ms = st->at_ms;
}

void oj_ws_stat_changed(struct oj_daemon *d, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    struct oj_ws_stat *have = name[0] ? entry(d, name) : NULL;
    if (have)
        have->changed_ms = oj_wall_ms();
}

void oj_ws_stat_drop(struct oj_daemon *d, const char *name)
{
    free(oj_hmap_del(&d->workspace_stats, name));
}

void oj_ws_stats_forget(struct oj_daemon *d)
{
    size_t it = 0;
    const char *key;
    void *v;
    while (oj_hmap_next(&d->workspace_stats, &it, &key, &v))
        free(v);
    oj_hmap_free(&d->workspace_stats);
}

void oj_ws_stat_measure(const char *path, const char *base, struct oj_ws_stat *st)
{
    memset(st, 0, sizeof *st);
    struct stat sb;
    if (base[0] == '\0' || path[0] == '\0' || stat(path, &sb) != 0)
        return;
    char line[512], err[1024];
    int64_t started = oj_wall_ms();
    if (oj_worktree_diffstat(path, base, line, sizeof line, err, sizeof err) != 0) {
        LOG_DEBUG("workspace %s: no diff-stat: %s", path, err);
        return;
    }
    if (oj_diffstat_parse(line, &st->s) != 0) {
        LOG_DEBUG("workspace %s: git's diff-stat was not understood: %s", path, line);
        return;
    }
    st->at_ms = started;
}

struct refresh_job {
    char name[200], path[PATH_MAX], base[64];
    struct oj_ws_stat st;
    void (*then)(struct oj_daemon *d, void *arg);
    void *arg;
};

static void refresh_work(void *arg)
{
    struct refresh_job *j = arg;
    oj_ws_stat_measure(j->path, j->base, &j->st);
}

static void refresh_then(struct oj_daemon *d, void *arg)
{
    struct refresh_job *j = arg;
    if (d != NULL)
        oj_ws_stat_put(d, j->name, &j->st);
    j->then(d, j->arg);
    free(j);
}

bool oj_ws_stat_refresh(struct oj_daemon *d, const char *name, const cJSON *w,
                        void (*then)(struct oj_daemon *d, void *arg), void *arg)
{
    const char *base = w ? oj_json_str(w, "base") : "";
    const char *path = w ? oj_json_str(w, "path") : "";
    if (oj_ws_stat_fresh(oj_ws_stat_get(d, name), oj_wall_ms()) || base[0] == '\0' ||
        path[0] == '\0') {
        then(d, arg);
        return true;
    }
    struct refresh_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return false;
    snprintf(j->name, sizeof j->name, "%s", name);
    snprintf(j->path, sizeof j->path, "%s", path);
    snprintf(j->base, sizeof j->base, "%s", base);
    j->then = then;
    j->arg = arg;
    /* read-only: answered even while a restore holds writes */
    if (oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_THEN_THROUGH_HOLD, refresh_work, refresh_then,
                       j) == 0) {
        free(j);
        return false;
    }
    return true;
}
