/* config.c — see config.h. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "duration.h"

int oj_config_parse(struct oj_config *cfg, const char *log_level, const char *max_sessions,
                    const char *watchdog, char *err, size_t errlen)
{
    cfg->log_level = OJ_LOG_INFO;
    cfg->max_sessions = OJ_DEFAULT_MAX_SESSIONS;
    cfg->watchdog_ms = OJ_DEFAULT_WATCHDOG_MS;

    if (oj_log_level_parse(log_level, &cfg->log_level) != 0) {
        snprintf(err, errlen, "OJ_LOG_LEVEL must be error, warn, info or debug (got '%s')",
                 log_level);
        return -1;
    }
    if (max_sessions != NULL && *max_sessions != '\0') {
        char *end;
        long v = isdigit((unsigned char)max_sessions[0]) ? strtol(max_sessions, &end, 10) : -1;
        if (v < 1 || v > 1000 || *end != '\0') {
            snprintf(err, errlen, "OJ_MAX_SESSIONS must be a whole number from 1 to 1000 (got '%s')",
                     max_sessions);
            return -1;
        }
        cfg->max_sessions = (uint32_t)v;
    }
    if (watchdog != NULL && *watchdog != '\0') {
        int64_t ms;
        if (oj_duration_parse(watchdog, &ms) != 0 || ms < 100) {
            snprintf(err, errlen,
                     "OJ_WATCHDOG_INTERVAL must be a duration of at least 100ms, like 500ms or 2s "
                     "(got '%s')",
                     watchdog);
            return -1;
        }
        cfg->watchdog_ms = ms;
    }
    return 0;
}

int oj_config_from_env(struct oj_config *cfg, char *err, size_t errlen)
{
    return oj_config_parse(cfg, getenv("OJ_LOG_LEVEL"), getenv("OJ_MAX_SESSIONS"),
                           getenv("OJ_WATCHDOG_INTERVAL"), err, errlen);
}
