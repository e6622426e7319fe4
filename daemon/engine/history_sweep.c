/* history_sweep.c — see history_sweep.h. The engine side copies the live ids;
 * the sweep thread lists, plans (retention.h) and removes. */
#include "history_sweep.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "engine_work.h"
#include "log.h"
#include "retention.h"
#include "state.h"
#include "store.h"

struct sweep {
    char state_dir[4096];
    char **live; /* sorted ids of the records in the live state */
    size_t n_live, cap_live;
    int64_t now_ms, retain_ms;
    uint64_t cap_bytes;
    /* the sweep's findings */
    struct oj_history_file *files;
    size_t n_files, cap_files;
    struct oj_retention_totals totals;
    size_t failed; /* files that could not be removed */
    bool oom;
};

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_live(const char *id, const cJSON *value, void *arg)
{
    (void)value;
    struct sweep *s = arg;
    if (s->oom)
        return;
    if (s->n_live == s->cap_live) {
        size_t cap = s->cap_live ? s->cap_live * 2 : 256;
        char **p = realloc(s->live, cap * sizeof *p);
        if (p == NULL) {
            s->oom = true;
            return;
        }
        s->live = p;
        s->cap_live = cap;
    }
    if ((s->live[s->n_live] = strdup(id)) == NULL)
        s->oom = true;
    else
        s->n_live++;
}

static void sweep_free(struct sweep *s)
{
    for (size_t i = 0; i < s->n_live; i++)
        free(s->live[i]);
    free(s->live);
    for (size_t i = 0; i < s->n_files; i++)
        free(s->files[i].path);
    free(s->files);
    free(s);
}

/* Whether the record `id` (the name up to `end`) is in the live state. */
static bool is_live(const struct sweep *s, const char *name, size_t idlen)
{
    char id[128];
    if (idlen == 0 || idlen >= sizeof id)
        return true; /* not a name oj writes: leave it alone */
    if (s->n_live == 0)
        return false; /* (bsearch must not be handed the NULL of an empty list) */
    memcpy(id, name, idlen);
    id[idlen] = '\0';
    const char *key = id;
    return bsearch(&key, s->live, s->n_live, sizeof *s->live, by_string) != NULL;
}

enum owner { BY_DOT, BY_DASH, NOBODY, KEEP };

/* Whether the name up to one of its '-' is a live record's id. */
static bool dash_prefix_live(const struct sweep *s, const char *name)
{
    for (const char *p = strchr(name, '-'); p != NULL; p = strchr(p + 1, '-'))
        if (is_live(s, name, (size_t)(p - name)))
            return true;
    return false;
}

/* Adds the regular files of state_dir/sub. Who a file belongs to: the record
 * whose id its name starts with (up to the first '.' or '-'), nobody (an
 * archive: history only), or always kept. */
static void list_dir(struct sweep *s, const char *sub, enum owner (*owner_of)(const char *name))
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", s->state_dir, sub);
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return; /* not made yet */
    struct dirent *e;
    while (!s->oom && (e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4500];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        enum owner o = owner_of(e->d_name);
        bool live = o != NOBODY;
        if (o == BY_DOT)
            live = is_live(s, e->d_name, strcspn(e->d_name, "."));
        else if (o == BY_DASH) /* <id>-<phase>: either may hold a '-'; any live prefix */
            live = dash_prefix_live(s, e->d_name);
        if (s->n_files == s->cap_files) {
            size_t cap = s->cap_files ? s->cap_files * 2 : 1024;
            struct oj_history_file *p = realloc(s->files, cap * sizeof *p);
            if (p == NULL) {
                s->oom = true;
                break;
            }
            s->files = p;
            s->cap_files = cap;
        }
        char *copy = strdup(path);
        if (copy == NULL) {
            s->oom = true;
            break;
        }
        s->files[s->n_files++] = (struct oj_history_file){
            .path = copy,
            .mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000,
            .bytes = (uint64_t)st.st_blocks * 512,
            .live = live,
        };
    }
    closedir(dp);
}

/* logs/sessions/<id>.log and <id>.status */
static enum owner session_file(const char *name)
{
    (void)name;
    return BY_DOT;
}

/* logs/pipelines/<id>.log; <id>.pgid marks a running step: kept */
static enum owner pipeline_file(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".pgid") == 0 ? KEEP : BY_DOT;
}

/* prompts/<pipeline id>-<phase>.txt */
static enum owner prompt_file(const char *name)
{
    (void)name;
    return BY_DASH;
}

/* archive/archive-<time>-<seq>.json (and the older pipelines-*.json) */
static enum owner archive_file(const char *name)
{
    return strncmp(name, "archive-", 8) == 0 || strncmp(name, "pipelines-", 10) == 0 ? NOBODY
                                                                                     : KEEP;
}

/* logs/cron/<job>.log: a job's own log, appended per run */
static enum owner kept_file(const char *name)
{
    (void)name;
    return KEEP;
}

/* The sweep's thread: it touches only what the sweep holds. */
static void sweep_work(void *arg)
{
    struct sweep *s = arg;
    list_dir(s, "logs/sessions", session_file);
    list_dir(s, "logs/pipelines", pipeline_file);
    list_dir(s, "logs/cron", kept_file);
    list_dir(s, "prompts", prompt_file);
    list_dir(s, "archive", archive_file);
    if (s->oom)
        return;
    oj_retention_plan(s->files, s->n_files, s->now_ms, s->retain_ms, s->cap_bytes, &s->totals);
    for (size_t i = 0; i < s->n_files; i++) {
        if (s->files[i].remove && unlink(s->files[i].path) != 0 && errno != ENOENT) {
            s->failed++; /* it stays: count it as kept */
            s->totals.removed--;
            s->totals.removed_bytes -= s->files[i].bytes;
            s->totals.kept_bytes += s->files[i].bytes;
            s->totals.kept++;
            s->totals.history_bytes += s->files[i].bytes;
            s->totals.history++;
        }
    }
}

/* Engine thread (d NULL: the engine ended first). */
static void sweep_then(struct oj_daemon *d, void *arg)
{
    struct sweep *s = arg;
    if (d != NULL) {
        d->history_running = false;
        if (s->oom) {
            LOG_WARN("history: out of memory listing .oj/'s history; trying again later");
        } else {
            atomic_store(&d->history_bytes, s->totals.history_bytes);
            atomic_store(&d->history_files, s->totals.history);
            atomic_fetch_add(&d->history_removed, s->totals.removed);
            atomic_fetch_add(&d->history_removed_bytes, s->totals.removed_bytes);
            atomic_store(&d->history_swept_ms, oj_wall_ms());
            if (s->totals.removed > 0)
                LOG_INFO("history: removed %zu file(s), %llu bytes of logs, prompts and archives "
                         "past OJ_RETAIN_HISTORY or over OJ_HISTORY_MAX_SIZE; %zu file(s), %llu "
                         "bytes of history kept",
                         s->totals.removed,
                         (unsigned long long)s->totals.removed_bytes, s->totals.history,
                         (unsigned long long)s->totals.history_bytes);
            if (s->failed > 0)
                LOG_WARN("history: %zu file(s) could not be removed (permissions?)", s->failed);
        }
    }
    sweep_free(s);
}

void oj_history_tick(struct oj_daemon *d)
{
    int64_t now = oj_mono_ms();
    if (d->history_running || now < d->history_next_ms)
        return;
    int64_t every = d->cfg.retain_history_ms / 10;
    if (every <= 0 || every > OJ_HISTORY_SWEEP_MS)
        every = OJ_HISTORY_SWEEP_MS;
    d->history_next_ms = now + (every < 10000 ? 10000 : every);
    struct sweep *s = calloc(1, sizeof *s);
    if (s == NULL)
        return;
    snprintf(s->state_dir, sizeof s->state_dir, "%s", d->paths.state_dir);
    s->now_ms = oj_wall_ms();
    s->retain_ms = d->cfg.retain_history_ms;
    s->cap_bytes = d->cfg.history_max_bytes;
    const struct oj_state *state = oj_store_state(d->store);
    oj_state_each(state, "session", add_live, s);
    oj_state_each(state, "pipeline", add_live, s);
    if (s->oom) {
        sweep_free(s);
        return;
    }
    if (s->n_live > 1)
        qsort(s->live, s->n_live, sizeof *s->live, by_string);
    if (oj_engine_work(d, OJ_LANE_ALONE, OJ_WORK_LOW_PRIORITY, sweep_work, sweep_then, s) == 0) {
        sweep_free(s);
        return;
    }
    d->history_running = true;
}

void oj_history_stats(struct oj_daemon *d, struct oj_history_stats *st)
{
    st->bytes = atomic_load(&d->history_bytes);
    st->files = atomic_load(&d->history_files);
    st->removed = atomic_load(&d->history_removed);
    st->removed_bytes = atomic_load(&d->history_removed_bytes);
    st->last_sweep_ms = atomic_load(&d->history_swept_ms);
}
