/* The pipeline record's codec: records the daemon wrote before the codec
 * existed (taken from real WALs) read and write back unchanged, a new record
 * has the members every reader expects, and damaged members read as empty. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_record.h"

/* From the WAL of `make demo` (seq 36): a build pipeline after its merge. */
static const char *const FINISHED =
    "{\"name\":\"build\",\"inputs\":{\"name\":\"auth\",\"prompt\":\"add authentication\"},"
    "\"workspace\":\"/tmp/oj-demo.B1Sicm/repo/.oj/workspaces/build-p0f421c\","
    "\"branch\":\"oj/build-p0f421c\",\"created_at_ms\":1796646921938,\"state\":\"done\","
    "\"recovery\":[],\"checkpoints\":[{\"time_ms\":1796646922300,\"phase\":\"implement\","
    "\"message\":\"committed work/p0f421c.md\"}],\"last_error\":\"\","
    "\"updated_at_ms\":1796646924765,\"phase\":\"merge\",\"step\":\"over\",\"session_id\":\"\","
    "\"waiting_for_lock\":\"\",\"attempt\":1,\"restarts\":0,\"stuck_index\":0,"
    "\"last_step_ms\":0,\"phase_started_ms\":1796646922606,\"run_started_ms\":0,"
    "\"waiting_since_ms\":0,\"step_started_ms\":1796646924746,\"release_session\":\"\","
    "\"release_at_ms\":1796646924606,\"done_session\":\"s2c9456\",\"done_error\":\"\","
    "\"done_reply\":\"phase implement done; pipeline p0f421c is now waiting in phase merge\","
    "\"lock_held\":\"\",\"finished_at_ms\":1796646924765}";

/* The demo again (seq 50): an agent escalated after its recovery chain. */
static const char *const ESCALATED =
    "{\"name\":\"review\",\"inputs\":{\"name\":\"auth\"},"
    "\"workspace\":\"/tmp/oj-demo.B1Sicm/repo/.oj/workspaces/review-p58ad72\","
    "\"branch\":\"oj/review-p58ad72\",\"created_at_ms\":1796646925076,\"state\":\"escalated\","
    "\"recovery\":[{\"time_ms\":1796646928688,\"action\":\"escalate\",\"detail\":\"session "
    "s889055 quiet for 3s; recovery steps did not help\"}],\"checkpoints\":[],"
    "\"last_error\":\"\",\"updated_at_ms\":1796646928688,\"phase\":\"review\",\"step\":\"agent\","
    "\"session_id\":\"s889055\",\"waiting_for_lock\":\"\",\"attempt\":1,\"restarts\":0,"
    "\"stuck_index\":0,\"last_step_ms\":1796646928688,\"phase_started_ms\":1796646925076,"
    "\"run_started_ms\":1796646925115,\"waiting_since_ms\":0,"
    "\"step_started_ms\":1796646925115}";

/* From an e2e run: `oj done` while no runbook loaded (step decide). */
static const char *const DECIDE =
    "{\"name\":\"two\",\"inputs\":{},\"workspace\":\"/tmp/ojt.eLY3mz/.oj/workspaces/two-p7761ca\","
    "\"branch\":\"oj/two-p7761ca\",\"created_at_ms\":1796647095505,\"state\":\"running\","
    "\"recovery\":[],\"checkpoints\":[],\"last_error\":\"\",\"updated_at_ms\":1796647095603,"
    "\"phase\":\"talk\",\"step\":\"decide\",\"session_id\":\"\",\"waiting_for_lock\":\"\","
    "\"attempt\":1,\"restarts\":0,\"stuck_index\":0,\"last_step_ms\":0,"
    "\"phase_started_ms\":1796647095505,\"run_started_ms\":1796647095541,"
    "\"waiting_since_ms\":0,\"step_started_ms\":1796647095541,\"release_session\":\"see820f\","
    "\"release_at_ms\":1796647097603,\"decide_why\":\"\",\"decide_ok\":true,"
    "\"done_session\":\"see820f\",\"done_error\":\"\",\"done_reply\":\"phase talk done; no "
    "runbook loads (see oj status), so pipeline p7761ca goes on once one does\"}";

/* From an e2e run: an operator's nudge and restart. */
static const char *const RESTARTED =
    "{\"name\":\"walk\",\"inputs\":{\"name\":\"one\"},"
    "\"workspace\":\"/tmp/ojt.wW8383/.oj/workspaces/walk-p6fccc9\",\"branch\":\"oj/walk-p6fccc9\","
    "\"created_at_ms\":1796647134853,\"state\":\"running\",\"recovery\":[{\"time_ms\":"
    "1796647134918,\"action\":\"nudge\",\"detail\":\"by the operator, session saa288d\"},"
    "{\"time_ms\":1796647135047,\"action\":\"restart\",\"detail\":\"by the operator\"}],"
    "\"checkpoints\":[],\"last_error\":\"\",\"updated_at_ms\":1796647135047,\"phase\":\"work\","
    "\"step\":\"pending\",\"session_id\":\"\",\"waiting_for_lock\":\"\",\"attempt\":1,"
    "\"restarts\":0,\"stuck_index\":0,\"last_step_ms\":1796647135047,"
    "\"phase_started_ms\":1796647135047,\"run_started_ms\":0,\"waiting_since_ms\":0,"
    "\"step_started_ms\":1796647134876}";

/* From an e2e run: a graceful stop released the phase's lock. The old code
 * appended lock_held when the lock was first taken, before step_started_ms. */
static const char *const RELOCK =
    "{\"name\":\"review\",\"inputs\":{\"name\":\"b\"},"
    "\"workspace\":\"/tmp/ojt.DNsQYk/.oj/workspaces/review-p990b83\","
    "\"branch\":\"oj/review-p990b83\",\"created_at_ms\":1796647105100,\"state\":\"running\","
    "\"recovery\":[],\"checkpoints\":[],\"last_error\":\"\",\"updated_at_ms\":1796647105185,"
    "\"phase\":\"review\",\"step\":\"agent\",\"session_id\":\"sc95cfa\","
    "\"waiting_for_lock\":\"\",\"attempt\":1,\"restarts\":0,\"stuck_index\":0,"
    "\"last_step_ms\":0,\"phase_started_ms\":1796647105100,\"run_started_ms\":1796647105133,"
    "\"waiting_since_ms\":0,\"lock_held\":\"\",\"step_started_ms\":1796647105133,"
    "\"relock\":\"merge-lock\"}";

static void decode(const char *text, struct oj_pipeline *p)
{
    cJSON *v = cJSON_Parse(text);
    cr_assert_not_null(v, "test record does not parse");
    cr_assert_eq(oj_pipeline_from_json(v, p), 0);
    cJSON_Delete(v);
}

/* p as the WAL would hold it (caller frees). */
static char *encode(const struct oj_pipeline *p)
{
    cJSON *v = oj_pipeline_to_json(p);
    cr_assert_not_null(v);
    char *s = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    return s;
}

/* text as cJSON prints it (the WAL's own bytes for these records). */
static char *canonical(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    char *s = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    return s;
}

static void expect_same_bytes(const char *text)
{
    struct oj_pipeline p;
    decode(text, &p);
    char *was = canonical(text), *is = encode(&p);
    cr_expect_str_eq(is, was);
    free(was);
    free(is);
    oj_pipeline_free(&p);
}

static bool has(const cJSON *v, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(v, name) != NULL;
}

Test(pipeline_record, a_record_the_old_code_wrote_reads_as_it_was_meant)
{
    struct oj_pipeline p;
    decode(FINISHED, &p);
    cr_expect_str_eq(p.name, "build");
    cr_assert_eq(p.n_inputs, 2);
    cr_expect_str_eq(p.inputs[0].name, "name");
    cr_expect_str_eq(p.inputs[1].value, "add authentication");
    cr_expect_str_eq(oj_pipeline_input(&p, "prompt"), "add authentication");
    cr_expect_null(oj_pipeline_input(&p, "nothing"));
    cr_expect_eq(p.state, OJ_PIPELINE_DONE);
    cr_expect_eq(p.step, OJ_STEP_OVER);
    cr_expect_str_eq(p.phase, "merge");
    cr_expect_eq(p.attempt, 1);
    cr_expect_eq(p.created_at_ms, 1796646921938);
    cr_expect_eq(p.finished_at_ms, 1796646924765);
    cr_expect_eq(p.release_at_ms, 1796646924606);
    cr_expect_str_eq(p.done_session, "s2c9456");
    cr_expect_str_eq(p.lock_held, "");
    cr_assert_eq(p.n_checkpoints, 1);
    cr_expect_str_eq(p.checkpoints[0].phase, "implement");
    cr_expect_str_eq(p.checkpoints[0].message, "committed work/p0f421c.md");
    cr_expect_eq(p.checkpoints[0].time_ms, 1796646922300);
    cr_expect_eq(p.n_recovery, 0);
    oj_pipeline_free(&p);

    decode(DECIDE, &p);
    cr_expect_eq(p.step, OJ_STEP_DECIDE);
    cr_expect(p.decide_ok);
    cr_expect_str_eq(p.release_session, "see820f");
    oj_pipeline_free(&p);

    decode(RESTARTED, &p);
    cr_assert_eq(p.n_recovery, 2);
    cr_expect_str_eq(p.recovery[1].action, "restart");
    cr_expect_str_eq(p.recovery[1].detail, "by the operator");
    cr_expect_eq(p.recovery[0].time_ms, 1796647134918);
    oj_pipeline_free(&p);
}

Test(pipeline_record, records_the_old_code_wrote_write_back_byte_for_byte)
{
    expect_same_bytes(FINISHED);
    expect_same_bytes(ESCALATED);
    expect_same_bytes(DECIDE);
    expect_same_bytes(RESTARTED);
}

Test(pipeline_record, a_member_the_old_code_appended_early_keeps_its_value)
{
    struct oj_pipeline p;
    decode(RELOCK, &p);
    cr_expect_str_eq(p.relock, "merge-lock");
    cJSON *was = cJSON_Parse(RELOCK), *is = oj_pipeline_to_json(&p);
    cr_expect(cJSON_Compare(was, is, true), "the same members with the same values");
    cJSON_Delete(was);
    cJSON_Delete(is);
    oj_pipeline_free(&p);
}

Test(pipeline_record, a_new_record_has_the_members_every_reader_expects)
{
    static const char *const always[] = {
        "name", "inputs", "workspace", "branch", "created_at_ms", "state", "recovery",
        "checkpoints", "last_error", "updated_at_ms", "phase", "step", "session_id",
        "waiting_for_lock", "attempt", "restarts", "stuck_index", "last_step_ms",
        "phase_started_ms", "run_started_ms", "waiting_since_ms"};
    static const char *const later[] = {
        "step_started_ms", "release_session", "release_at_ms", "decide_why", "decide_ok",
        "done_session", "done_error", "done_reply", "lock_held", "pause_until_ms", "relock",
        "finished_at_ms"};
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    p.state = OJ_PIPELINE_RUNNING;
    p.step = OJ_STEP_WORKSPACE;
    cJSON *v = oj_pipeline_to_json(&p);
    cr_expect_eq(cJSON_GetArraySize(v), (int)(sizeof always / sizeof *always));
    for (size_t i = 0; i < sizeof always / sizeof *always; i++)
        cr_expect(has(v, always[i]), "a new record has %s", always[i]);
    for (size_t i = 0; i < sizeof later / sizeof *later; i++)
        cr_expect_not(has(v, later[i]), "a new record has no %s yet", later[i]);
    cr_expect_str_eq(cJSON_GetObjectItem(v, "state")->valuestring, "running");
    cr_expect_str_eq(cJSON_GetObjectItem(v, "step")->valuestring, "workspace");
    cJSON_Delete(v);
    oj_pipeline_free(&p);
}

Test(pipeline_record, a_member_once_set_stays_when_it_is_emptied_as_before)
{
    struct oj_pipeline p;
    decode(ESCALATED, &p);
    oj_pipeline_set(&p.lock_held, "merge-lock");
    char *text = encode(&p);
    oj_pipeline_free(&p);
    cr_expect(strstr(text, "\"lock_held\":\"merge-lock\"") != NULL, "%s", text);

    decode(text, &p); /* the next change reads what the last one wrote */
    free(text);
    oj_pipeline_set(&p.lock_held, "");
    text = encode(&p);
    cr_expect(strstr(text, "\"lock_held\":\"\"") != NULL,
              "the old code kept an emptied member: %s", text);
    free(text);
    oj_pipeline_free(&p);
}

Test(pipeline_record, decide_and_done_members_are_written_together)
{
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    p.step = OJ_STEP_DECIDE; /* a phase failed without a reason: false and "" */
    oj_pipeline_set(&p.done_session, "s1");
    cJSON *v = oj_pipeline_to_json(&p);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(v, "decide_ok")));
    cr_expect_str_eq(cJSON_GetObjectItem(v, "decide_why")->valuestring, "");
    cr_expect_str_eq(cJSON_GetObjectItem(v, "done_error")->valuestring, "");
    cr_expect_str_eq(cJSON_GetObjectItem(v, "done_reply")->valuestring, "");
    cJSON_Delete(v);
    oj_pipeline_free(&p);
}

Test(pipeline_record, missing_and_mistyped_members_read_as_empty)
{
    struct oj_pipeline p;
    decode("{\"state\":\"paused\",\"step\":3,\"attempt\":\"2\",\"name\":7,"
           "\"inputs\":{\"a\":1,\"b\":\"x\"},\"created_at_ms\":1e300,\"recovery\":{},"
           "\"checkpoints\":[{\"phase\":5}],\"decide_ok\":\"yes\"}",
           &p);
    cr_expect_eq(p.state, OJ_PIPELINE_STATE_UNKNOWN);
    cr_expect_eq(p.step, OJ_STEP_UNKNOWN);
    cr_expect_eq(p.attempt, 0);
    cr_expect_str_eq(p.name, "");
    cr_expect_str_eq(p.workspace, "", "missing");
    cr_expect_eq(p.finished_at_ms, 0, "missing");
    cr_expect_eq(p.created_at_ms, INT64_C(9007199254740992), "clamped to 2^53");
    cr_assert_eq(p.n_inputs, 2);
    cr_expect_str_eq(oj_pipeline_input(&p, "a"), "");
    cr_expect_str_eq(oj_pipeline_input(&p, "b"), "x");
    cr_expect_eq(p.n_recovery, 0);
    cr_assert_eq(p.n_checkpoints, 1);
    cr_expect_str_eq(p.checkpoints[0].phase, "");
    cr_expect_not(p.decide_ok);
    char *text = encode(&p);
    cr_expect(strstr(text, "\"state\":\"\"") && strstr(text, "\"step\":\"\""), "%s", text);
    free(text);
    oj_pipeline_free(&p);

    cJSON *arr = cJSON_CreateArray();
    cr_expect_eq(oj_pipeline_from_json(arr, &p), -1, "not an object");
    cr_expect_str_eq(p.phase, "");
    oj_pipeline_free(&p);
    cJSON_Delete(arr);
}

Test(pipeline_record, a_sparse_record_writes_back_only_what_it_had)
{
    /* as the archive tests write them by hand */
    expect_same_bytes("{\"state\":\"done\",\"updated_at_ms\":1793191136006}");
}

Test(pipeline_record, the_first_of_a_repeated_member_counts)
{
    struct oj_pipeline p;
    decode("{\"phase\":\"a\",\"phase\":\"b\",\"state\":\"done\",\"state\":\"running\"}", &p);
    cr_expect_str_eq(p.phase, "a");
    cr_expect_eq(p.state, OJ_PIPELINE_DONE);
    oj_pipeline_free(&p);
}

Test(pipeline_record, recovery_steps_and_checkpoints_keep_the_newest)
{
    struct oj_pipeline p;
    oj_pipeline_init(&p);
    for (int i = 0; i < 60; i++)
        oj_pipeline_add_recovery(&p, i, i % 2 ? "restart" : "nudge", "quiet");
    cr_assert_eq(p.n_recovery, OJ_PIPELINE_MAX_RECOVERY);
    cr_expect_eq(p.recovery[0].time_ms, 10, "the oldest drop off");
    cr_expect_eq(p.recovery[49].time_ms, 59);
    cr_expect_str_eq(p.recovery[49].action, "restart");
    for (int i = 0; i < 25; i++)
        oj_pipeline_add_checkpoint(&p, i, "implement", "progress");
    cr_assert_eq(p.n_checkpoints, OJ_PIPELINE_MAX_CHECKPOINTS);
    cr_expect_eq(p.checkpoints[0].time_ms, 5);
    oj_pipeline_free(&p);
}

Test(pipeline_record, every_state_and_step_has_its_name)
{
    static const char *const states[] = {"running", "waiting", "escalated",
                                         "done",    "failed",  "cancelled"};
    static const bool active[] = {true, true, true, false, false, false};
    for (int i = 0; i < 6; i++) {
        char text[64];
        snprintf(text, sizeof text, "{\"state\":\"%s\"}", states[i]);
        cJSON *v = cJSON_Parse(text);
        cr_expect_eq(oj_pipeline_state_of(v), (enum oj_pipeline_state)(i + 1), "%s", text);
        cr_expect_str_eq(oj_pipeline_state_name(oj_pipeline_state_of(v)), states[i]);
        cr_expect_eq(oj_pipeline_active(v), active[i], "%s", text);
        cJSON_Delete(v);
    }
    static const char *const steps[] = {"workspace", "pending", "pause",  "lock",  "queued",
                                        "shell",     "agent",   "decide", "over"};
    for (int i = 0; i < 9; i++) {
        char text[64];
        snprintf(text, sizeof text, "{\"step\":\"%s\"}", steps[i]);
        struct oj_pipeline p;
        decode(text, &p);
        cr_expect_eq(p.step, (enum oj_pipeline_step)(i + 1), "%s", text);
        cr_expect_str_eq(oj_pipeline_step_name(p.step), steps[i]);
        oj_pipeline_free(&p);
    }
    cr_expect_str_eq(oj_pipeline_step_name((enum oj_pipeline_step)99), "");
}

Test(pipeline_record, a_member_set_from_itself_survives)
{
    struct oj_pipeline p;
    decode(ESCALATED, &p);
    oj_pipeline_set(&p.session_id, p.session_id);
    oj_pipeline_set(&p.release_session, p.session_id);
    cr_expect_str_eq(p.release_session, "s889055");
    cr_expect_neq(p.release_session, p.session_id, "each string is its own copy");
    oj_pipeline_free(&p);
}

/* ---- reading a stored record without decoding it ------------------------------- */

/* What the tick and the listings read straight from the stored JSON must be
 * what the decoder reads. */
static void expect_reads_agree(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    cr_assert_not_null(v, "test record does not parse: %s", text);
    struct oj_pipeline p;
    oj_pipeline_from_json(v, &p);
    struct oj_pipeline_brief b;
    oj_pipeline_brief_of(v, &b);
    cr_expect_str_eq(b.name, p.name, "%s", text);
    cr_expect_str_eq(b.phase, p.phase, "%s", text);
    cr_expect_eq(b.state, p.state, "%s", text);
    cr_expect_eq(b.created_at_ms, p.created_at_ms, "%s", text);
    cr_expect_eq(b.updated_at_ms, p.updated_at_ms, "%s", text);
    cr_expect_eq(oj_pipeline_step_of(v), p.step, "%s", text);
    cr_expect_eq(oj_pipeline_state_of(v), p.state, "%s", text);
    /* the tick's own test (pipeline_tick.c): active, or something to hand back */
    bool tick = oj_pipeline_state_active(p.state) || p.release_session[0] || p.relock[0];
    cr_expect_eq(oj_pipeline_in_play(v), tick, "%s", text);
    oj_pipeline_free(&p);
    cJSON_Delete(v);
}

Test(pipeline_record, the_brief_step_and_in_play_read_what_the_decoder_reads)
{
    const char *const records[] = {
        FINISHED, ESCALATED, DECIDE, RESTARTED, RELOCK,
        "{}",
        "{\"state\":\"done\",\"release_session\":\"s123456\"}",  /* an agent still to end */
        "{\"state\":\"cancelled\",\"relock\":\"merge-lock\"}",    /* a lock to take back */
        "{\"state\":\"done\",\"release_session\":\"\",\"relock\":\"\"}",
        "{\"state\":\"waiting\",\"step\":\"queued\",\"phase\":\"p\",\"name\":\"n\"}",
        "{\"state\":7,\"step\":[],\"name\":3,\"phase\":null,\"created_at_ms\":\"1\"}",
        "{\"phase\":\"a\",\"phase\":\"b\",\"state\":\"done\",\"state\":\"running\","
        "\"updated_at_ms\":5,\"updated_at_ms\":6,\"step\":\"agent\",\"step\":\"over\"}",
        "{\"state\":\"done\",\"release_session\":5,\"relock\":true}",
        "{\"unknown\":1,\"created_at_ms\":1e20,\"state\":\"escalated\",\"name\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof records / sizeof *records; i++)
        expect_reads_agree(records[i]);
}
