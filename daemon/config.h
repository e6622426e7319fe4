/* config.h — daemon settings read from the environment at start-up.
 * Parsing is pure (takes the values, not getenv) so it is unit-tested. */
#ifndef OJ_CONFIG_H
#define OJ_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define OJ_DEFAULT_MAX_SESSIONS 10
#define OJ_DEFAULT_STOP_TIMEOUT_MS 10000
#define OJ_DEFAULT_WATCHDOG_MS 500

struct oj_config {
    enum oj_log_level log_level; /* OJ_LOG_LEVEL */
    uint32_t max_sessions;       /* OJ_MAX_SESSIONS */
    int64_t watchdog_ms;         /* OJ_WATCHDOG_INTERVAL: listener self-check period */
};

/* Fills cfg from the given variable values (NULL = unset). On a bad value,
 * returns -1 and writes a one-line reason naming the variable into err. */
int oj_config_parse(struct oj_config *cfg, const char *log_level, const char *max_sessions,
                    const char *watchdog, char *err, size_t errlen);

/* oj_config_parse() with the process environment. */
int oj_config_from_env(struct oj_config *cfg, char *err, size_t errlen);
#endif
