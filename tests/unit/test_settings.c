/* Where each daemon setting comes from: the environment beats the project's
 * .oj/config.json, which beats the user's config.json, which beats the
 * default; a bad value or key is named by its file and key. */
#include <criterion/criterion.h>
#include <string.h>

#include "settings.h"

static const char *env_none(const char *name)
{
    (void)name;
    return NULL;
}
static const char *env_some(const char *name)
{
    return strcmp(name, "OJ_MAX_SESSIONS") == 0 ? "4" : NULL;
}

static int find(const struct oj_settings *st, const char *key)
{
    for (int i = 0; i < OJ_SETTINGS_N; i++)
        if (strcmp(st->s[i].key, key) == 0)
            return i;
    return -1;
}

Test(settings, environment_beats_project_beats_user_beats_default)
{
    struct oj_settings st;
    struct oj_config cfg;
    char err[512], src[600];
    const char *project = "{\"max_sessions\": 3, \"nudge_pause\": \"1m\", \"//\": \"why\"}";
    const char *user = "{\"max_sessions\": 7, \"nudge_pause\": \"2m\", \"log_level\": \"debug\"}";
    cr_assert_eq(oj_settings_resolve(&st, NULL, 0, env_some, "/p/.oj/config.json", project,
                                     "/u/oj/config.json", user, &cfg, err, sizeof err),
                 0, "%s", err);
    cr_expect_eq(cfg.max_sessions, 4);
    oj_setting_source(&st, find(&st, "max_sessions"), src, sizeof src);
    cr_expect_str_eq(src, "environment OJ_MAX_SESSIONS");
    cr_expect_eq(cfg.nudge_pause_ms, 60000);
    oj_setting_source(&st, find(&st, "nudge_pause"), src, sizeof src);
    cr_expect_str_eq(src, "project /p/.oj/config.json");
    cr_expect_eq(cfg.log_level, OJ_LOG_DEBUG);
    oj_setting_source(&st, find(&st, "log_level"), src, sizeof src);
    cr_expect_str_eq(src, "user /u/oj/config.json");
    cr_expect_eq(cfg.snapshot_keep, OJ_DEFAULT_SNAPSHOT_KEEP);
    oj_setting_source(&st, find(&st, "snapshot_keep"), src, sizeof src);
    cr_expect_str_eq(src, "default");
    char v[64];
    oj_setting_value(&cfg, find(&st, "compact_size"), v, sizeof v);
    cr_expect_str_eq(v, "100MB");
}

Test(settings, a_flag_beats_the_environment_and_a_bad_one_is_named)
{
    struct oj_settings st;
    struct oj_config cfg;
    char err[512], src[64];
    const char *flags[] = {"max_sessions=2"};
    cr_assert_eq(oj_settings_resolve(&st, flags, 1, env_some, "/p", "{\"max_sessions\": 3}", NULL,
                                     NULL, &cfg, err, sizeof err),
                 0, "%s", err);
    cr_expect_eq(cfg.max_sessions, 2, "flag 2 over environment 4 over project 3");
    oj_setting_source(&st, 1, src, sizeof src);
    cr_expect_str_eq(src, "flag --set");
    const char *typo[] = {"max_sesions=2"};
    cr_expect_eq(oj_settings_resolve(&st, typo, 1, env_none, "/p", NULL, NULL, NULL, &cfg, err,
                                     sizeof err),
                 -1);
    cr_expect(strstr(err, "--set max_sesions=2: no such setting") != NULL, "%s", err);
    const char *bad[] = {"max_sessions=0"};
    cr_expect_eq(oj_settings_resolve(&st, bad, 1, env_none, "/p", NULL, NULL, NULL, &cfg, err,
                                     sizeof err),
                 -1);
    cr_expect(strstr(err, "--set max_sessions=0: must be a whole number from 1 to 1000") != NULL,
              "%s", err);
}

Test(settings, no_files_and_no_environment_is_every_default)
{
    struct oj_settings st;
    struct oj_config cfg;
    char err[256];
    cr_assert_eq(oj_settings_resolve(&st, NULL, 0, env_none, "/p", NULL, "/u", NULL, &cfg, err,
                                     sizeof err),
                 0);
    cr_expect_eq(cfg.max_sessions, OJ_DEFAULT_MAX_SESSIONS);
    cr_expect_eq(cfg.retain_finished_ms, OJ_DEFAULT_RETAIN_FINISHED_MS);
}

Test(settings, a_bad_file_value_or_key_names_the_file_and_the_key)
{
    struct oj_settings st;
    struct oj_config cfg;
    char err[512];
    cr_expect_eq(oj_settings_resolve(&st, NULL, 0, env_none, "/p/c.json", "{\"max_sessions\": 0}", NULL,
                                     NULL, &cfg, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "/p/c.json: \"max_sessions\" must be") != NULL, "%s", err);
    cr_expect_eq(oj_settings_resolve(&st, NULL, 0, env_none, "/p/c.json", "{\"max_sesions\": 3}", NULL,
                                     NULL, &cfg, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "unknown setting \"max_sesions\"") && strstr(err, "max_sessions"),
              "%s", err);
    cr_expect_eq(oj_settings_resolve(&st, NULL, 0, env_none, "/p", NULL, "/u/c.json",
                                     "{\"nudge_pause\": 30}", &cfg, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "/u/c.json: \"nudge_pause\" needs a unit") != NULL, "%s", err);
    cr_expect_eq(oj_settings_resolve(&st, NULL, 0, env_none, "/p", "{\"log_level\": true}", NULL, NULL,
                                     &cfg, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "must be a string or a whole number") != NULL, "%s", err);
    cr_expect_eq(oj_settings_resolve(&st, NULL, 0, env_none, "/p", "not json", NULL, NULL, &cfg, err,
                                     sizeof err),
                 -1);
    cr_expect(strstr(err, "malformed JSON") != NULL, "%s", err);
}

Test(settings, runbook_timeouts_have_defaults_of_their_own)
{
    struct oj_settings st;
    struct oj_config cfg;
    char err[512];
    cr_assert_eq(oj_settings_resolve(&st, NULL, 0, env_none, "/p",
                                     "{\"agent_idle_timeout\": \"10m\", \"phase_timeout\": \"2h\"}",
                                     NULL, NULL, &cfg, err, sizeof err),
                 0, "%s", err);
    cr_expect_eq(cfg.agent_idle_timeout_ms, 600000);
    cr_expect_eq(cfg.phase_timeout_ms, 7200000);
    cr_expect_eq(oj_settings_resolve(&st, NULL, 0, env_none, "/p", "{\"agent_idle_timeout\": \"10ms\"}",
                                     NULL, NULL, &cfg, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "\"agent_idle_timeout\" must be a duration of at least 1s") != NULL,
              "%s", err);
}

Test(settings, a_bad_environment_value_is_named_by_its_variable)
{
    struct oj_settings st;
    struct oj_config cfg;
    char err[512];
    cr_expect_eq(oj_settings_resolve(&st, NULL, 0, env_some, "/p", "{\"max_sessions\": 3}", NULL, NULL,
                                     &cfg, err, sizeof err),
                 0, "the environment's valid 4 wins over the file");
    cr_expect_eq(cfg.max_sessions, 4);
}
