/* The CLI frame: help, version, usage errors, exit codes, --json. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/harness.h"
#include "cmd.h"
#include "help.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

static void start_daemon(void)
{
    struct oj_out a = OJ(&e, "daemon", "start");
    cr_assert_eq(a.code, 0, "%s", a.err);
    oj_out_free(&a);
}

/* One line on stderr, starting "oj: ". */
static void expect_one_line_error(const struct oj_out *o)
{
    cr_expect(strncmp(o->err, "oj: ", 4) == 0, "error must start with 'oj: ': %s", o->err);
    const char *nl = strchr(o->err, '\n');
    cr_expect(nl != NULL && nl[1] == '\0', "error must be one line: %s", o->err);
}

Test(cli, help_and_version, .init = setup, .fini = teardown)
{
    struct oj_out h = OJ(&e, "--help");
    cr_expect_eq(h.code, 0);
    const char *words[] = {"status", "daemon", "pipeline", "session", "workspace", "lock",
                           "maintenance", "run", "done", "Exit status", NULL};
    for (int i = 0; words[i]; i++)
        cr_expect(strstr(h.out, words[i]) != NULL, "--help lacks '%s'", words[i]);
    struct oj_out g = OJ(&e, "lock", "--help");
    cr_expect_eq(g.code, 0);
    cr_expect(strstr(g.out, "release <name>") && strstr(g.out, "acquire"), "%s", g.out);
    struct oj_out c = OJ(&e, "daemon", "stop", "--help");
    cr_expect_eq(c.code, 0);
    cr_expect(strstr(c.out, "--timeout DUR") && strstr(c.out, "--force"), "%s", c.out);
    struct oj_out v = OJ(&e, "--version");
    cr_expect_eq(v.code, 0);
    cr_expect(strncmp(v.out, "oj ", 3) == 0, "%s", v.out);
    oj_out_free(&h);
    oj_out_free(&g);
    oj_out_free(&c);
    oj_out_free(&v);
}

Test(cli, usage_errors_exit_2_with_one_line, .init = setup, .fini = teardown)
{
    const char *cases[][5] = {
        {"frobnicate", NULL},
        {"daemon", NULL},
        {"daemon", "restart", NULL},
        {"status", "--bogus", NULL},
        {"status", "extra", NULL},
        {"lock", "status", NULL},
        {"daemon", "stop", "--timeout", "soon", NULL},
        {"maintenance", "archive", "--older-than", "30 days", NULL},
        {"maintenance", "restore-snapshot", NULL},
        {"--frob", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct oj_out o = oj_run_in(&e, NULL, NULL, cases[i][0], cases[i][1], cases[i][2],
                                    cases[i][3], (char *)NULL);
        cr_expect_eq(o.code, 2, "case %zu (%s %s): exit %d, %s", i, cases[i][0],
                     cases[i][1] ? cases[i][1] : "", o.code, o.err);
        expect_one_line_error(&o);
        oj_out_free(&o);
    }
}

/* `--older-than 30` once meant 30 seconds and archived a pipeline that had
 * finished 12 minutes earlier. A number without a unit is refused wherever a
 * duration is read: options (exit 2), the CLI's variables (exit 2), the
 * daemon's variables (a refused start); each error names what to fix. A bare
 * 0 stays: zero in any unit, and "never" for the retention variables. */
Test(cli, a_duration_without_a_unit_is_refused_naming_the_option, .init = setup,
     .fini = teardown, .timeout = 60)
{
    char *bad_daemon[][2] = {{"OJ_RETAIN_HISTORY=7", NULL}, {"OJ_NUDGE_PAUSE=30", NULL},
                             {"OJ_WATCHDOG_INTERVAL=500", NULL}};
    const char *names[] = {"OJ_RETAIN_HISTORY needs a unit", "OJ_NUDGE_PAUSE needs a unit",
                           "OJ_WATCHDOG_INTERVAL needs a unit"};
    for (int i = 0; i < 3; i++) {
        struct oj_out o = oj_run_in(&e, NULL, bad_daemon[i], "daemon", "start", (char *)NULL);
        cr_expect_neq(o.code, 0, "%s must refuse the start", bad_daemon[i][0]);
        cr_expect(strstr(o.err, names[i]) != NULL, "%s", o.err);
        oj_out_free(&o);
    }
    char *zeros[] = {"OJ_RETAIN_HISTORY=0", "OJ_RETAIN_FINISHED=0", NULL};
    struct oj_out o = oj_run_in(&e, NULL, zeros, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "0 still means never: %s", o.err);
    oj_out_free(&o);

    o = OJ(&e, "maintenance", "archive", "--older-than", "30");
    cr_expect_eq(o.code, 2, "exit %d: %s%s", o.code, o.out, o.err);
    expect_one_line_error(&o);
    cr_expect(strstr(o.err, "--older-than needs a unit") && strstr(o.err, "30m") &&
                  strstr(o.err, "30d"),
              "%s", o.err);
    cr_expect_str_eq(o.out, "", "nothing archived");
    oj_out_free(&o);
    o = OJ(&e, "lock", "acquire", "merge-lock", "--timeout", "300");
    cr_expect_eq(o.code, 2, "%s", o.err);
    cr_expect(strstr(o.err, "--timeout needs a unit") != NULL, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "maintenance", "archive", "--older-than", "0");
    cr_expect_eq(o.code, 0, "0 is zero in any unit: %s", o.err);
    oj_out_free(&o);

    char *timeout[] = {"OJ_TIMEOUT=30", NULL};
    o = oj_run_in(&e, NULL, timeout, "status", (char *)NULL);
    cr_expect_eq(o.code, 2, "%s", o.err);
    expect_one_line_error(&o);
    cr_expect(strstr(o.err, "OJ_TIMEOUT needs a unit: 30s") != NULL, "%s", o.err);
    oj_out_free(&o);
    char *timeout_ok[] = {"OJ_TIMEOUT=30s", NULL};
    o = oj_run_in(&e, NULL, timeout_ok, "status", (char *)NULL);
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    char *wait[] = {"OJ_AGENT_WAIT=60", "OTTER_TASK=p0a0b0c", "OTTER_PHASE=work", NULL};
    o = oj_run_in(&e, NULL, wait, "done", (char *)NULL);
    cr_expect_eq(o.code, 2, "%s", o.err);
    cr_expect(strstr(o.err, "OJ_AGENT_WAIT needs a unit") != NULL, "%s", o.err);
    oj_out_free(&o);
}

Test(cli, status_when_the_daemon_is_down, .init = setup, .fini = teardown)
{
    struct oj_out o = OJ(&e, "status");
    cr_expect_eq(o.code, 3);
    cr_expect(strstr(o.err, "oj daemon start") != NULL, "must say how to start: %s", o.err);
    expect_one_line_error(&o);
    oj_out_free(&o);

    /* With a .oj/ but no daemon. */
    start_daemon();
    struct oj_out s = OJ(&e, "daemon", "stop");
    oj_out_free(&s);
    o = OJ(&e, "status", "--json");
    cr_expect_eq(o.code, 3);
    cr_expect(strstr(o.err, "not running") != NULL, "%s", o.err);
    cr_expect_str_eq(o.out, "", "nothing on stdout when down");
    oj_out_free(&o);
}

Test(cli, status_json_has_the_documented_fields, .init = setup, .fini = teardown)
{
    start_daemon();
    struct oj_out o = OJ(&e, "status", "--json", "--verbose");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "not JSON: %s", o.out);
    cr_expect_eq(cJSON_GetObjectItem(j, "pid")->valueint, env_daemon_pid(&e));
    cr_expect_eq(cJSON_GetObjectItem(j, "max_sessions")->valueint, 10);
    cr_expect_eq(cJSON_GetObjectItem(j, "active_sessions")->valueint, 0);
    cr_expect_eq(cJSON_GetObjectItem(j, "active_pipelines")->valueint, 0);
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(j, "version")));
    cr_expect_geq(cJSON_GetObjectItem(j, "uptime_ms")->valuedouble, 0);
    cr_expect_gt(cJSON_GetObjectItem(j, "rss_bytes")->valuedouble, 0);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s/.oj", e.dir);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "state_dir")->valuestring, want);
    cJSON_Delete(j);
    oj_out_free(&o);
}

/* What a long-running daemon must keep bounded is visible to its operator:
 * the records in the live state, the de-duplication replies against their
 * budget, and the tick's duration. */
Test(cli, status_resources_counts_records_replies_and_the_tick, .init = setup, .fini = teardown)
{
    start_daemon();
    struct oj_out o = OJ(&e, "lock", "acquire", "res-lock");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "session", "start", "--name", "res-a", "--", "sh", "-c", "echo hi; sleep 30");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "status", "--resources", "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "%s", o.out);
    cr_expect_eq(cJSON_GetObjectItem(j, "session_records")->valuedouble, 1, "%s", o.out);
    cr_expect_eq(cJSON_GetObjectItem(j, "pipeline_records")->valuedouble, 0, "%s", o.out);
    /* the lock acquire and the session start are changes: their replies are kept */
    cr_expect_geq(cJSON_GetObjectItem(j, "reply_cache_entries")->valuedouble, 2, "%s", o.out);
    cr_expect_gt(cJSON_GetObjectItem(j, "reply_cache_bytes")->valuedouble, 0, "%s", o.out);
    cr_expect_eq(cJSON_GetObjectItem(j, "reply_cache_budget")->valuedouble, 8 * 1024 * 1024,
                 "%s", o.out);
    cJSON_Delete(j);
    oj_out_free(&o);
    o = OJ(&e, "status", "--resources");
    cr_expect(strstr(o.out, "records:    1 session(s), 0 pipeline(s)") != NULL, "%s", o.out);
    cr_expect(strstr(o.out, "of 8.0 MiB") != NULL, "%s", o.out);
    cr_expect(strstr(o.out, "(compacted past 95.4 MiB)") != NULL, "the WAL against its cap: %s",
              o.out);
    cr_expect(strstr(o.out, "history:") && strstr(o.out, "of 1.00 GiB, kept 7d 0h"), "%s", o.out);
    cr_expect(strstr(o.out, "tick:") != NULL, "%s", o.out);
    oj_out_free(&o);
}

Test(cli, status_human_forms, .init = setup, .fini = teardown)
{
    start_daemon();
    struct oj_out o = OJ(&e, "status");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "daemon running (pid") && strstr(o.out, "0 active / 10 max"), "%s",
              o.out);
    cr_expect(strstr(o.out, "memory") == NULL, "plain status stays short: %s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "status", "--resources");
    cr_expect(strstr(o.out, "memory:") && strstr(o.out, "RSS") && strstr(o.out, "wal:"), "%s",
              o.out);
    oj_out_free(&o);
    o = OJ(&e, "status", "--verbose");
    const char *want[] = {"socket:", "state dir:", "log:", "level info", "requests:", NULL};
    for (int i = 0; want[i]; i++)
        cr_expect(strstr(o.out, want[i]) != NULL, "--verbose lacks %s: %s", want[i], o.out);
    oj_out_free(&o);
}


/* git's and tmux's habits: `oj help X` is `oj X --help`, -h works on every
 * command, `oj version`, short flags, "did you mean", options after the
 * arguments, `--` ends the options. */
Test(cli, help_is_the_same_from_every_door_and_h_works_everywhere, .init = setup,
     .fini = teardown)
{
    struct oj_out a = OJ(&e, "help", "lock", "acquire");
    struct oj_out b = OJ(&e, "lock", "acquire", "--help");
    struct oj_out c = OJ(&e, "lock", "acquire", "-h");
    cr_expect(a.code == 0 && b.code == 0 && c.code == 0);
    cr_expect_str_eq(a.out, b.out);
    cr_expect_str_eq(b.out, c.out);
    oj_out_free(&a), oj_out_free(&b), oj_out_free(&c);
    struct oj_out g = OJ(&e, "help", "lock");
    cr_expect(g.code == 0 && strstr(g.out, "acquire") && strstr(g.out, "release"), "%s", g.out);
    oj_out_free(&g);
    struct oj_out bad = OJ(&e, "help", "lokc");
    cr_expect_eq(bad.code, 2);
    cr_expect(strstr(bad.err, "did you mean 'lock'?") != NULL, "%s", bad.err);
    expect_one_line_error(&bad);
    oj_out_free(&bad);
    /* every command of the table answers -h with its usage, exit 0 */
    for (const struct oj_cmd *const *c = oj_cmd_table; *c; c++) {
        if (oj_cmd_hidden(*c))
            continue;
        struct oj_out h = (*c)->group ? OJ(&e, (*c)->group, (*c)->name, "-h")
                                      : OJ(&e, (*c)->name, "-h");
        cr_expect(h.code == 0 && strncmp(h.out, "Usage: oj ", 10) == 0, "oj %s %s -h: %s%s",
                  (*c)->group ? (*c)->group : "", (*c)->name, h.out, h.err);
        oj_out_free(&h);
    }
}

Test(cli, version_says_the_protocol_too, .init = setup, .fini = teardown)
{
    struct oj_out v = OJ(&e, "version");
    struct oj_out w = OJ(&e, "--version");
    cr_expect(v.code == 0 && w.code == 0);
    cr_expect(strstr(v.out, "(protocol ") != NULL, "%s", v.out);
    cr_expect_str_eq(v.out, w.out);
    oj_out_free(&v), oj_out_free(&w);
}

Test(cli, a_mistyped_command_or_option_gets_a_suggestion, .init = setup, .fini = teardown)
{
    const char *cases[][4] = {
        {"stauts", NULL, "'status'"},
        {"lock", "aquire", "'acquire'"},
        {"lock", "list", "--jsno", "'--json'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *want = cases[i][2] && strchr(cases[i][2], '\'') ? cases[i][2] : cases[i][3];
        struct oj_out o = cases[i][1] == NULL
                              ? OJ(&e, cases[i][0])
                              : (cases[i][2] && cases[i][3])
                                    ? OJ(&e, cases[i][0], cases[i][1], cases[i][2])
                                    : OJ(&e, cases[i][0], cases[i][1]);
        cr_expect_eq(o.code, 2, "%s", o.err);
        cr_expect(strstr(o.err, want) != NULL, "wanted %s in: %s", want, o.err);
        expect_one_line_error(&o);
        oj_out_free(&o);
    }
}

Test(cli, short_flags_and_options_after_arguments, .init = setup, .fini = teardown)
{
    start_daemon();
    struct oj_out a = OJ(&e, "lock", "acquire", "merge-lock", "--holder", "me");
    cr_assert_eq(a.code, 0, "%s", a.err);
    oj_out_free(&a);
    /* -j is --json, wherever it stands */
    struct oj_out j1 = OJ(&e, "lock", "status", "-j", "merge-lock");
    struct oj_out j2 = OJ(&e, "lock", "status", "merge-lock", "--json");
    cr_expect(j1.code == 0 && j2.code == 0, "%s %s", j1.err, j2.err);
    cr_expect(j1.out[0] == '{' && strstr(j1.out, "\"holder\"") && strstr(j1.out, "\"me\""),
              "%s", j1.out);
    cr_expect_str_eq(j1.out, j2.out);
    oj_out_free(&j1), oj_out_free(&j2);
    /* -v is --verbose */
    struct oj_out v = OJ(&e, "status", "-v");
    cr_expect(v.code == 0 && strstr(v.out, "socket"), "%s%s", v.out, v.err);
    oj_out_free(&v);
    /* a short flag a command does not have is refused by name */
    struct oj_out bad = OJ(&e, "lock", "status", "merge-lock", "-f");
    cr_expect_eq(bad.code, 2);
    cr_expect(strstr(bad.err, "'-f'") != NULL, "%s", bad.err);
    oj_out_free(&bad);
    /* -q: nothing on stdout, the exit status says it; errors still on stderr */
    struct oj_out q = OJ(&e, "lock", "acquire", "quiet-lock", "--holder", "me", "-q");
    cr_expect(q.code == 0 && q.out[0] == '\0', "-q: exit %d, stdout '%s'", q.code, q.out);
    oj_out_free(&q);
    struct oj_out q2 = OJ(&e, "lock", "acquire", "quiet-lock", "--holder", "other", "--quiet");
    cr_expect(q2.code == 5 && q2.out[0] == '\0' && strstr(q2.err, "quiet-lock"),
              "a refusal is still said on stderr: exit %d: %s", q2.code, q2.err);
    oj_out_free(&q2);
    /* after --, a word starting with '-' is an argument (here a lock name,
     * which may hold '-'), not an option */
    struct oj_out dd = OJ(&e, "lock", "status", "--", "--json");
    cr_expect_eq(dd.code, 0, "%s", dd.err);
    cr_expect(strncmp(dd.out, "--json: free", 12) == 0, "-- ends the options: %s", dd.out);
    oj_out_free(&dd);
}

/* On a terminal (script(1) gives oj one) states are coloured and the table
 * fits the window; piped, NO_COLOR or --color=never: plain and whole. */
static int on_a_tty(const char *cmd, const char *env, char *out, size_t len)
{
    char line[PATH_MAX * 2 + 512];
    snprintf(line, sizeof line, "%s script -qec \"%s -C %s %s\" /dev/null", env, e.oj, e.dir,
             cmd);
    char *argv[] = {"bash", "-c", line, NULL};
    return run_prog(e.dir, 30000, out, len, argv);
}

Test(cli, states_are_coloured_and_tables_fit_on_a_terminal_only, .init = setup,
     .fini = teardown)
{
    start_daemon();
    char id[32];
    cr_assert_eq(env_start_agent(&e, "a-session-name-far-too-long-for-a-narrow-window", id,
                                 sizeof id),
                 0);
    static char out[16384];
    cr_assert_eq(on_a_tty("session list", "env -u NO_COLOR COLUMNS=70 TERM=xterm", out,
                          sizeof out),
                 0, "%s", out);
    cr_expect(strstr(out, "\033[32mrunning\033[0m") != NULL, "coloured on a terminal: %s", out);
    cr_expect(strstr(out, "a-session-name-far-too-long-for-a-narrow-window") == NULL &&
                  strstr(out, "\u2026") != NULL,
              "the name is cut to fit 70 columns: %s", out);
    cr_assert_eq(on_a_tty("session list", "NO_COLOR=1 TERM=xterm", out, sizeof out), 0);
    cr_expect(strchr(out, '\033') == NULL, "NO_COLOR: %s", out);
    cr_assert_eq(on_a_tty("--color=never session list", "env -u NO_COLOR TERM=xterm", out,
                          sizeof out),
                 0);
    cr_expect(strchr(out, '\033') == NULL, "--color=never: %s", out);
    struct oj_out piped = OJ(&e, "session", "list");
    cr_expect(strchr(piped.out, '\033') == NULL && strstr(piped.out, "far-too-long-for-a-narrow"),
              "piped: plain and whole: %s", piped.out);
    oj_out_free(&piped);
    struct oj_out forced = OJ(&e, "session", "list", "--color=always");
    cr_expect(strstr(forced.out, "\033[32mrunning") != NULL, "%s", forced.out);
    oj_out_free(&forced);
}

/* .oj/config.json and the user's config.json set what the environment sets;
 * status --verbose says where each value came from; a bad one refuses the
 * start naming the file and the key. */
Test(cli, config_files_layer_under_the_environment, .init = setup, .fini = teardown)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj", e.dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/.oj/config.json", e.dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("{\"max_sessions\": 3, \"nudge_pause\": \"1m\"}\n", f);
    fclose(f);
    /* the harness points XDG_CONFIG_HOME at <project>/.xdg-config */
    char user[PATH_MAX];
    snprintf(user, sizeof user, "%s/.xdg-config", e.dir);
    mkdir(user, 0700);
    snprintf(user, sizeof user, "%s/.xdg-config/oj", e.dir);
    mkdir(user, 0700);
    snprintf(user, sizeof user, "%s/.xdg-config/oj/config.json", e.dir);
    f = fopen(user, "w");
    cr_assert_not_null(f);
    fputs("{\"max_sessions\": 7, \"log_level\": \"debug\"}\n", f);
    fclose(f);
    char *envp[] = {"OJ_SNAPSHOT_KEEP=9", NULL};
    struct oj_out s = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);
    struct oj_out v = OJ(&e, "status", "--verbose");
    cr_assert_eq(v.code, 0, "%s", v.err);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "max_sessions       3        project %s", path);
    cr_expect(strstr(v.out, want) != NULL, "wanted '%s' in:\n%s", want, v.out);
    cr_expect(strstr(v.out, "log_level          debug    user ") != NULL, "%s", v.out);
    cr_expect(strstr(v.out, "snapshot_keep      9        environment OJ_SNAPSHOT_KEEP") != NULL,
              "%s", v.out);
    cr_expect(strstr(v.out, "sessions:   0 active / 3 max") != NULL, "in effect: %s", v.out);
    oj_out_free(&v);
    struct oj_out stop = OJ(&e, "daemon", "stop");
    oj_out_free(&stop);
    /* a flag beats all of them, for that run */
    s = oj_run_in(&e, NULL, envp, "daemon", "start", "--set", "max_sessions=5", (char *)NULL);
    cr_assert_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);
    v = OJ(&e, "status", "-v");
    cr_expect(strstr(v.out, "max_sessions       5        flag --set") != NULL, "%s", v.out);
    oj_out_free(&v);
    stop = OJ(&e, "daemon", "stop");
    oj_out_free(&stop);
    f = fopen(path, "w");
    fputs("{\"max_sesions\": 3}\n", f);
    fclose(f);
    struct oj_out bad = OJ(&e, "daemon", "start");
    cr_expect_eq(bad.code, 2, "%s", bad.err);
    cr_expect(strstr(bad.err, "config.json: unknown setting \"max_sesions\"") != NULL, "%s",
              bad.err);
    expect_one_line_error(&bad);
    oj_out_free(&bad);
}
