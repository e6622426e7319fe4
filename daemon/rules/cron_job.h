/* cron_job.h — a scheduled job's record and the rules of when it runs, as
 * pure functions: no clock, no I/O. cron.c gathers the facts (now, whether
 * its command still runs, whether its last pipeline is active) and acts.
 *
 * A job is defined in a runbook (struct oj_job_def); what the daemon keeps
 * of it is its record, entity "cron"/<name> (docs/storage.md):
 *   {"first_seen_ms":…,"last_run_ms":…,"last_result":"…","last_pipeline":"…",
 *    "enabled":false}
 * first_seen_ms always; the others only once set (last_run_ms absent before
 * the first run, enabled only when an operator set it, and then it wins over
 * the runbook's). A job is due `every` after its last run, or after the
 * daemon first saw it. */
#ifndef OJ_CRON_JOB_H
#define OJ_CRON_JOB_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runbook.h"

enum oj_cron_switch {
    OJ_CRON_AS_RUNBOOK, /* no operator setting: the runbook's enabled holds */
    OJ_CRON_ON,         /* oj cron enable */
    OJ_CRON_OFF,        /* oj cron disable */
};

struct oj_cron_rec {
    int64_t first_seen_ms;
    int64_t last_run_ms;    /* 0: never ran */
    char last_result[1024]; /* "" before the first result */
    char last_pipeline[16]; /* the pipeline a pipeline job started last, or "" */
    enum oj_cron_switch enabled;
};

/* Reads a record; a member that is missing or of the wrong type reads as
 * unset (0, "", as the runbook says). */
void oj_cron_rec_from_json(const cJSON *v, struct oj_cron_rec *r);
/* The record as stored: only the members that are set (see above). */
cJSON *oj_cron_rec_to_json(const struct oj_cron_rec *r);

/* A job first seen now: its interval counts from now. */
struct oj_cron_rec oj_cron_rec_new(int64_t now_ms);
/* A run started now with this result so far ("running", "started pipeline
 * …", why it could not, "skipped: …"). */
void oj_cron_rec_ran(struct oj_cron_rec *r, int64_t now_ms, const char *result);
/* A command job's end, as its last_result: "ok", "failed" or "timed out",
 * then ": " and its output's last line when there is one. */
void oj_cron_result_text(char *buf, size_t len, int exit_status, bool timed_out,
                         const char *tail);

/* Whether the job runs on its schedule: the operator's setting, else the
 * runbook's (r NULL: no record yet). */
bool oj_cron_enabled(const struct oj_job_def *j, const struct oj_cron_rec *r);
/* When it is due next (r NULL: no record yet, so an interval from now). */
int64_t oj_cron_next_run(const struct oj_job_def *j, const struct oj_cron_rec *r,
                         int64_t now_ms);

/* What the tick does with a job now. */
enum oj_cron_turn {
    OJ_CRON_FIRST_SIGHT, /* no record yet: make one; the interval counts from now */
    OJ_CRON_WAIT,        /* disabled, not due yet, or its command still runs */
    OJ_CRON_SKIP,        /* due, but the pipeline it started last is still active: skip
                          * this turn (recorded as a run; the next comes an interval later) */
    OJ_CRON_RUN,
};
/* r NULL: no record yet. running: its command runs now; last_pipeline_active:
 * the pipeline in r->last_pipeline is still active (pipeline jobs only). */
enum oj_cron_turn oj_cron_turn(const struct oj_job_def *j, const struct oj_cron_rec *r,
                               int64_t now_ms, bool running, bool last_pipeline_active);
#endif
