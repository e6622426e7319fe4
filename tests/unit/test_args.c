/* Option parsing driven by a command's table. */
#include <criterion/criterion.h>
#include <string.h>

#include "cmd.h"

static int noop(struct oj_ctx *c, const struct oj_args *a)
{
    (void)c;
    (void)a;
    return 0;
}

static const struct oj_opt opts[] = {
    {"timeout", true, "DUR", "t"},
    {"force", false, NULL, "f"},
    OJ_OPT_JSON,
    {0},
};
static const struct oj_cmd cmd = {"lock", "release", "<name>", "s", NULL, opts, 1, 2, noop};

static int parse(struct oj_args *a, char *err, int argc, char **argv)
{
    return oj_args_parse(&cmd, argc, argv, a, err, 256);
}

Test(args, options_anywhere_and_both_value_forms)
{
    struct oj_args a;
    char err[256];
    char *argv[] = {"--force", "merge-lock", "--timeout", "5s", "--json", NULL};
    cr_assert_eq(parse(&a, err, 5, argv), 0, "%s", err);
    cr_expect(oj_args_has(&a, "force"));
    cr_expect(oj_args_has(&a, "json"));
    cr_expect_str_eq(oj_args_get(&a, "timeout"), "5s");
    cr_assert_eq(a.npos, 1);
    cr_expect_str_eq(a.pos[0], "merge-lock");

    char *argv2[] = {"x", "--timeout=30d", NULL};
    cr_assert_eq(parse(&a, err, 2, argv2), 0, "%s", err);
    cr_expect_str_eq(oj_args_get(&a, "timeout"), "30d");
    cr_expect_not(oj_args_has(&a, "force"));
    cr_expect_null(oj_args_get(&a, "force"));
}

Test(args, double_dash_ends_options)
{
    struct oj_args a;
    char err[256];
    char *argv[] = {"x", "--", "--force", NULL};
    cr_assert_eq(parse(&a, err, 3, argv), 0, "%s", err);
    cr_expect_not(oj_args_has(&a, "force"));
    cr_assert_eq(a.npos, 2);
    cr_expect_str_eq(a.pos[1], "--force");
}

Test(args, errors_name_the_problem_and_the_help)
{
    struct oj_args a;
    char err[256];
    char *unknown[] = {"x", "--bogus", NULL};
    cr_expect_eq(parse(&a, err, 2, unknown), -1);
    cr_expect(strstr(err, "--bogus") && strstr(err, "oj lock release --help"), "%s", err);

    char *short_opt[] = {"x", "-z", NULL}; /* -q is every command's now (--quiet) */
    cr_expect_eq(parse(&a, err, 2, short_opt), -1);
    cr_expect(strstr(err, "-z") != NULL, "%s", err);

    char *missing_value[] = {"x", "--timeout", NULL};
    cr_expect_eq(parse(&a, err, 2, missing_value), -1);
    cr_expect(strstr(err, "needs a value") != NULL, "%s", err);

    char *flag_value[] = {"x", "--force=yes", NULL};
    cr_expect_eq(parse(&a, err, 2, flag_value), -1);
    cr_expect(strstr(err, "takes no value") != NULL, "%s", err);

    char *none[] = {NULL};
    cr_expect_eq(parse(&a, err, 0, none), -1);
    cr_expect(strstr(err, "usage: oj lock release <name>") != NULL, "%s", err);

    char *many[] = {"a", "b", "c", NULL};
    cr_expect_eq(parse(&a, err, 3, many), -1);
    cr_expect(strstr(err, "'c'") != NULL, "%s", err);
}

Test(args, help_is_recognised)
{
    struct oj_args a;
    char err[256];
    char *argv[] = {"--help", NULL};
    cr_expect_eq(parse(&a, err, 1, argv), 1);
    char *argv2[] = {"-h", NULL};
    cr_expect_eq(parse(&a, err, 1, argv2), 1);
}

Test(args, an_option_given_again_keeps_every_value_in_order)
{
    struct oj_args a;
    char err[256];
    char *argv[] = {"x", "--timeout", "1s", "--timeout=2s", "--force", "--timeout", "3s", NULL};
    cr_assert_eq(parse(&a, err, 7, argv), 0, "%s", err);
    cr_expect_str_eq(oj_args_get(&a, "timeout"), "3s", "the last one, as before");
    const char *all[8];
    cr_assert_eq(oj_args_all(&a, "timeout", all, 8), 3);
    cr_expect_str_eq(all[0], "1s");
    cr_expect_str_eq(all[1], "2s");
    cr_expect_str_eq(all[2], "3s");
    cr_expect_eq(oj_args_all(&a, "force", all, 8), 0, "a flag has no values");
    cr_expect_eq(oj_args_all(&a, "timeout", all, 2), 2, "at most max");
}

static const struct oj_opt logs_opts[] = {
    {"follow", false, NULL, "f"},
    {"lines", true, "N", "n"},
    {0},
};
static const struct oj_cmd daemon_logs = {"daemon", "logs", "", "s", NULL, logs_opts, 0, 0, noop};

Test(args, one_letter_aliases_of_daemon_logs)
{
    struct oj_args a;
    char err[256];
    char *argv[] = {"-f", "-n", "5", NULL};
    cr_assert_eq(oj_args_parse(&daemon_logs, 3, argv, &a, err, sizeof err), 0, "%s", err);
    cr_expect(oj_args_has(&a, "follow"));
    cr_expect_str_eq(oj_args_get(&a, "lines"), "5");
    char *argv2[] = {"-n7", NULL};
    cr_assert_eq(oj_args_parse(&daemon_logs, 1, argv2, &a, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(oj_args_get(&a, "lines"), "7");
    char *argv3[] = {"-n", NULL};
    cr_expect_eq(oj_args_parse(&daemon_logs, 1, argv3, &a, err, sizeof err), -1);
    cr_expect(strstr(err, "'-n'") && strstr(err, "needs a value"), "%s", err);
    char *argv4[] = {"-x", NULL};
    cr_expect_eq(oj_args_parse(&daemon_logs, 1, argv4, &a, err, sizeof err), -1);
    cr_expect(strstr(err, "unknown option '-x'"), "%s", err);
    /* other commands have no aliases: -f is not --force for lock release */
    char *argv5[] = {"x", "-f", NULL};
    cr_expect_eq(parse(&a, err, 2, argv5), -1);
}
