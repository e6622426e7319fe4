/* Daemon settings come from the environment; bad values must be refused with
 * a message that names the variable. */
#include <criterion/criterion.h>
#include <string.h>

#include "config.h"

Test(config, defaults_when_unset)
{
    struct oj_config c;
    char err[256];
    cr_assert_eq(oj_config_parse(&c, NULL, NULL, NULL, err, sizeof err), 0);
    cr_expect_eq(c.log_level, OJ_LOG_INFO);
    cr_expect_eq(c.max_sessions, 10);
    cr_expect_eq(c.watchdog_ms, OJ_DEFAULT_WATCHDOG_MS);
}

Test(config, reads_each_variable)
{
    struct oj_config c;
    char err[256];
    cr_assert_eq(oj_config_parse(&c, "DEBUG", "3", "2s", err, sizeof err), 0);
    cr_expect_eq(c.log_level, OJ_LOG_DEBUG);
    cr_expect_eq(c.max_sessions, 3);
    cr_expect_eq(c.watchdog_ms, 2000);
    cr_assert_eq(oj_config_parse(&c, "warn", "", "", err, sizeof err), 0);
    cr_expect_eq(c.log_level, OJ_LOG_WARN);
    cr_assert_eq(oj_config_parse(&c, "error", NULL, NULL, err, sizeof err), 0);
    cr_expect_eq(c.log_level, OJ_LOG_ERROR);
}

Test(config, bad_values_name_the_variable)
{
    struct oj_config c;
    char err[256];
    cr_expect_eq(oj_config_parse(&c, "verbose", NULL, NULL, err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_LOG_LEVEL") && strstr(err, "verbose"), "%s", err);
    const char *bad_max[] = {"0", "-1", "ten", "10x", "1001", NULL};
    for (int i = 0; bad_max[i]; i++) {
        cr_expect_eq(oj_config_parse(&c, NULL, bad_max[i], NULL, err, sizeof err), -1, "%s",
                     bad_max[i]);
        cr_expect(strstr(err, "OJ_MAX_SESSIONS") != NULL, "%s", err);
    }
    cr_expect_eq(oj_config_parse(&c, NULL, NULL, "10ms", err, sizeof err), -1);
    cr_expect(strstr(err, "OJ_WATCHDOG_INTERVAL") != NULL, "%s", err);
}
