/* rpc_cron.c — CronList, CronRun, CronSetEnabled (`oj cron`): find the job
 * in the runbooks, act through cron.c, say what happened. Jobs are defined
 * in the runbooks ("jobs") and run by the engine's tick when due (cron.c);
 * what the daemon keeps of each is its record (cron_job.h). */
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "rpc.h"
#include "rpc_table.h"
#include "cron.h"
#include "daemon.h"
#include "server.h"
#include "pipelines.h"

static const struct oj_job_def *find(struct oj_daemon *d, const char *name, void *call)
{
    const struct oj_job_def *j = oj_cron_find(d, name);
    if (j == NULL)
        oj_call_fail(call, OJ__STATUS_CODE__NOT_FOUND,
                     "no scheduled job '%s' in the runbooks; list them with `oj cron list`", name);
    return j;
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
    struct oj_cron_rec *recs = calloc(n + 1, sizeof *recs);
    if (infos && ptrs && targets && recs) {
        int64_t now = oj_wall_ms();
        for (size_t i = 0; i < n; i++) {
            const struct oj_job_def *j = &rb->jobs[i];
            const struct oj_cron_rec *r = oj_cron_record(d, j->name, &recs[i]) ? &recs[i] : NULL;
            oj__cron_info__init(&infos[i]);
            infos[i].name = j->name;
            infos[i].interval_ms = j->every_ms;
            infos[i].enabled = oj_cron_enabled(j, r);
            infos[i].last_run_ms = recs[i].last_run_ms;
            infos[i].next_run_ms = oj_cron_next_run(j, r, now);
            snprintf(targets[i], sizeof targets[i], "%s%.280s", j->pipeline ? "pipeline " : "",
                     j->pipeline ? j->pipeline : j->run);
            infos[i].target = targets[i];
            infos[i].last_result = recs[i].last_result;
            ptrs[i] = &infos[i];
        }
        Oj__CronListResponse out = OJ__CRON_LIST_RESPONSE__INIT;
        out.jobs = ptrs;
        out.n_jobs = n;
        done(&out, call);
    } else {
        OJ_FAIL(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    }
    free(infos);
    free(ptrs);
    free(targets);
    free(recs);
}

/* oj cron run, answered once the job has started (a pipeline job's start
 * asks git first). */
struct run_call {
    Oj__ActionResponse_Closure done;
    void *call;
    char name[128];
};

static void ran(struct oj_daemon *d, void *arg, int rc, const char *err)
{
    struct run_call *c = arg;
    struct oj_cron_rec r;
    if (d != NULL && rc != 0)
        OJ_FAIL(c->call, c->done, OJ__STATUS_CODE__CONFLICT, "%s", err);
    else if (d != NULL)
        oj_reply_action(c->call, c->done, c->name,
                        oj_cron_record(d, c->name, &r) ? r.last_result : "started");
    free(c);
}

static void rpc_run(Oj__Control_Service *svc, const Oj__CronRef *in,
                    Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const struct oj_job_def *j = find(d, in->name, call);
    if (j == NULL)
        OJ_FAILED_RETURN(call, done);
    if (atomic_load(&d->draining))
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__SHUTTING_DOWN, "the daemon is stopping");
    struct run_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    *c = (struct run_call){.done = done, .call = call};
    snprintf(c->name, sizeof c->name, "%s", j->name);
    char err[1024];
    if (oj_cron_run(d, j, ran, c, err, sizeof err) != 0) {
        free(c);
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__CONFLICT, "%s", err);
    }
}

static void rpc_set_enabled(Oj__Control_Service *svc, const Oj__CronSetEnabledRequest *in,
                            Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const struct oj_job_def *j = find(d, in->name, call);
    if (j == NULL)
        OJ_FAILED_RETURN(call, done);
    if (oj_cron_set_enabled(d, j, in->enabled) != 0)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "cannot record the change");
    oj_reply_action(call, done, j->name, in->enabled ? "enabled" : "disabled");
}

void oj_rpc_register_cron(Oj__Control_Service *svc)
{
    svc->cron_list = rpc_list;
    svc->cron_run = rpc_run;
    svc->cron_set_enabled = rpc_set_enabled;
}
