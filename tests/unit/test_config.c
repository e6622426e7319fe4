/* Daemon settings come from the environment; bad values must be refused with
 * a message that names the variable. */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"

Test(config, defaults_when_unset)
{
    struct oj_config c;
    char err[256];
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){0}, err, sizeof err), 0);
    cr_expect_eq(c.log_level, OJ_LOG_INFO);
    cr_expect_eq(c.max_sessions, 10);
    cr_expect_eq(c.watchdog_ms, OJ_DEFAULT_WATCHDOG_MS);
    cr_expect_eq(c.snapshot_every, 10000);
    cr_expect_eq(c.snapshot_keep, 5);
    cr_expect_eq(c.compact_bytes, 100000000);
    cr_expect_eq(c.log_max_bytes, 10000000);
    cr_expect_eq(c.log_keep, 5);
}

Test(config, sizes)
{
    uint64_t v;
    cr_assert_eq(oj_size_parse("100MB", &v), 0);
    cr_expect_eq(v, 100000000);
    cr_assert_eq(oj_size_parse("2GiB", &v), 0);
    cr_expect_eq(v, 2ULL << 30);
    cr_assert_eq(oj_size_parse("4096", &v), 0);
    cr_expect_eq(v, 4096);
    cr_expect_eq(oj_size_parse("1.5GB", &v), -1);
    cr_expect_eq(oj_size_parse("MB", &v), -1);
    cr_expect_eq(oj_size_parse("10TB", &v), -1);
}

Test(config, reads_each_variable)
{
    struct oj_config c;
    char err[256];
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){"DEBUG", "3", "2s", "50", "2", "1MiB", "5s", "64KiB", "7", "3d", "2GB", "20m", "21000", "2", "10m", "2h", "2h", "tls+tcp://0.0.0.0:7000", "/c.pem", "/k.pem", "/ca.pem"}, err, sizeof err), 0);
    cr_expect_str_eq(c.remote_listen, "tls+tcp://0.0.0.0:7000");
    cr_expect_str_eq(c.tls_cert, "/c.pem");
    cr_expect_str_eq(c.tls_key, "/k.pem");
    cr_expect_str_eq(c.tls_ca, "/ca.pem");
    cr_expect_eq(c.log_level, OJ_LOG_DEBUG);
    cr_expect_eq(c.agent_idle_timeout_ms, 600000);
    cr_expect_eq(c.phase_timeout_ms, 7200000);
    cr_expect_eq(c.max_sessions, 3);
    cr_expect_eq(c.watchdog_ms, 2000);
    cr_expect_eq(c.snapshot_every, 50);
    cr_expect_eq(c.snapshot_keep, 2);
    cr_expect_eq(c.compact_bytes, 1024 * 1024);
    cr_expect_eq(c.nudge_pause_ms, 5000);
    cr_expect_eq(c.log_max_bytes, 64 * 1024);
    cr_expect_eq(c.log_keep, 7);
    cr_expect_eq(c.retain_history_ms, 3LL * 24 * 3600 * 1000);
    cr_expect_eq(c.history_max_bytes, 2ULL * 1000 * 1000 * 1000);
    cr_expect_eq(c.retain_finished_ms, 20 * 60 * 1000);
    cr_expect_eq(c.lock_held_long_ms, 2 * 3600 * 1000);
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){.log_level = "warn", .max_sessions = ""}, err, sizeof err), 0);
    cr_expect_eq(c.log_level, OJ_LOG_WARN);
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){.log_level = "error"}, err, sizeof err), 0);
    cr_expect_eq(c.log_level, OJ_LOG_ERROR);
}

Test(config, lock_held_long_needs_a_unit_and_allows_0)
{
    struct oj_config c;
    char err[256];
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){.log_level = NULL}, err, sizeof err),
                 0);
    cr_expect_eq(c.lock_held_long_ms, 30 * 60 * 1000, "default 30m");
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){.lock_held_long = "0"}, err,
                                 sizeof err), 0);
    cr_expect_eq(c.lock_held_long_ms, 0);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.lock_held_long = "30"}, err,
                                 sizeof err), -1);
    cr_expect(strstr(err, "OJ_LOCK_HELD_LONG needs a unit"), "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.lock_held_long = "soon"}, err,
                                 sizeof err), -1);
    cr_expect(strstr(err, "OJ_LOCK_HELD_LONG must be a duration"), "%s", err);
}

Test(config, bad_values_name_the_variable)
{
    struct oj_config c;
    char err[256];
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.log_level = "verbose"}, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_LOG_LEVEL") && strstr(err, "verbose"), "%s", err);
    const char *bad_max[] = {"0", "-1", "ten", "10x", "1001", NULL};
    for (int i = 0; bad_max[i]; i++) {
        cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.max_sessions = bad_max[i]}, err, sizeof err), -1, "%s",
                     bad_max[i]);
        cr_expect(strstr(err, "OJ_MAX_SESSIONS") != NULL, "%s", err);
    }
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.watchdog = "10ms"}, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_WATCHDOG_INTERVAL") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.snapshot_every = "often"}, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_SNAPSHOT_EVERY") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.snapshot_keep = "0"}, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_SNAPSHOT_KEEP") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.compact_size = "big"}, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_COMPACT_SIZE") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.nudge_pause = "soon"}, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_NUDGE_PAUSE") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.log_max_size = "100"}, err, sizeof err), -1,
                 "a cap under 4KB would rotate at every entry");
    cr_expect(strstr(err, "OJ_LOG_MAX_SIZE") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.log_keep = "101"}, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_LOG_KEEP") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.log_max_size = "0", .log_keep = "0"}, err, sizeof err), 0,
                 "0 = never rotate; 0 kept = start afresh");
}

/* A daemon left running for a week keeps its history bounded by default, and
 * an operator can widen, narrow or switch off each bound. */
Test(config, history_retention_defaults_and_values)
{
    struct oj_config c;
    char err[256];
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){0}, err, sizeof err), 0, "%s", err);
    cr_expect_eq(c.retain_history_ms, 7LL * 24 * 3600 * 1000, "a week by default");
    cr_expect_eq(c.history_max_bytes, 1ULL << 30, "1 GiB by default");
    cr_expect_eq(c.retain_finished_ms, 3600 * 1000, "finished work stays live an hour");
    cr_assert_eq(oj_config_parse(&c,
                                 &(struct oj_config_env){.retain_history = "12h",
                                                         .history_max_size = "200MB"},
                                 err, sizeof err),
                 0, "%s", err);
    cr_expect_eq(c.retain_history_ms, 12LL * 3600 * 1000);
    cr_expect_eq(c.history_max_bytes, 200ULL * 1000 * 1000);
    cr_assert_eq(oj_config_parse(&c,
                                 &(struct oj_config_env){.retain_history = "0",
                                                         .history_max_size = "0"},
                                 err, sizeof err),
                 0, "0 switches each off: %s", err);
    cr_expect_eq(c.retain_history_ms, 0);
    cr_expect_eq(c.history_max_bytes, 0);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.retain_history = "5s"}, err,
                                 sizeof err),
                 -1);
    cr_expect(strstr(err, "OJ_RETAIN_HISTORY") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.history_max_size = "lots"}, err,
                                 sizeof err),
                 -1);
    cr_expect(strstr(err, "OJ_HISTORY_MAX_SIZE") != NULL, "%s", err);
}

/* A bare number was once seconds ("OJ_RETAIN_HISTORY=7" kept a week's logs
 * for 7 s): refused, saying which units to add and what 0 means there. */
Test(config, a_duration_without_a_unit_names_the_fix)
{
    struct oj_config c;
    char err[512];
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.retain_history = "7"}, err,
                                 sizeof err),
                 -1);
    cr_expect(strstr(err, "OJ_RETAIN_HISTORY needs a unit: 7s, 7m, 7h or 7d") &&
                  strstr(err, "0 keeps history forever"),
              "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.retain_finished = "3600"}, err,
                                 sizeof err),
                 -1);
    cr_expect(strstr(err, "OJ_RETAIN_FINISHED needs a unit") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.nudge_pause = "30"}, err,
                                 sizeof err),
                 -1);
    cr_expect(strstr(err, "OJ_NUDGE_PAUSE needs a unit: 30s") != NULL, "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.retain_finished = "0"}, err,
                                 sizeof err),
                 0, "0 stays: %s", err);
}

Test(config, workspace_ports_come_from_a_range_that_can_be_moved)
{
    struct oj_config c;
    char err[256];
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){0}, err, sizeof err), 0);
    cr_expect_eq(c.port_base, 20000);
    cr_expect_eq(c.port_step, 1);
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){.port_base = "30000",
                                                             .port_step = "10"},
                                 err, sizeof err),
                 0, "%s", err);
    cr_expect_eq(c.port_base, 30000);
    cr_expect_eq(c.port_step, 10);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.port_base = "80"}, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "OJ_PORT_BASE") && strstr(err, "'80'"), "%s", err);
    cr_expect_eq(oj_config_parse(&c, &(struct oj_config_env){.port_step = "0"}, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "OJ_PORT_STEP") != NULL, "%s", err);
}

/* Nothing listens remotely unless configured, and then only over TLS with all
 * three files: a half-done configuration refuses the start naming what is missing. */
Test(config, remote_listen_needs_tls_and_all_three_files)
{
    struct oj_config c;
    char err[512];
    cr_assert_eq(oj_config_parse(&c, &(struct oj_config_env){0}, err, sizeof err), 0);
    cr_expect_str_eq(c.remote_listen, "", "nothing listens remotely by default");

    struct oj_config_env e = {.remote_listen = "tls+tcp://127.0.0.1:7000", .tls_cert = "/c.pem",
                              .tls_key = "/k.pem"};
    cr_assert_eq(oj_config_parse(&c, &e, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_REMOTE_LISTEN needs") == err, "%s", err);
    cr_expect(strstr(err, "missing: OJ_TLS_CA") != NULL, "%s", err);

    e.tls_ca = "/ca.pem";
    e.remote_listen = "tcp://127.0.0.1:7000";
    cr_assert_eq(oj_config_parse(&c, &e, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_REMOTE_LISTEN must be a URL like tls+tcp://") == err, "%s", err);
    e.remote_listen = "tls+tcp://127.0.0.1:65535";
    cr_assert_eq(oj_config_parse(&c, &e, err, sizeof err), -1);
    cr_expect(strstr(err, "port from 1 to 65534") != NULL, "%s", err);

    e.remote_listen = "tls+tcp://127.0.0.1:7000";
    e.tls_key = "k.pem";
    cr_assert_eq(oj_config_parse(&c, &e, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_TLS_KEY must be an absolute path") == err, "%s", err);
}
