/* config.c — see config.h. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "remote.h"

int oj_size_parse(const char *text, uint64_t *out)
{
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return -1;
    char *end;
    unsigned long long n = strtoull(text, &end, 10);
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {{"", 1},         {"B", 1},
                 {"KB", 1000ULL}, {"KiB", 1024ULL},
                 {"MB", 1000ULL * 1000}, {"MiB", 1024ULL * 1024},
                 {"GB", 1000ULL * 1000 * 1000}, {"GiB", 1024ULL * 1024 * 1024}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            if (n > UINT64_MAX / units[i].mult)
                return -1;
            *out = n * units[i].mult;
            return 0;
        }
    }
    return -1;
}

static int parse_count(const char *v, long lo, long hi, long *out)
{
    if (!isdigit((unsigned char)v[0]))
        return -1;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

/* A duration variable: 0 parsed, 1 a bare number (err says which unit to
 * add, and what 0 means when `zero` says), -1 malformed (the caller says why). */
static int env_duration(const char *var, const char *v, const char *zero, int64_t *ms,
                        char *err, size_t errlen)
{
    int rc = oj_duration_parse(v, ms);
    if (rc == OJ_DURATION_NO_UNIT) {
        snprintf(err, errlen, "%s needs a unit: %ss, %sm, %sh or %sd (got '%s'; a bare number "
                 "is refused%s%s)",
                 var, v, v, v, v, v, zero ? ", but for 0: " : "", zero ? zero : "");
        return 1;
    }
    return rc;
}

/* OJ_REMOTE_LISTEN and the three files it needs. The files are read when the
 * daemon starts listening (remote.h names one that is unreadable or invalid). */
static int parse_remote(struct oj_config *cfg, const struct oj_config_env *env, char *err,
                        size_t errlen)
{
    static const char *const vars[] = {"OJ_TLS_CERT", "OJ_TLS_KEY", "OJ_TLS_CA"};
    const char *files[] = {env->tls_cert, env->tls_key, env->tls_ca};
    char *into[] = {cfg->tls_cert, cfg->tls_key, cfg->tls_ca};
    for (int i = 0; i < 3; i++) {
        if (files[i] == NULL || files[i][0] == '\0')
            continue;
        if (files[i][0] != '/' || strlen(files[i]) >= sizeof cfg->tls_cert) {
            snprintf(err, errlen, "%s must be an absolute path to a PEM file (got '%s')", vars[i],
                     files[i]);
            return -1;
        }
        snprintf(into[i], sizeof cfg->tls_cert, "%s", files[i]);
    }
    const char *url = env->remote_listen;
    if (url == NULL || url[0] == '\0')
        return 0;
    char host[256], why[256];
    int port;
    if (strlen(url) >= sizeof cfg->remote_listen ||
        oj_remote_url_parse(url, host, sizeof host, &port, why, sizeof why) != 0) {
        snprintf(err, errlen, "OJ_REMOTE_LISTEN %s",
                 strlen(url) >= sizeof cfg->remote_listen ? "is too long" : why);
        return -1;
    }
    if (!cfg->tls_cert[0] || !cfg->tls_key[0] || !cfg->tls_ca[0]) {
        snprintf(err, errlen,
                 "OJ_REMOTE_LISTEN needs OJ_TLS_CERT, OJ_TLS_KEY and OJ_TLS_CA (tls_cert, "
                 "tls_key, tls_ca in config.json: the daemon's certificate, its key and the CA "
                 "of its clients; `oj remote init` makes them); missing: %s%s%s",
                 cfg->tls_cert[0] ? "" : "OJ_TLS_CERT ", cfg->tls_key[0] ? "" : "OJ_TLS_KEY ",
                 cfg->tls_ca[0] ? "" : "OJ_TLS_CA");
        return -1;
    }
    snprintf(cfg->remote_listen, sizeof cfg->remote_listen, "%s", url);
    return 0;
}

int oj_config_parse(struct oj_config *cfg, const struct oj_config_env *env, char *err,
                    size_t errlen)
{
    const char *log_level = env->log_level, *max_sessions = env->max_sessions,
               *watchdog = env->watchdog;
    cfg->log_level = OJ_LOG_INFO;
    cfg->max_sessions = OJ_DEFAULT_MAX_SESSIONS;
    cfg->watchdog_ms = OJ_DEFAULT_WATCHDOG_MS;
    cfg->snapshot_every = OJ_DEFAULT_SNAPSHOT_EVERY;
    cfg->snapshot_keep = OJ_DEFAULT_SNAPSHOT_KEEP;
    cfg->compact_bytes = OJ_DEFAULT_COMPACT_BYTES;
    cfg->nudge_pause_ms = OJ_DEFAULT_NUDGE_PAUSE_MS;
    cfg->lock_held_long_ms = OJ_DEFAULT_LOCK_HELD_LONG_MS;
    cfg->log_max_bytes = OJ_DEFAULT_LOG_MAX_BYTES;
    cfg->log_keep = OJ_DEFAULT_LOG_KEEP;
    cfg->retain_finished_ms = OJ_DEFAULT_RETAIN_FINISHED_MS;
    cfg->retain_history_ms = OJ_DEFAULT_RETAIN_HISTORY_MS;
    cfg->history_max_bytes = OJ_DEFAULT_HISTORY_MAX_BYTES;
    cfg->port_base = OJ_DEFAULT_PORT_BASE;
    cfg->port_step = OJ_DEFAULT_PORT_STEP;
    cfg->remote_listen[0] = cfg->tls_cert[0] = cfg->tls_key[0] = cfg->tls_ca[0] = '\0';

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
        int rc = env_duration("OJ_WATCHDOG_INTERVAL", watchdog, NULL, &ms, err, errlen);
        if (rc > 0)
            return -1;
        if (rc != 0 || ms < 100) {
            snprintf(err, errlen,
                     "OJ_WATCHDOG_INTERVAL must be a duration of at least 100ms, like 500ms or 2s "
                     "(got '%s')",
                     watchdog);
            return -1;
        }
        cfg->watchdog_ms = ms;
    }
    long n;
    if (env->snapshot_every && *env->snapshot_every) {
        if (parse_count(env->snapshot_every, 0, 1000000000L, &n) != 0) {
            snprintf(err, errlen,
                     "OJ_SNAPSHOT_EVERY must be a record count (0 = never; got '%s')",
                     env->snapshot_every);
            return -1;
        }
        cfg->snapshot_every = (uint64_t)n;
    }
    if (env->snapshot_keep && *env->snapshot_keep) {
        if (parse_count(env->snapshot_keep, 1, 1000, &n) != 0) {
            snprintf(err, errlen, "OJ_SNAPSHOT_KEEP must be a whole number from 1 to 1000 (got '%s')",
                     env->snapshot_keep);
            return -1;
        }
        cfg->snapshot_keep = (unsigned)n;
    }
    int rc = 0;
    if (env->nudge_pause && *env->nudge_pause &&
        (rc = env_duration("OJ_NUDGE_PAUSE", env->nudge_pause, NULL, &cfg->nudge_pause_ms, err,
                           errlen)) != 0) {
        if (rc > 0)
            return -1;
        snprintf(err, errlen, "OJ_NUDGE_PAUSE must be a duration like 30s or 2m (got '%s')",
                 env->nudge_pause);
        return -1;
    }
    if (env->lock_held_long && *env->lock_held_long &&
        (rc = env_duration("OJ_LOCK_HELD_LONG", env->lock_held_long, "0 lists only stale locks",
                           &cfg->lock_held_long_ms, err, errlen)) != 0) {
        if (rc > 0)
            return -1;
        snprintf(err, errlen,
                 "OJ_LOCK_HELD_LONG must be a duration like 30m or 2h, or 0 (got '%s')",
                 env->lock_held_long);
        return -1;
    }
    if (env->compact_size && *env->compact_size &&
        oj_size_parse(env->compact_size, &cfg->compact_bytes) != 0) {
        snprintf(err, errlen,
                 "OJ_COMPACT_SIZE must be a size like 100MB, 1GiB or 0 for never (got '%s')",
                 env->compact_size);
        return -1;
    }
    if (env->log_max_size && *env->log_max_size &&
        (oj_size_parse(env->log_max_size, &cfg->log_max_bytes) != 0 ||
         (cfg->log_max_bytes > 0 && cfg->log_max_bytes < 4096))) {
        snprintf(err, errlen,
                 "OJ_LOG_MAX_SIZE must be a size of at least 4KB like 10MB, or 0 for never "
                 "(got '%s')",
                 env->log_max_size);
        return -1;
    }
    if (env->log_keep && *env->log_keep) {
        if (parse_count(env->log_keep, 0, 100, &n) != 0) {
            snprintf(err, errlen, "OJ_LOG_KEEP must be a whole number from 0 to 100 (got '%s')",
                     env->log_keep);
            return -1;
        }
        cfg->log_keep = (unsigned)n;
    }
    if (env->retain_finished && *env->retain_finished &&
        ((rc = env_duration("OJ_RETAIN_FINISHED", env->retain_finished,
                            "0 archives only by oj maintenance archive",
                            &cfg->retain_finished_ms, err, errlen)) != 0 ||
         (cfg->retain_finished_ms > 0 && cfg->retain_finished_ms < 1000))) {
        if (rc > 0)
            return -1;
        snprintf(err, errlen,
                 "OJ_RETAIN_FINISHED must be a duration of at least 1s like 1h or 30m, or 0 for "
                 "only by oj maintenance archive (got '%s')",
                 env->retain_finished);
        return -1;
    }
    if (env->retain_history && *env->retain_history &&
        ((rc = env_duration("OJ_RETAIN_HISTORY", env->retain_history, "0 keeps history forever",
                            &cfg->retain_history_ms, err, errlen)) != 0 ||
         (cfg->retain_history_ms > 0 && cfg->retain_history_ms < 60 * 1000))) {
        if (rc > 0)
            return -1;
        snprintf(err, errlen,
                 "OJ_RETAIN_HISTORY must be a duration of at least 1m like 7d or 12h, or 0 for "
                 "never (got '%s')",
                 env->retain_history);
        return -1;
    }
    if (env->history_max_size && *env->history_max_size &&
        (oj_size_parse(env->history_max_size, &cfg->history_max_bytes) != 0 ||
         (cfg->history_max_bytes > 0 && cfg->history_max_bytes < 1000 * 1000))) {
        snprintf(err, errlen,
                 "OJ_HISTORY_MAX_SIZE must be a size of at least 1MB like 1GB, or 0 for no cap "
                 "(got '%s')",
                 env->history_max_size);
        return -1;
    }
    if (env->port_base && *env->port_base) {
        if (parse_count(env->port_base, 1024, 65535, &n) != 0) {
            snprintf(err, errlen, "OJ_PORT_BASE must be a port number from 1024 to 65535 (got "
                                  "'%s')", env->port_base);
            return -1;
        }
        cfg->port_base = (int)n;
    }
    if (env->port_step && *env->port_step) {
        if (parse_count(env->port_step, 1, 1000, &n) != 0) {
            snprintf(err, errlen, "OJ_PORT_STEP must be a whole number from 1 to 1000 (got '%s')",
                     env->port_step);
            return -1;
        }
        cfg->port_step = (int)n;
    }
    if (env->agent_idle_timeout && *env->agent_idle_timeout) {
        int r = env_duration("OJ_AGENT_IDLE_TIMEOUT", env->agent_idle_timeout,
                             "0 keeps the runbook default, 5m", &cfg->agent_idle_timeout_ms, err,
                             errlen);
        if (r > 0)
            return -1;
        if (r != 0 || (cfg->agent_idle_timeout_ms > 0 && cfg->agent_idle_timeout_ms < 1000)) {
            snprintf(err, errlen,
                     "OJ_AGENT_IDLE_TIMEOUT must be a duration of at least 1s like 10m, or 0 for "
                     "the runbook default (got '%s')",
                     env->agent_idle_timeout);
            return -1;
        }
    }
    if (env->phase_timeout && *env->phase_timeout) {
        int r = env_duration("OJ_PHASE_TIMEOUT", env->phase_timeout, "0 means none",
                             &cfg->phase_timeout_ms, err, errlen);
        if (r > 0)
            return -1;
        if (r != 0) {
            snprintf(err, errlen,
                     "OJ_PHASE_TIMEOUT must be a duration like 2h, or 0 for none (got '%s')",
                     env->phase_timeout);
            return -1;
        }
    }
    return parse_remote(cfg, env, err, errlen);
}
