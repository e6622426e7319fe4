/* cron.c — see cron.h. */
#include "cron.h"

#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "pipeline.h"
#include "publisher.h"
#include "store.h"
#include "wire.pb-c.h"
#include "engine_runner.h"
#include "pipelines.h"

#define JOB_TIMEOUT_MS (60 * 60 * 1000) /* a command job gets an hour */

/* ---- the record ------------------------------------------------------------------------ */

bool oj_cron_record(struct oj_daemon *d, const char *name, struct oj_cron_rec *r)
{
    const cJSON *v = oj_state_get(oj_store_state(d->store), "cron", name);
    oj_cron_rec_from_json(v, r);
    return v != NULL;
}

/* Its record, or a new one first seen now. */
static struct oj_cron_rec record_or_new(struct oj_daemon *d, const char *name, int64_t now)
{
    struct oj_cron_rec r;
    if (!oj_cron_record(d, name, &r))
        r = oj_cron_rec_new(now);
    return r;
}

static bool put(struct oj_daemon *d, const char *name, const struct oj_cron_rec *r)
{
    char err[512];
    if (oj_store_commit(d->store, oj_op_put("cron", name, oj_cron_rec_to_json(r)), err,
                        sizeof err) == 0) {
        LOG_ERROR("cron %s: cannot record: %s", name, err);
        return false;
    }
    return true;
}

/* Whether the pipeline a pipeline job started last is still active (a new
 * one would pile up behind it). */
static bool last_pipeline_active(struct oj_daemon *d, const struct oj_job_def *j,
                                 const struct oj_cron_rec *r)
{
    if (j->pipeline == NULL || r->last_pipeline[0] == '\0')
        return false;
    const cJSON *p = oj_state_get(oj_store_state(d->store), "pipeline", r->last_pipeline);
    return p && oj_pipeline_active(p);
}

/* ---- running ---------------------------------------------------------------------------- */

static bool running(struct oj_daemon *d, const char *name)
{
    return oj_hmap_get(&d->cron_running, name) != NULL;
}

static void command_finished(struct oj_daemon *d, void *arg, int status, bool timed_out,
                             const char *tail)
{
    char *name = arg;
    oj_hmap_del(&d->cron_running, name);
    struct oj_cron_rec r = record_or_new(d, name, oj_wall_ms());
    oj_cron_result_text(r.last_result, sizeof r.last_result, status, timed_out, tail);
    put(d, name, &r);
    LOG_INFO("cron %s: %s (exit status %d)", name, r.last_result, status);
    oj_pub_phase_event(d->publisher, status || timed_out ? "cron.failed" : "cron.done", "", "", "",
                       name);
    free(name);
}

/* A job's log is appended per run: past OJ_JOB_LOG_MAX_BYTES it moves to
 * <name>.log.1 (the one before goes) before the next run, so a job that runs
 * every minute keeps at most twice that, not a log without end. */
#define OJ_JOB_LOG_MAX_BYTES (1024 * 1024)

static void rotate_job_log(const char *logp)
{
    struct stat st;
    if (stat(logp, &st) != 0 || st.st_size <= OJ_JOB_LOG_MAX_BYTES)
        return;
    char old[PATH_MAX + 320];
    snprintf(old, sizeof old, "%s.1", logp);
    if (rename(logp, old) != 0)
        LOG_WARN("cron: cannot move %s aside past %d bytes: %s", logp, OJ_JOB_LOG_MAX_BYTES,
                 strerror(errno));
}

static int start_command(struct oj_daemon *d, const struct oj_job_def *j, int64_t now, char *err,
                         size_t errlen)
{
    struct oj_cron_rec r = record_or_new(d, j->name, now);
    oj_cron_rec_ran(&r, now, "running");
    if (!put(d, j->name, &r)) {
        snprintf(err, errlen, "cannot record the run");
        return -1;
    }
    char dir[PATH_MAX + 16], logp[PATH_MAX + 300], env_project[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/cron", d->paths.log_dir);
    mkdir(dir, 0700);
    snprintf(logp, sizeof logp, "%s/%.200s.log", dir, j->name);
    rotate_job_log(logp);
    snprintf(env_project, sizeof env_project, "OJ_PROJECT=%s", d->paths.root);
    char *env[] = {env_project, NULL};
    char *name = strdup(j->name);
    bool oom = false;
    if (name)
        oj_hmap_put(&d->cron_running, j->name, (void *)1, &oom);
    struct oj_run_spec spec = {.command = j->run,
                               .cwd = d->paths.root,
                               .log_path = logp,
                               .env = env,
                               .timeout_ms = JOB_TIMEOUT_MS};
    if (name == NULL || oom || oj_runner_start(d, &spec, command_finished, name) != 0) {
        oj_hmap_del(&d->cron_running, j->name);
        free(name);
        snprintf(err, errlen, "cannot start a thread for the job");
        return -1;
    }
    LOG_INFO("cron %s: running `%s`", j->name, j->run);
    oj_pub_phase_event(d->publisher, "cron.started", "", "", "", j->name);
    return 0;
}

/* A pipeline job's start, while git is asked (oj_pipeline_start): the job
 * counts as running meanwhile, so it is not started twice. */
struct job_start {
    char name[128];
    int64_t now;
    oj_cron_ran ran;
    void *arg;
};

/* Records how the start went (as the job's last result). */
static void record_start(struct oj_daemon *d, const char *name, int64_t now, int code,
                         const char *id, const char *err)
{
    char result[300];
    if (code == 0)
        snprintf(result, sizeof result, "started pipeline %s", id);
    struct oj_cron_rec r = record_or_new(d, name, now);
    oj_cron_rec_ran(&r, now, code ? err : result);
    if (code == 0)
        snprintf(r.last_pipeline, sizeof r.last_pipeline, "%s", id);
    put(d, name, &r);
    LOG_INFO("cron %s: %s", name, r.last_result);
}

static void pipeline_started(struct oj_daemon *d, void *arg, int code, const char *id,
                             const char *err)
{
    struct job_start *s = arg;
    if (d != NULL) {
        oj_hmap_del(&d->cron_running, s->name);
        record_start(d, s->name, s->now, code, id, err);
    }
    if (s->ran)
        s->ran(d, s->arg, code ? -1 : 0, code ? err : "");
    free(s);
}

static int start_pipeline(struct oj_daemon *d, const struct oj_job_def *j, int64_t now,
                          oj_cron_ran ran, void *arg, char *err, size_t errlen)
{
    size_t n = (size_t)cJSON_GetArraySize(j->inputs);
    char **names = calloc(n + 1, sizeof *names), **values = calloc(n + 1, sizeof *values);
    struct job_start *s = calloc(1, sizeof *s);
    bool oom = names == NULL || values == NULL || s == NULL;
    if (!oom) {
        snprintf(s->name, sizeof s->name, "%s", j->name);
        s->now = now;
        s->ran = ran;
        s->arg = arg;
        oj_hmap_put(&d->cron_running, j->name, (void *)1, &oom);
    }
    int code = OJ__STATUS_CODE__INTERNAL;
    if (!oom) {
        size_t k = 0;
        for (const cJSON *i = j->inputs ? j->inputs->child : NULL; i; i = i->next, k++) {
            names[k] = i->string;
            values[k] = cJSON_IsString(i) ? i->valuestring : "";
        }
        code = oj_pipeline_start(d, j->pipeline, NULL, 0, names, values, k, NULL,
                                 pipeline_started, s, err, errlen);
    } else {
        snprintf(err, errlen, "daemon out of memory");
    }
    free(names);
    free(values);
    if (code == 0)
        return 0; /* pipeline_started records it */
    oj_hmap_del(&d->cron_running, j->name);
    free(s);
    record_start(d, j->name, now, code, "", err);
    return -1;
}

int oj_cron_run(struct oj_daemon *d, const struct oj_job_def *j, oj_cron_ran ran, void *arg,
                char *err, size_t errlen)
{
    int64_t now = oj_wall_ms();
    if (running(d, j->name)) {
        snprintf(err, errlen, "job %s is still running from its last start", j->name);
        return -1;
    }
    struct oj_cron_rec r;
    oj_cron_record(d, j->name, &r);
    if (last_pipeline_active(d, j, &r)) {
        snprintf(err, errlen, "job %s's last pipeline %s is still active; it starts no other",
                 j->name, r.last_pipeline);
        return -1;
    }
    if (j->pipeline)
        return start_pipeline(d, j, now, ran, arg, err, errlen);
    if (start_command(d, j, now, err, errlen) != 0)
        return -1;
    if (ran)
        ran(d, arg, 0, "");
    return 0;
}

/* ---- the tick --------------------------------------------------------------------------- */

static void tick_one(struct oj_daemon *d, const struct oj_job_def *j, int64_t now)
{
    struct oj_cron_rec r;
    bool known = oj_cron_record(d, j->name, &r);
    bool busy = known && last_pipeline_active(d, j, &r);
    char err[1024];
    switch (oj_cron_turn(j, known ? &r : NULL, now, running(d, j->name), busy)) {
    case OJ_CRON_FIRST_SIGHT: /* the interval counts from now */
        r = oj_cron_rec_new(now);
        put(d, j->name, &r);
        return;
    case OJ_CRON_WAIT:
        return;
    case OJ_CRON_SKIP: { /* skip this turn; the next comes an interval later */
        char why[200];
        snprintf(why, sizeof why, "skipped: pipeline %s still active", r.last_pipeline);
        oj_cron_rec_ran(&r, now, why);
        LOG_INFO("cron %s: %s", j->name, why);
        put(d, j->name, &r);
        return;
    }
    case OJ_CRON_RUN:
        if (oj_cron_run(d, j, NULL, NULL, err, sizeof err) != 0)
            LOG_WARN("cron %s: %s", j->name, err);
        return;
    }
}

void oj_cron_tick(struct oj_daemon *d)
{
    if (atomic_load(&d->draining))
        return;
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    int64_t now = oj_wall_ms();
    for (int i = 0; rb && i < rb->n_jobs; i++)
        tick_one(d, &rb->jobs[i], now);
}

/* ---- oj cron ---------------------------------------------------------------------------- */

const struct oj_job_def *oj_cron_find(struct oj_daemon *d, const char *name)
{
    oj_runbooks_refresh(d);
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    for (int i = 0; rb && i < rb->n_jobs; i++)
        if (strcmp(rb->jobs[i].name, name) == 0)
            return &rb->jobs[i];
    return NULL;
}

int oj_cron_set_enabled(struct oj_daemon *d, const struct oj_job_def *j, bool on)
{
    struct oj_cron_rec r = record_or_new(d, j->name, oj_wall_ms());
    r.enabled = on ? OJ_CRON_ON : OJ_CRON_OFF;
    return put(d, j->name, &r) ? 0 : -1;
}

void oj_cron_forget(struct oj_daemon *d)
{
    oj_hmap_free(&d->cron_running); /* values are flags, not allocations */
}
