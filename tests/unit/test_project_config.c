/* .oj/config.json (project_config.h): the notifier's settings, defaults, and
 * errors that name the key. */
#include <criterion/criterion.h>
#include <string.h>

#include "project_config.h"

static int parse(const char *text, struct oj_project_config *c, char *err)
{
    return oj_project_config_parse(".oj/config.json", text, c, err, 512);
}

Test(project_config, an_empty_file_configures_nothing)
{
    struct oj_project_config c;
    char err[512];
    cr_assert_eq(parse("{}", &c, err), 0, "%s", err);
    cr_expect_null(c.notifier.command);
    cr_assert_eq(parse("{\"// why\": \"comments are allowed\", \"notifier\": null}", &c, err), 0,
                 "%s", err);
    cr_expect_null(c.notifier.command);
    oj_project_config_free(&c);
}

Test(project_config, a_notifier_with_defaults)
{
    struct oj_project_config c;
    char err[512];
    cr_assert_eq(parse("{\"notifier\": {\"command\": \"notify-send oj\"}}", &c, err), 0, "%s",
                 err);
    cr_expect_str_eq(c.notifier.command, "notify-send oj");
    cr_assert_eq(c.notifier.n_kinds, 4);
    cr_expect_str_eq(c.notifier.kinds[0], "pipeline.escalated");
    cr_expect_str_eq(c.notifier.kinds[2], "session.needs_input");
    cr_expect_eq(c.notifier.timeout_ms, 10000);
    oj_project_config_free(&c);

    cr_assert_eq(parse("{\"notifier\": {\"command\": \"x\", \"kinds\": [\"session.\", "
                       "\"pipeline.failed\"], \"timeout\": \"2s\"}}", &c, err), 0, "%s", err);
    cr_assert_eq(c.notifier.n_kinds, 2);
    cr_expect_str_eq(c.notifier.kinds[0], "session.");
    cr_expect_eq(c.notifier.timeout_ms, 2000);
    oj_project_config_free(&c);
}

Test(project_config, mistakes_name_the_key)
{
    const struct {
        const char *text, *want[2];
    } cases[] = {
        {"{\"notifier\": ", {".oj/config.json: top level", "not valid JSON"}},
        {"[]", {"top level", "JSON object"}},
        {"{\"notifer\": {}}", {".oj/config.json: notifer", "unknown key"}},
        {"{\"notifier\": \"notify-send\"}", {"notifier", "an object"}},
        {"{\"notifier\": {\"kinds\": [\"pipeline.done\"]}}", {"notifier.command", "required"}},
        {"{\"notifier\": {\"command\": \"  \"}}", {"notifier.command", "required"}},
        {"{\"notifier\": {\"command\": \"x\", \"kind\": []}}", {"notifier.kind", "unknown key"}},
        {"{\"notifier\": {\"command\": \"x\", \"kinds\": []}}", {"notifier.kinds", "1 to 32"}},
        {"{\"notifier\": {\"command\": \"x\", \"kinds\": [\"pipeline.done\", \"Failed!\"]}}",
         {"notifier.kinds[1]", "\"Failed!\""}},
        {"{\"notifier\": {\"command\": \"x\", \"kinds\": [3]}}", {"notifier.kinds[0]", "string"}},
        {"{\"notifier\": {\"command\": \"x\", \"timeout\": \"10\"}}",
         {"notifier.timeout", "with its unit"}},
        {"{\"notifier\": {\"command\": \"x\", \"timeout\": \"1h\"}}", {"notifier.timeout", "5m"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct oj_project_config c;
        char err[512] = "";
        cr_expect_eq(parse(cases[i].text, &c, err), -1, "case %zu accepted: %s", i,
                     cases[i].text);
        for (int k = 0; k < 2; k++)
            cr_expect(strstr(err, cases[i].want[k]) != NULL, "case %zu: want '%s' in: %s", i,
                      cases[i].want[k], err);
        cr_expect_null(c.notifier.command, "a refused file configures nothing");
    }
}

Test(project_config, a_missing_file_is_an_empty_config)
{
    struct oj_project_config c;
    char err[512];
    cr_assert_eq(oj_project_config_load("/nonexistent/.oj/config.json", &c, err, sizeof err), 0,
                 "%s", err);
    cr_expect_null(c.notifier.command);
}
