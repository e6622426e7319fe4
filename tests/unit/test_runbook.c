/* Runbooks: the shipped example loads; every mistake is named with its file,
 * its place and what is wrong; templates keep hostile input as text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "runbook.h"
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

static const char *vals(const char *key, void *arg)
{
    (void)arg;
    if (strcmp(key, "name") == 0)
        return "x\"; rm -rf ~; \"";
    if (strcmp(key, "branch") == 0)
        return "oj/p1";
    return NULL;
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
