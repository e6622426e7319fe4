/* Runbooks: the shipped example loads; every mistake is named with its file,
 * its place and what is wrong; templates keep hostile input as text. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "cli.h" /* oj_starter_runbook */
#include "runbook.h"
#include "subprocess.h"
#include "template.h"

/* The file's text; tests run from the repository root. */
static char *slurp(const char *path)
{
    char *text = read_file(path);
    cr_assert_not_null(text, "%s is missing (tests run from the repository root)", path);
    return text;
}

Test(runbook, the_shipped_example_loads_completely)
{
    struct oj_runbooks rb = {0};
    char err[512];
    char *text = slurp("docs/examples/runbook.json");
    cr_assert_eq(oj_runbook_parse("runbook.json", text, &rb, err, sizeof err), 0, "%s", err);
    free(text);
    const struct oj_pipeline_def *p = oj_runbooks_pipeline(&rb, "build");
    cr_assert_not_null(p);
    cr_expect_eq(p->n_inputs, 2);
    cr_expect_eq(p->n_phases, 3);
    cr_expect_str_eq(p->phases[0].run, "echo preparing {name} on branch {branch} && git log --oneline -1");
    cr_expect_null(p->phases[0].agent_command);
    const struct oj_phase_def *impl = oj_pipeline_phase(p, "implement");
    cr_assert_not_null(impl);
    cr_expect_str_eq(impl->agent_command, "oj-fake-agent --work");
    cr_expect_eq(impl->idle_timeout_ms, 120000);
    cr_expect_eq(impl->timeout_ms, 30 * 60000);
    cr_assert_eq(impl->n_on_stuck, 3);
    cr_expect_eq(impl->on_stuck[1].action, OJ_STUCK_RESTART);
    cr_expect_eq(impl->on_stuck[1].max, 1);
    cr_expect_str_eq(oj_pipeline_phase(p, "merge")->lock, "merge-lock");
    cr_expect_eq(rb.n_jobs, 2);
    cr_expect_eq(rb.jobs[0].every_ms, 86400000);
    cr_expect_str_eq(rb.jobs[0].pipeline, "build");
    oj_runbooks_free(&rb);
}

/* Any placeholder's value: text a shell would trip over if it were not quoted. */
static const char *awkward(const char *key, void *arg)
{
    (void)key;
    (void)arg;
    return "it's (a) \"test\"; $HOME";
}

/* `sh -n`: the command parses as shell. */
static void expect_valid_sh(const char *where, const char *tmpl)
{
    char *cmd = NULL, err[256], out[1024];
    cr_assert_eq(oj_template_expand(tmpl, awkward, NULL, 1, &cmd, err, sizeof err), 0, "%s: %s",
                 where, err);
    char *argv[] = {"sh", "-n", "-c", cmd, NULL};
    struct oj_proc_result r;
    cr_assert_eq(oj_run(argv, "/", 5000, out, sizeof out, 1, &r), 0);
    cr_expect_eq(r.exit_status, 0, "%s expands to a shell syntax error: %s\n%s", where, cmd, out);
    free(cmd);
}

Test(runbook, every_command_of_the_shipped_example_is_valid_shell)
{
    struct oj_runbooks rb = {0};
    char err[512];
    char *text = slurp("docs/examples/runbook.json");
    cr_assert_eq(oj_runbook_parse("runbook.json", text, &rb, err, sizeof err), 0, "%s", err);
    free(text);
    int notifies = 0;
    for (int i = 0; i < rb.n_pipelines; i++) {
        const struct oj_pipeline_def *p = &rb.pipelines[i];
        for (int k = 0; k < p->n_phases; k++) {
            const struct oj_phase_def *ph = &p->phases[k];
            expect_valid_sh(ph->name, ph->run ? ph->run : ph->agent_command);
        }
        if (p->notify) {
            expect_valid_sh("notify", p->notify);
            notifies++;
        }
    }
    for (int i = 0; i < rb.n_jobs; i++)
        if (rb.jobs[i].run)
            expect_valid_sh(rb.jobs[i].name, rb.jobs[i].run);
    cr_expect_gt(notifies, 0, "the example shows a notify command");
    oj_runbooks_free(&rb);
}

Test(runbook, defaults)
{
    struct oj_runbooks rb = {0};
    char err[512];
    const char *text = "{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"agent\":{\"command\":\"x\"}}]}}}";
    cr_assert_eq(oj_runbook_parse("r.json", text, &rb, err, sizeof err), 0, "%s", err);
    const struct oj_phase_def *a = &rb.pipelines[0].phases[0];
    cr_expect_eq(a->n_on_stuck, 3, "default chain: nudge, restart, escalate");
    cr_expect_eq(a->on_stuck[0].action, OJ_STUCK_NUDGE);
    cr_expect_eq(a->on_stuck[2].action, OJ_STUCK_ESCALATE);
    cr_expect_eq(a->idle_timeout_ms, 300000);
    cr_expect(a->rerun_after_crash);
    cr_expect_null(a->needs_input, "the built-in prompt patterns only");
    oj_runbooks_free(&rb);
}

Test(runbook, an_agents_needs_input_patterns_are_kept_one_a_line)
{
    struct oj_runbooks rb = {0};
    char err[512];
    const char *text = "{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"agent\":{"
                       "\"command\":\"x\",\"needs_input\":[\"approve?\",\"/^ok [0-9]+$/\"]}}]}}}";
    cr_assert_eq(oj_runbook_parse("r.json", text, &rb, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(rb.pipelines[0].phases[0].needs_input, "approve?\n/^ok [0-9]+$/");
    oj_runbooks_free(&rb);
}

/* The daemon's settings agent_idle_timeout and phase_timeout fill what a
 * phase leaves out; what it names stays. */
Test(runbook, configured_defaults_fill_only_what_a_phase_leaves_out)
{
    struct oj_runbooks rb = {.default_idle_timeout_ms = 60000, .default_timeout_ms = 7200000};
    char err[512];
    const char *text = "{\"pipelines\":{\"p\":{\"phases\":["
                       "{\"name\":\"a\",\"agent\":{\"command\":\"x\"}},"
                       "{\"name\":\"b\",\"timeout\":\"5m\",\"agent\":{\"command\":\"x\","
                       "\"idle_timeout\":\"30s\"}},"
                       "{\"name\":\"c\",\"run\":\"true\"}]}}}";
    cr_assert_eq(oj_runbook_parse("r.json", text, &rb, err, sizeof err), 0, "%s", err);
    const struct oj_phase_def *ph = rb.pipelines[0].phases;
    cr_expect_eq(ph[0].idle_timeout_ms, 60000);
    cr_expect_eq(ph[0].timeout_ms, 7200000);
    cr_expect_eq(ph[1].idle_timeout_ms, 30000, "named: kept");
    cr_expect_eq(ph[1].timeout_ms, 300000, "named: kept");
    cr_expect_eq(ph[2].timeout_ms, 7200000, "a shell step gets the overall limit too");
    oj_runbooks_free(&rb);
}

struct bad {
    const char *text, *want[3];
};

Test(runbook, mistakes_name_file_place_and_problem)
{
    const struct bad cases[] = {
        {"{\"pipelines\": {", {"r.json: line 1, column", "not valid JSON"}},
        {"{\"pipelnes\":{}}", {"r.json: top level", "unknown member \"pipelnes\""}},
        {"{\"pipelines\":{\"p\":{\"phases\":[]}}}", {"pipelines.p.phases", "non-empty list"}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\"}]}}}",
         {"pipelines.p.phases[0]", "exactly one of \"run\""}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"run\":\"x\",\"agent\":{\"command\":\"y\"}}]}}}",
         {"pipelines.p.phases[0]", "exactly one of"}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"run\":\"x\",\"timeout\":\"soon\"}]}}}",
         {"pipelines.p.phases[0].timeout", "not a duration"}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"run\":\"echo {nmae}\"}]}}}",
         {"pipelines.p.phases[0].run", "unknown placeholder {nmae}"}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"run\":\"x\",\"next\":\"b\"}]}}}",
         {"pipelines.p.phases[0]", "no phase \"b\""}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"agent\":{\"command\":\"x\",\"on_stuck\":[\"panic\"]}}]}}}",
         {"pipelines.p.phases[0].agent.on_stuck", "\"panic\""}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"run\":\"x\"},{\"name\":\"a\",\"run\":\"y\"}]}}}",
         {"pipelines.p.phases[1]", "used twice"}},
        {"{\"pipelines\":{\"p\":{\"inputs\":[\"workspace\"],\"phases\":[{\"name\":\"a\",\"run\":\"x\"}]}}}",
         {"pipelines.p.inputs", "built-in"}},
        {"{\"jobs\":{\"j\":{\"every\":\"1h\",\"pipeline\":\"nope\"}}}", {"jobs.j", "no pipeline \"nope\""}},
        {"{\"jobs\":{\"j\":{\"run\":\"x\"}}}", {"jobs.j", "\"every\" is required"}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"agent\":{\"command\":\"x\",\"needs_input\":\"ok?\"}}]}}}",
         {"pipelines.p.phases[0].agent.needs_input", "list of at most"}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"agent\":{\"command\":\"x\",\"needs_input\":[\"/(x/\"]}}]}}}",
         {"pipelines.p.phases[0].agent.needs_input", "\"/(x/\"", "regular expression"}},
        {"{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"agent\":{\"command\":\"x\",\"needs_input\":[\"\"]}}]}}}",
         {"pipelines.p.phases[0].agent.needs_input", "empty"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct oj_runbooks rb = {0};
        char err[512] = "";
        cr_expect_eq(oj_runbook_parse("r.json", cases[i].text, &rb, err, sizeof err), -1,
                     "case %zu accepted: %s", i, cases[i].text);
        for (int k = 0; k < 3 && cases[i].want[k]; k++)
            cr_expect(strstr(err, cases[i].want[k]) != NULL, "case %zu: want '%s' in: %s", i,
                      cases[i].want[k], err);
        cr_expect_eq(rb.n_pipelines + rb.n_jobs, 0, "a refused runbook adds nothing");
        oj_runbooks_free(&rb);
    }
}

Test(runbook, a_pipeline_defined_twice_names_both_files)
{
    struct oj_runbooks rb = {0};
    char err[512];
    const char *text = "{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"run\":\"x\"}]}}}";
    cr_assert_eq(oj_runbook_parse("one.json", text, &rb, err, sizeof err), 0, "%s", err);
    cr_expect_eq(oj_runbook_parse("two.json", text, &rb, err, sizeof err), -1);
    cr_expect(strstr(err, "two.json: pipelines.p") && strstr(err, "also defined in one.json"),
              "%s", err);
    oj_runbooks_free(&rb);
}

/* A pipeline "p" with one shell phase "a" that has `extra` as further members. */
static int parse_phase_with(const char *extra, struct oj_runbooks *rb, char *err, size_t len)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"pipelines\":{\"p\":{\"phases\":[{\"name\":\"a\",\"run\":\"x\"%s]}}}",
             extra);
    return oj_runbook_parse("r.json", text, rb, err, len);
}

Test(runbook, lock_names_follow_the_rule_of_oj_lock)
{
    char too_long[100] = ",\"lock\":\"";
    memset(too_long + strlen(too_long), 'a', 65); /* one past the 64 of oj lock */
    strcat(too_long, "\"}");
    const char *bad[] = {",\"lock\":\"../../etc\"}", ",\"lock\":\"a b\"}",
                         ",\"lock\":\"x\\u001b[2J\"}", too_long};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct oj_runbooks rb = {0};
        char err[512] = "";
        cr_expect_eq(parse_phase_with(bad[i], &rb, err, sizeof err), -1, "accepted: %s", bad[i]);
        cr_expect(strstr(err, "r.json: pipelines.p.phases[0].lock: ") != NULL, "%s", err);
        cr_expect(strstr(err, "lock names") != NULL, "says the rule: %s", err);
        oj_runbooks_free(&rb);
    }
    struct oj_runbooks rb = {0};
    char err[512] = "";
    cr_expect_eq(parse_phase_with(",\"lock\":\"merge-lock.v2_x\"}", &rb, err, sizeof err), 0,
                 "%s", err);
    oj_runbooks_free(&rb);
}

Test(runbook, a_loop_pause_defaults_to_1s_and_is_at_least_1s)
{
    struct oj_runbooks rb = {0};
    char err[512] = "";
    cr_assert_eq(parse_phase_with("}", &rb, err, sizeof err), 0, "%s", err);
    cr_expect_eq(rb.pipelines[0].phases[0].pause_ms, 1000);
    oj_runbooks_free(&rb);
    cr_assert_eq(parse_phase_with(",\"pause\":\"30s\"}", &rb, err, sizeof err), 0, "%s", err);
    cr_expect_eq(rb.pipelines[0].phases[0].pause_ms, 30000);
    oj_runbooks_free(&rb);
    const char *bad[] = {",\"pause\":\"500ms\"}", ",\"pause\":\"0s\"}", ",\"pause\":5}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(parse_phase_with(bad[i], &rb, err, sizeof err), -1, "accepted: %s", bad[i]);
        cr_expect(strstr(err, "pipelines.p.phases[0].pause") != NULL, "%s", err);
        oj_runbooks_free(&rb);
    }
}

/* A runbook file of `size` bytes: a valid runbook padded with spaces. */
static void write_padded(const char *path, size_t size)
{
    const char *text = "{\"jobs\":{\"j\":{\"every\":\"1h\",\"run\":\"true\"}}}";
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    for (size_t i = strlen(text); i < size; i++)
        fputc(' ', f);
    fclose(f);
}

Test(runbook, a_runbook_over_1_MiB_is_refused_naming_the_file_and_the_limit)
{
    char dir[] = "/tmp/ojrb.XXXXXX", path[64];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/big.json", dir);
    struct oj_runbooks rb = {0};
    char err[512] = "";
    write_padded(path, OJ_RUNBOOK_MAX_BYTES);
    cr_expect_eq(oj_runbooks_load(dir, &rb, err, sizeof err), 0, "exactly 1 MiB loads: %s", err);
    cr_expect_eq(rb.n_jobs, 1);
    oj_runbooks_free(&rb);
    write_padded(path, OJ_RUNBOOK_MAX_BYTES + 1);
    cr_expect_eq(oj_runbooks_load(dir, &rb, err, sizeof err), -1, "1 MiB + 1 byte must be refused");
    cr_expect(strstr(err, path) && strstr(err, "1 MiB") && strstr(err, "1048577 bytes"), "%s",
              err);
    cr_expect_eq(rb.n_jobs, 0);
    oj_runbooks_free(&rb);
    unlink(path);
    cr_assert_eq(mkfifo(path, 0600), 0, "%s", strerror(errno));
    cr_expect_eq(oj_runbooks_load(dir, &rb, err, sizeof err), -1,
                 "a FIFO is refused, not waited on");
    cr_expect(strstr(err, "not a regular file") != NULL, "%s", err);
    unlink(path);
    rmdir(dir);
}

static const char *vals(const char *key, void *arg)
{
    (void)arg;
    if (strcmp(key, "name") == 0)
        return "x\"; rm -rf ~; \"";
    if (strcmp(key, "branch") == 0)
        return "oj/p1";
    return NULL;
}

/* JSON has no comments: members named "//..." are, wherever a member may
 * be, including the maps of pipelines and jobs; other unknown members are
 * still errors. */
Test(runbook, members_named_double_slash_are_comments)
{
    struct oj_runbooks rb = {0};
    char err[512];
    const char *text =
        "{\"//\": \"top\", \"pipelines\": {\"//\": [\"several\", \"lines\"], \"b\": {"
        "\"// inputs\": 1, \"phases\": [{\"name\": \"a\", \"//\": {\"any\": \"thing\"}, "
        "\"agent\": {\"command\": \"x\", \"//why\": \"quiet\"}}]}}, "
        "\"jobs\": {\"//\": \"none\", \"j\": {\"every\": \"1h\", \"run\": \"true\", "
        "\"//\": \"c\"}}}";
    cr_assert_eq(oj_runbook_parse("c.json", text, &rb, err, sizeof err), 0, "%s", err);
    cr_expect_eq(rb.n_pipelines, 1);
    cr_expect_eq(rb.n_jobs, 1);
    cr_expect_str_eq(rb.pipelines[0].phases[0].agent_command, "x");
    oj_runbooks_free(&rb);
    /* one slash is no comment */
    cr_expect_eq(oj_runbook_parse("c.json", "{\"/x\": 1}", &rb, err, sizeof err), -1);
    cr_expect(strstr(err, "unknown member \"/x\"") != NULL, "%s", err);
}

/* What `oj init` writes loads, with the pipeline and job it says. */
Test(runbook, the_starter_of_oj_init_loads)
{
    struct oj_runbooks rb = {0};
    char err[512];
    cr_assert_eq(oj_runbook_parse("build.json", oj_starter_runbook, &rb, err, sizeof err), 0,
                 "%s", err);
    const struct oj_pipeline_def *p = oj_runbooks_pipeline(&rb, "build");
    cr_assert_not_null(p);
    cr_expect_eq(p->n_phases, 3);
    cr_expect_str_eq(p->phases[2].lock, "merge-lock");
    cr_expect_eq(rb.n_jobs, 1);
    cr_expect(!rb.jobs[0].enabled, "the starter's job starts disabled");
    oj_runbooks_free(&rb);
}

Test(template, values_are_shell_quoted_text)
{
    char *out, err[256];
    cr_assert_eq(oj_template_expand("echo {name} on {branch} {{literal}}", vals, NULL, 1, &out, err,
                                    sizeof err),
                 0, "%s", err);
    cr_expect_str_eq(out, "echo 'x\"; rm -rf ~; \"' on 'oj/p1' {literal}");
    free(out);
    cr_assert_eq(oj_template_expand("Work on {name}", vals, NULL, 0, &out, err, sizeof err), 0);
    cr_expect_str_eq(out, "Work on x\"; rm -rf ~; \"", "prompts get the raw text");
    free(out);
    cr_expect_eq(oj_template_expand("echo {nope}", vals, NULL, 1, &out, err, sizeof err), -1);
    cr_expect(strstr(err, "{nope}") != NULL, "%s", err);
    cr_expect_eq(oj_template_expand("echo {name", vals, NULL, 1, &out, err, sizeof err), -1);
    cr_expect(strstr(err, "unclosed") != NULL, "%s", err);
}

Test(runbook, a_setup_command_for_new_workspaces_with_its_timeout)
{
    struct oj_runbooks rb = {0};
    char err[512];
    const char *text = "{\"pipelines\":{\"p\":{\"setup\":\"cp {project}/.env . && npm ci\","
                       "\"setup_timeout\":\"2m\",\"phases\":[{\"name\":\"a\",\"run\":\"x\"}]},"
                       "\"q\":{\"phases\":[{\"name\":\"a\",\"run\":\"x\"}]},"
                       "\"r\":{\"setup\":\"true\",\"phases\":[{\"name\":\"a\",\"run\":\"x\"}]}}}";
    cr_assert_eq(oj_runbook_parse("r.json", text, &rb, err, sizeof err), 0, "%s", err);
    const struct oj_pipeline_def *p = oj_runbooks_pipeline(&rb, "p");
    cr_expect_str_eq(p->setup, "cp {project}/.env . && npm ci");
    cr_expect_eq(p->setup_timeout_ms, 120000);
    cr_expect_null(oj_runbooks_pipeline(&rb, "q")->setup, "no setup unless asked");
    cr_expect_eq(oj_runbooks_pipeline(&rb, "r")->setup_timeout_ms, OJ_SETUP_TIMEOUT_MS);
    oj_runbooks_free(&rb);
    const struct bad cases[] = {
        {"{\"pipelines\":{\"p\":{\"setup\":7,\"phases\":[{\"name\":\"a\",\"run\":\"x\"}]}}}",
         {"pipelines.p", "setup"}},
        {"{\"pipelines\":{\"p\":{\"setup\":\" \",\"phases\":[{\"name\":\"a\",\"run\":\"x\"}]}}}",
         {"pipelines.p", "\"setup\" is a shell command"}},
        {"{\"pipelines\":{\"p\":{\"setup\":\"echo {nope}\",\"phases\":[{\"name\":\"a\",\"run\":"
         "\"x\"}]}}}",
         {"pipelines.p", "unknown placeholder {nope}"}},
        {"{\"pipelines\":{\"p\":{\"setup\":\"x\",\"setup_timeout\":\"30\",\"phases\":[{\"name\":"
         "\"a\",\"run\":\"x\"}]}}}",
         {"pipelines.p.setup_timeout", "needs a unit"}},
        {"{\"pipelines\":{\"p\":{\"setup_timeout\":\"30s\",\"phases\":[{\"name\":\"a\",\"run\":"
         "\"x\"}]}}}",
         {"pipelines.p", "for a \"setup\" command"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct oj_runbooks bad = {0};
        err[0] = '\0';
        cr_expect_eq(oj_runbook_parse("r.json", cases[i].text, &bad, err, sizeof err), -1,
                     "case %zu accepted", i);
        for (int k = 0; k < 3 && cases[i].want[k]; k++)
            cr_expect(strstr(err, cases[i].want[k]) != NULL, "case %zu: want '%s' in: %s", i,
                      cases[i].want[k], err);
        oj_runbooks_free(&bad);
    }
}
