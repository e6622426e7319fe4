/* rpc_cron.c — scheduled jobs: defined in the runbooks ("jobs"), run by the
 * engine's tick when due, listed and steered with `oj cron`. A job's state
 * ("cron"/<name>) holds first_seen_ms, last_run_ms, last_result and, when an
 * operator set it, enabled (which then wins over the runbook's).
 *
 * A job is due `every` after its last run (or after the daemon first saw it).
 * A command job runs like a shell step (runner.c) in the project root, its
 * output in .oj/logs/cron/<name>.log, never twice at once; a pipeline job
 * starts that pipeline with the job's inputs, and skips its turn while the
 * pipeline it started last is still active (last_pipeline). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "pipeline.h"
#include "publisher.h"
#include "server.h"
#include "store.h"

#define JOB_TIMEOUT_MS (60 * 60 * 1000) /* a command job gets an hour */

static const cJSON *record(struct oj_daemon *d, const char *name)
{
    return oj_state_get(oj_store_state(d->store), "cron", name);
}

static bool enabled(const struct oj_job_def *j, const cJSON *rec)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(rec, "enabled");
    return cJSON_IsBool(e) ? cJSON_IsTrue(e) : j->enabled;
}

static int64_t next_run(const struct oj_job_def *j, const cJSON *rec)
{
    int64_t last = oj_json_int(rec, "last_run_ms"), seen = oj_json_int(rec, "first_seen_ms");
    return (last > seen ? last : seen) + j->every_ms;
}

static bool put(struct oj_daemon *d, const char *name, cJSON *v)
{
    char err[512];
    if (oj_store_commit(d->store, oj_op_put("cron", name, v), err, sizeof err) == 0) {
        LOG_ERROR("cron %s: cannot record: %s", name, err);
        return false;
    }
    return true;
}

static cJSON *copy_or_new(struct oj_daemon *d, const char *name, int64_t now)
{
    const cJSON *rec = record(d, name);
    if (rec)
        return cJSON_Duplicate(rec, 1);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "first_seen_ms", (double)now);
    return o;
}

static void running_key(const char *name, char *key, size_t len)
{
    snprintf(key, len, "cron:%s", name);
}

static void job_finished(struct oj_daemon *d, void *arg, int status, bool timed_out,
                         const char *tail)
{
    char *name = arg, key[200], result[700];
    running_key(name, key, sizeof key);
    oj_hmap_del(&d->pipeline_shells, key);
    snprintf(result, sizeof result, "%s%s%s", timed_out ? "timed out" : status ? "failed" : "ok",
             tail[0] ? ": " : "", tail);
    cJSON *v = copy_or_new(d, name, oj_wall_ms());
    oj_json_set_str(v, "last_result", result);
    put(d, name, v);
    LOG_INFO("cron %s: %s (exit status %d)", name, result, status);
    oj_pub_phase_event(d->publisher, status || timed_out ? "cron.failed" : "cron.done", "", "", "",
                       name);
    free(name);
}

/* Runs job j now. 0, or -1 with err. */
/* The pipeline a pipeline job started last, when it is still active (a new
 * one would pile up behind it); NULL otherwise. */
static const char *still_active(struct oj_daemon *d, const struct oj_job_def *j)
{
    const char *last = oj_json_str(record(d, j->name), "last_pipeline");
    const cJSON *p = last[0] ? oj_state_get(oj_store_state(d->store), "pipeline", last) : NULL;
    return p && oj_pipeline_active(p) ? last : NULL;
}

static int run_job(struct oj_daemon *d, const struct oj_job_def *j, char *err, size_t errlen)
{
    int64_t now = oj_wall_ms();
    char key[200];
    running_key(j->name, key, sizeof key);
    if (oj_hmap_get(&d->pipeline_shells, key)) {
        snprintf(err, errlen, "job %s is still running from its last start", j->name);
        return -1;
    }
    char result[300] = "running";
    const char *busy = j->pipeline ? still_active(d, j) : NULL;
    if (busy) {
        snprintf(err, errlen, "job %s's last pipeline %s is still active; it starts no other",
                 j->name, busy);
        return -1;
    }
    if (j->pipeline) {
        size_t n = (size_t)cJSON_GetArraySize(j->inputs);
        char **names = calloc(n + 1, sizeof *names), **values = calloc(n + 1, sizeof *values);
        size_t k = 0;
        for (const cJSON *i = j->inputs ? j->inputs->child : NULL; i; i = i->next, k++) {
            names[k] = i->string;
            values[k] = cJSON_IsString(i) ? i->valuestring : "";
        }
        char id[16];
        int code;
        int rc = oj_pipeline_start(d, j->pipeline, NULL, 0, names, values, k, id, sizeof id, &code,
                                   err, errlen);
        free(names);
        free(values);
        if (rc != 0)
            snprintf(result, sizeof result, "failed to start pipeline %s", j->pipeline);
        else
            snprintf(result, sizeof result, "started pipeline %s", id);
        cJSON *v = copy_or_new(d, j->name, now);
        oj_json_set_num(v, "last_run_ms", (double)now);
        oj_json_set_str(v, "last_result", rc ? err : result);
        if (rc == 0)
            oj_json_set_str(v, "last_pipeline", id);
        put(d, j->name, v);
        LOG_INFO("cron %s: %s", j->name, rc ? err : result);
        return rc;
    }
    cJSON *v = copy_or_new(d, j->name, now);
    oj_json_set_num(v, "last_run_ms", (double)now);
    oj_json_set_str(v, "last_result", result);
    if (!put(d, j->name, v)) {
        snprintf(err, errlen, "cannot record the run");
        return -1;
    }
    char dir[PATH_MAX + 16], logp[PATH_MAX + 300], env_project[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/cron", d->paths.log_dir);
    mkdir(dir, 0700);
    snprintf(logp, sizeof logp, "%s/%.200s.log", dir, j->name);
    snprintf(env_project, sizeof env_project, "OJ_PROJECT=%s", d->paths.root);
    char *env[] = {env_project, NULL};
    char *name = strdup(j->name);
    bool oom = false;
    oj_hmap_put(&d->pipeline_shells, key, (void *)1, &oom);
    struct oj_run_spec spec = {.command = j->run,
                               .cwd = d->paths.root,
                               .log_path = logp,
                               .env = env,
                               .timeout_ms = JOB_TIMEOUT_MS};
    if (oj_runner_start(d, &spec, job_finished, name) != 0) {
        oj_hmap_del(&d->pipeline_shells, key);
        free(name);
        snprintf(err, errlen, "cannot start a thread for the job");
        return -1;
    }
    LOG_INFO("cron %s: running `%s`", j->name, j->run);
    oj_pub_phase_event(d->publisher, "cron.started", "", "", "", j->name);
    return 0;
}

void oj_cron_tick(struct oj_daemon *d)
{
    if (atomic_load(&d->draining))
        return;
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    int64_t now = oj_wall_ms();
    for (int i = 0; rb && i < rb->n_jobs; i++) {
        const struct oj_job_def *j = &rb->jobs[i];
        const cJSON *rec = record(d, j->name);
        if (rec == NULL) { /* first sight: the interval counts from now */
            put(d, j->name, copy_or_new(d, j->name, now));
            continue;
        }
        char key[200], err[1024];
        running_key(j->name, key, sizeof key);
        if (!enabled(j, rec) || now < next_run(j, rec) || oj_hmap_get(&d->pipeline_shells, key))
            continue;
        const char *busy = j->pipeline ? still_active(d, j) : NULL;
        if (busy) { /* skip this turn; the next comes an interval later */
            char why[200];
            snprintf(why, sizeof why, "skipped: pipeline %s still active", busy);
            cJSON *v = copy_or_new(d, j->name, now);
            oj_json_set_num(v, "last_run_ms", (double)now);
            oj_json_set_str(v, "last_result", why);
            LOG_INFO("cron %s: %s", j->name, why);
            put(d, j->name, v);
            continue;
        }
        if (run_job(d, j, err, sizeof err) != 0)
            LOG_WARN("cron %s: %s", j->name, err);
    }
}

static const struct oj_job_def *find(struct oj_daemon *d, const char *name, void *call)
{
    oj_runbooks_refresh(d);
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    for (int i = 0; rb && i < rb->n_jobs; i++)
        if (strcmp(rb->jobs[i].name, name) == 0)
            return &rb->jobs[i];
    oj_call_fail(call, OJ__STATUS_CODE__NOT_FOUND,
                 "no scheduled job '%s' in the runbooks; list them with `oj cron list`", name);
    return NULL;
}

static void rpc_list(Oj__Control_Service *svc, const Oj__CronListRequest *in,
                     Oj__CronListResponse_Closure done, void *call)
{
    (void)in;
    struct oj_daemon *d = oj_daemon_of(svc);
    oj_runbooks_refresh(d);
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    size_t n = rb ? (size_t)rb->n_jobs : 0;
    Oj__CronInfo *infos = calloc(n + 1, sizeof *infos);
    Oj__CronInfo **ptrs = calloc(n + 1, sizeof *ptrs);
    char (*targets)[300] = calloc(n + 1, sizeof *targets);
    for (size_t i = 0; i < n; i++) {
        const struct oj_job_def *j = &rb->jobs[i];
        const cJSON *rec = record(d, j->name);
        oj__cron_info__init(&infos[i]);
        infos[i].name = j->name;
        infos[i].interval_ms = j->every_ms;
        infos[i].enabled = enabled(j, rec);
        infos[i].last_run_ms = oj_json_int(rec, "last_run_ms");
        infos[i].next_run_ms = rec ? next_run(j, rec) : oj_wall_ms() + j->every_ms;
        snprintf(targets[i], sizeof targets[i], "%s%.280s", j->pipeline ? "pipeline " : "",
                 j->pipeline ? j->pipeline : j->run);
        infos[i].target = targets[i];
        infos[i].last_result = (char *)oj_json_str(rec, "last_result");
        ptrs[i] = &infos[i];
    }
    Oj__CronListResponse out = OJ__CRON_LIST_RESPONSE__INIT;
    out.jobs = ptrs;
    out.n_jobs = n;
    done(&out, call);
    free(infos);
    free(ptrs);
    free(targets);
}

static void reply(void *call, Oj__ActionResponse_Closure done, const char *name, const char *msg)
{
    Oj__ActionResponse out = OJ__ACTION_RESPONSE__INIT;
    out.id = (char *)name;
    out.message = (char *)msg;
    done(&out, call);
}

static void rpc_run(Oj__Control_Service *svc, const Oj__CronRef *in,
                    Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const struct oj_job_def *j = find(d, in->name, call);
    if (j == NULL) {
        done(NULL, call);
        return;
    }
    if (atomic_load(&d->draining)) {
        oj_call_fail(call, OJ__STATUS_CODE__SHUTTING_DOWN, "the daemon is stopping");
        done(NULL, call);
        return;
    }
    char err[1024], name[128];
    snprintf(name, sizeof name, "%s", j->name);
    if (run_job(d, j, err, sizeof err) != 0) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT, "%s", err);
        done(NULL, call);
        return;
    }
    const cJSON *rec = record(d, name);
    reply(call, done, name, rec ? oj_json_str(rec, "last_result") : "started");
}

static void rpc_set_enabled(Oj__Control_Service *svc, const Oj__CronSetEnabledRequest *in,
                            Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const struct oj_job_def *j = find(d, in->name, call);
    if (j == NULL) {
        done(NULL, call);
        return;
    }
    cJSON *v = copy_or_new(d, j->name, oj_wall_ms());
    cJSON_DeleteItemFromObjectCaseSensitive(v, "enabled");
    cJSON_AddBoolToObject(v, "enabled", in->enabled);
    if (!put(d, j->name, v)) {
        oj_call_fail(call, OJ__STATUS_CODE__INTERNAL, "cannot record the change");
        done(NULL, call);
        return;
    }
    reply(call, done, j->name, in->enabled ? "enabled" : "disabled");
}

void oj_rpc_register_cron(Oj__Control_Service *svc)
{
    svc->cron_list = rpc_list;
    svc->cron_run = rpc_run;
    svc->cron_set_enabled = rpc_set_enabled;
}
