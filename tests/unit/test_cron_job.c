/* A scheduled job's record and when it runs: the codec of struct oj_cron_rec
 * (the stored form unchanged) and the pure rules, without a daemon. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cron_job.h"

static struct oj_job_def command_job(int64_t every_ms, bool enabled)
{
    return (struct oj_job_def){.name = "tick", .every_ms = every_ms, .run = "echo tick",
                               .enabled = enabled};
}

static struct oj_job_def pipeline_job(int64_t every_ms)
{
    return (struct oj_job_def){.name = "nightly", .every_ms = every_ms, .pipeline = "build",
                               .enabled = true};
}

/* The stored text of r. */
static char *stored(const struct oj_cron_rec *r)
{
    cJSON *j = oj_cron_rec_to_json(r);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

Test(cron_rules, a_new_job_stores_only_when_it_was_first_seen)
{
    struct oj_cron_rec r = oj_cron_rec_new(1700000000000);
    char *text = stored(&r);
    cr_expect_str_eq(text, "{\"first_seen_ms\":1700000000000}",
                     "no last run, result or setting before there is one");
    cJSON_free(text);
}

Test(cron_rules, a_record_goes_to_json_and_back)
{
    struct oj_cron_rec r = oj_cron_rec_new(1000);
    oj_cron_rec_ran(&r, 5000, "started pipeline p0a1b2c");
    strcpy(r.last_pipeline, "p0a1b2c");
    r.enabled = OJ_CRON_OFF;
    char *text = stored(&r);
    cr_expect_str_eq(text, "{\"first_seen_ms\":1000,\"last_run_ms\":5000,"
                           "\"last_result\":\"started pipeline p0a1b2c\","
                           "\"last_pipeline\":\"p0a1b2c\",\"enabled\":false}");
    cJSON *j = cJSON_Parse(text);
    struct oj_cron_rec back;
    oj_cron_rec_from_json(j, &back);
    cr_expect(memcmp(&back, &r, sizeof r) == 0, "the same record comes back");
    cJSON_Delete(j);
    cJSON_free(text);
}

Test(cron_rules, records_written_by_older_daemons_load)
{
    /* What an older daemon wrote, members in the order its edits left them. */
    cJSON *j = cJSON_Parse("{\"first_seen_ms\":1000,\"enabled\":true,\"last_run_ms\":9000,"
                           "\"last_result\":\"ok: done\"}");
    struct oj_cron_rec r;
    oj_cron_rec_from_json(j, &r);
    cr_expect_eq(r.first_seen_ms, 1000);
    cr_expect_eq(r.last_run_ms, 9000);
    cr_expect_str_eq(r.last_result, "ok: done");
    cr_expect_str_eq(r.last_pipeline, "");
    cr_expect_eq(r.enabled, OJ_CRON_ON);
    cJSON_Delete(j);
    /* Odd members read as unset, as they always did. */
    j = cJSON_Parse("{\"first_seen_ms\":\"soon\",\"enabled\":\"no\",\"last_result\":3}");
    oj_cron_rec_from_json(j, &r);
    cr_expect_eq(r.first_seen_ms, 0);
    cr_expect_eq(r.enabled, OJ_CRON_AS_RUNBOOK, "only true or false is an operator's setting");
    cr_expect_str_eq(r.last_result, "");
    cJSON_Delete(j);
}

Test(cron_rules, the_operators_setting_wins_over_the_runbook)
{
    struct oj_job_def on = command_job(1000, true), off = command_job(1000, false);
    struct oj_cron_rec r = oj_cron_rec_new(0);
    cr_expect(oj_cron_enabled(&on, NULL), "no record: as the runbook says");
    cr_expect_not(oj_cron_enabled(&off, NULL));
    cr_expect(oj_cron_enabled(&on, &r), "no setting: as the runbook says");
    r.enabled = OJ_CRON_OFF;
    cr_expect_not(oj_cron_enabled(&on, &r), "oj cron disable wins");
    r.enabled = OJ_CRON_ON;
    cr_expect(oj_cron_enabled(&off, &r), "oj cron enable wins");
}

Test(cron_rules, due_an_interval_after_the_last_run_or_first_sight)
{
    struct oj_job_def j = command_job(60000, true);
    struct oj_cron_rec r = oj_cron_rec_new(1000);
    cr_expect_eq(oj_cron_next_run(&j, &r, 5000), 61000, "never ran: from first sight");
    oj_cron_rec_ran(&r, 70000, "running");
    cr_expect_eq(oj_cron_next_run(&j, &r, 80000), 130000, "from its last run");
    cr_expect_eq(oj_cron_next_run(&j, NULL, 80000), 140000, "no record: an interval from now");
}

Test(cron_rules, what_the_tick_does_with_a_job)
{
    struct oj_job_def j = command_job(60000, true);
    cr_expect_eq(oj_cron_turn(&j, NULL, 0, false, false), OJ_CRON_FIRST_SIGHT);
    struct oj_cron_rec r = oj_cron_rec_new(1000);
    cr_expect_eq(oj_cron_turn(&j, &r, 60999, false, false), OJ_CRON_WAIT, "not due yet");
    cr_expect_eq(oj_cron_turn(&j, &r, 61000, false, false), OJ_CRON_RUN, "due");
    cr_expect_eq(oj_cron_turn(&j, &r, 61000, true, false), OJ_CRON_WAIT,
                 "never two runs of one job at once");
    cr_expect_eq(oj_cron_turn(&j, &r, 61000, false, true), OJ_CRON_RUN,
                 "a command job has no pipeline to wait for");
    r.enabled = OJ_CRON_OFF;
    cr_expect_eq(oj_cron_turn(&j, &r, 999999, false, false), OJ_CRON_WAIT, "disabled");
}

Test(cron_rules, a_pipeline_job_skips_its_turn_while_its_last_pipeline_runs)
{
    struct oj_job_def j = pipeline_job(1000);
    struct oj_cron_rec r = oj_cron_rec_new(0);
    cr_expect_eq(oj_cron_turn(&j, &r, 1000, false, true), OJ_CRON_SKIP);
    cr_expect_eq(oj_cron_turn(&j, &r, 1000, false, false), OJ_CRON_RUN);
    cr_expect_eq(oj_cron_turn(&j, &r, 999, false, true), OJ_CRON_WAIT, "not due: no skip");
}

Test(cron_rules, a_command_jobs_result_names_how_it_ended)
{
    char buf[700];
    oj_cron_result_text(buf, sizeof buf, 0, false, "");
    cr_expect_str_eq(buf, "ok");
    oj_cron_result_text(buf, sizeof buf, 0, false, "42 files");
    cr_expect_str_eq(buf, "ok: 42 files");
    oj_cron_result_text(buf, sizeof buf, 2, false, "no such file");
    cr_expect_str_eq(buf, "failed: no such file");
    oj_cron_result_text(buf, sizeof buf, 0, true, "still going");
    cr_expect_str_eq(buf, "timed out: still going", "a time limit wins over a status");
}
