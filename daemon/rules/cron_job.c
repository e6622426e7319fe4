/* cron_job.c — see cron_job.h. */
#include "cron_job.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

void oj_cron_rec_from_json(const cJSON *v, struct oj_cron_rec *r)
{
    memset(r, 0, sizeof *r);
    r->first_seen_ms = oj_json_int(v, "first_seen_ms");
    r->last_run_ms = oj_json_int(v, "last_run_ms");
    snprintf(r->last_result, sizeof r->last_result, "%s", oj_json_str(v, "last_result"));
    snprintf(r->last_pipeline, sizeof r->last_pipeline, "%s", oj_json_str(v, "last_pipeline"));
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, "enabled");
    if (cJSON_IsBool(e))
        r->enabled = cJSON_IsTrue(e) ? OJ_CRON_ON : OJ_CRON_OFF;
}

cJSON *oj_cron_rec_to_json(const struct oj_cron_rec *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "first_seen_ms", (double)r->first_seen_ms);
    if (r->last_run_ms)
        cJSON_AddNumberToObject(o, "last_run_ms", (double)r->last_run_ms);
    if (r->last_result[0])
        cJSON_AddStringToObject(o, "last_result", r->last_result);
    if (r->last_pipeline[0])
        cJSON_AddStringToObject(o, "last_pipeline", r->last_pipeline);
    if (r->enabled != OJ_CRON_AS_RUNBOOK)
        cJSON_AddBoolToObject(o, "enabled", r->enabled == OJ_CRON_ON);
    return o;
}

struct oj_cron_rec oj_cron_rec_new(int64_t now_ms)
{
    return (struct oj_cron_rec){.first_seen_ms = now_ms};
}

void oj_cron_rec_ran(struct oj_cron_rec *r, int64_t now_ms, const char *result)
{
    r->last_run_ms = now_ms;
    snprintf(r->last_result, sizeof r->last_result, "%s", result);
}

void oj_cron_result_text(char *buf, size_t len, int exit_status, bool timed_out,
                         const char *tail)
{
    snprintf(buf, len, "%s%s%s", timed_out ? "timed out" : exit_status ? "failed" : "ok",
             tail[0] ? ": " : "", tail);
}

bool oj_cron_enabled(const struct oj_job_def *j, const struct oj_cron_rec *r)
{
    if (r && r->enabled != OJ_CRON_AS_RUNBOOK)
        return r->enabled == OJ_CRON_ON;
    return j->enabled;
}

int64_t oj_cron_next_run(const struct oj_job_def *j, const struct oj_cron_rec *r,
                         int64_t now_ms)
{
    if (r == NULL)
        return now_ms + j->every_ms;
    int64_t last = r->last_run_ms > r->first_seen_ms ? r->last_run_ms : r->first_seen_ms;
    return last + j->every_ms;
}

enum oj_cron_turn oj_cron_turn(const struct oj_job_def *j, const struct oj_cron_rec *r,
                               int64_t now_ms, bool running, bool last_pipeline_active)
{
    if (r == NULL)
        return OJ_CRON_FIRST_SIGHT;
    if (!oj_cron_enabled(j, r) || now_ms < oj_cron_next_run(j, r, now_ms) || running)
        return OJ_CRON_WAIT;
    if (j->pipeline && last_pipeline_active)
        return OJ_CRON_SKIP;
    return OJ_CRON_RUN;
}
