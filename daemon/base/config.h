/* config.h — daemon settings read from the environment at start-up.
 * Parsing is pure (takes the values, not getenv) so it is unit-tested. */
#ifndef OJ_CONFIG_H
#define OJ_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define OJ_DEFAULT_MAX_SESSIONS 10
#define OJ_DEFAULT_WATCHDOG_MS 500
#define OJ_DEFAULT_NUDGE_PAUSE_MS 30000
#define OJ_DEFAULT_SNAPSHOT_EVERY 10000
#define OJ_DEFAULT_SNAPSHOT_KEEP 5
#define OJ_DEFAULT_COMPACT_BYTES (100ULL * 1000 * 1000)
#define OJ_DEFAULT_LOG_MAX_BYTES (10ULL * 1000 * 1000)
#define OJ_DEFAULT_LOG_KEEP 5
#define OJ_DEFAULT_RETAIN_FINISHED_MS (3600LL * 1000)
#define OJ_DEFAULT_RETAIN_HISTORY_MS (7LL * 24 * 3600 * 1000)
#define OJ_DEFAULT_HISTORY_MAX_BYTES (1ULL << 30)
#define OJ_DEFAULT_PORT_BASE 20000
#define OJ_DEFAULT_PORT_STEP 1
#define OJ_DEFAULT_LOCK_HELD_LONG_MS (30LL * 60 * 1000)

struct oj_config {
    enum oj_log_level log_level; /* OJ_LOG_LEVEL */
    uint32_t max_sessions;       /* OJ_MAX_SESSIONS */
    int64_t watchdog_ms;         /* OJ_WATCHDOG_INTERVAL: listener self-check period */
    uint64_t snapshot_every;     /* OJ_SNAPSHOT_EVERY: automatic snapshot after N records */
    unsigned snapshot_keep;      /* OJ_SNAPSHOT_KEEP: snapshots kept */
    uint64_t compact_bytes;      /* OJ_COMPACT_SIZE: automatic compaction past this WAL size */
    int64_t nudge_pause_ms;      /* OJ_NUDGE_PAUSE: no stuck events this soon after a nudge */
    uint64_t log_max_bytes;      /* OJ_LOG_MAX_SIZE: daemon.log rotates past this (0 = never) */
    unsigned log_keep;           /* OJ_LOG_KEEP: rotated logs kept (daemon.log.1 ...) */
    /* OJ_RETAIN_FINISHED: finished pipelines and ended sessions are archived (leave the
     * live state) this long after they finished (0 = only by oj maintenance archive) */
    int64_t retain_finished_ms;
    /* OJ_RETAIN_HISTORY: logs, prompts and archives of records no longer in the live
     * state are removed this long after they were last written (0 = never) */
    int64_t retain_history_ms;
    uint64_t history_max_bytes;  /* OJ_HISTORY_MAX_SIZE: all of them together (0 = no cap) */
    /* OJ_PORT_BASE, OJ_PORT_STEP: each live workspace's OJ_PORT is base + k * step, the
     * first such port no other workspace holds */
    int port_base, port_step;
    /* OJ_AGENT_IDLE_TIMEOUT, OJ_PHASE_TIMEOUT: what a runbook phase that names no
     * idle_timeout (agents) or timeout gets (0 = the runbook defaults: 5m, none) */
    int64_t agent_idle_timeout_ms, phase_timeout_ms;
    /* OJ_LOCK_HELD_LONG: oj status lists a lock held longer than this (0 = only stale ones) */
    int64_t lock_held_long_ms;
    /* OJ_REMOTE_LISTEN: also serve tls+tcp://HOST:PORT (requests) and PORT + 1 (events)
     * with mutual TLS (remote.h); "" = nothing listens beyond the local sockets.
     * OJ_TLS_CERT, OJ_TLS_KEY: the daemon's certificate and key; OJ_TLS_CA: the CA that
     * signs its clients' certificates. Absolute paths, all three needed with the URL. */
    char remote_listen[256], tls_cert[1024], tls_key[1024], tls_ca[1024];
};

/* The raw values of the variables (NULL = unset). */
struct oj_config_env {
    const char *log_level, *max_sessions, *watchdog, *snapshot_every, *snapshot_keep,
        *compact_size, *nudge_pause, *log_max_size, *log_keep, *retain_history,
        *history_max_size, *retain_finished, *port_base, *port_step, *agent_idle_timeout,
        *phase_timeout, *lock_held_long, *remote_listen, *tls_cert, *tls_key, *tls_ca;
};

/* Fills cfg from the given variable values. On a bad value, returns -1 and
 * writes a one-line reason naming the variable into err. */
int oj_config_parse(struct oj_config *cfg, const struct oj_config_env *env, char *err,
                    size_t errlen);

/* "100MB", "1GiB", "4096" (bytes). 0 on success, -1 when malformed. */
int oj_size_parse(const char *text, uint64_t *out);

/* The process environment, the project's and the user's config files:
 * settings.h. */
#endif
