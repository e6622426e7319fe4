/* rpc_daemon.c — handlers for the daemon itself: Status and DaemonStop.
 * (Ping is answered by the server without reaching the engine.) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "engine_work.h"
#include "dashboard.h"
#include "dashboard_route.h"
#include "history_sweep.h"
#include "log.h"
#include "rpc.h"
#include "rpc_client.h" /* OJ_DEFAULT_STOP_TIMEOUT_MS */
#include "rpc_table.h"
#include "remote.h"
#include "reply_cache.h"
#include "server.h"
#include "state.h"
#include "status_attention.h"
#include "sessions_engine.h"
#include "store.h"
#include "version.h"
#include "wire.pb-c.h"
#include "pipelines.h"
#include "resources.h"

static void rpc_status(Oj__Control_Service *svc, const Oj__StatusRequest *in,
                       Oj__StatusResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct oj_server_stats st;
    oj_server_stats(d->server, &st);

    Oj__StatusResponse out = OJ__STATUS_RESPONSE__INIT;
    out.version = (char *)OJ_VERSION;
    out.pid = (int32_t)d->pid;
    out.started_at_ms = d->started_at_ms;
    out.uptime_ms = oj_mono_ms() - d->started_mono_ms;
    out.active_pipelines = oj_pipelines_active(d);
    out.active_sessions = oj_sessions_active(d);
    out.max_sessions = d->cfg.max_sessions;
    out.queued_sessions = oj_pipelines_queued(d);
    out.draining = atomic_load(&d->stop_timeout_ms) != 0;
    out.newest_snapshot_age_ms = -1;
    if (in->verbose || in->resources) {
        struct oj_store_stats ss;
        oj_store_stats(d->store, &ss);
        out.rss_bytes = oj_rss_bytes();
        out.wal_bytes = ss.wal_bytes;
        out.wal_records_since_snapshot = ss.records_since_snapshot;
        out.snapshot_count = ss.snapshot_count;
        if (ss.newest_snapshot_ms > 0)
            out.newest_snapshot_age_ms = oj_wall_ms() - ss.newest_snapshot_ms;
        oj_engine_tick_times(d, &out.tick_last_us, &out.tick_max_us);
        const struct oj_state *state = oj_store_state(d->store);
        out.session_records = (uint32_t)oj_state_count(state, "session");
        out.pipeline_records = (uint32_t)oj_state_count(state, "pipeline");
        out.reply_cache_bytes = st.reply_cache_bytes;
        out.reply_cache_budget = OJ_REPLY_CACHE_BUDGET_BYTES;
        out.reply_cache_entries = (uint32_t)st.reply_cache_entries;
        struct oj_history_stats hs;
        oj_history_stats(d, &hs);
        out.history_bytes = hs.bytes;
        out.history_files = hs.files;
        out.history_max_bytes = d->cfg.history_max_bytes;
        out.retain_history_ms = d->cfg.retain_history_ms;
        out.history_removed_files = hs.removed;
        out.compact_bytes = d->cfg.compact_bytes;
        out.snapshot_keep = d->cfg.snapshot_keep;
    }
    if (in->verbose) {
        out.project_root = d->paths.root;
        out.state_dir = d->paths.state_dir;
        out.socket_path = d->paths.sock_path;
        out.events_socket_path = d->paths.events_sock_path;
        out.log_path = d->paths.log_path;
        out.log_level = (char *)oj_log_level_name(d->cfg.log_level);
        out.requests_served = st.served;
        out.requests_in_flight = st.in_flight > 0 ? st.in_flight - 1 : 0; /* not this one */
        out.listener_restarts = st.listener_restarts;
    }
    Oj__Setting settings[OJ_SETTINGS_N], *setting_ptrs[OJ_SETTINGS_N];
    /* the settings' texts, on the heap: this may run on any of nng's threads */
    struct setting_text {
        char value[1024], source[PATH_MAX + 32];
    } *text = in->verbose ? calloc(OJ_SETTINGS_N, sizeof *text) : NULL;
    if (text) {
        for (int i = 0; i < OJ_SETTINGS_N; i++) {
            oj__setting__init(&settings[i]);
            settings[i].key = (char *)d->settings.s[i].key;
            oj_setting_value(&d->cfg, i, text[i].value, sizeof text[i].value);
            oj_setting_source(&d->settings, i, text[i].source, sizeof text[i].source);
            settings[i].value = text[i].value;
            settings[i].source = text[i].source;
            setting_ptrs[i] = &settings[i];
        }
        out.settings = setting_ptrs;
        out.n_settings = OJ_SETTINGS_N;
    }
    oj_runbooks_refresh(d);
    out.runbook_error = d->runbooks_error;
    Oj__PipelineWait *waits = NULL;
    out.n_waiting = oj_pipelines_waiting(d, &waits);
    Oj__PipelineWait **wp = calloc(out.n_waiting + 1, sizeof *wp);
    for (size_t i = 0; wp && i < out.n_waiting; i++)
        wp[i] = &waits[i];
    out.waiting = wp;
    if (wp == NULL)
        out.n_waiting = 0;
    oj_status_attention(d, waits, out.n_waiting, &out);
    done(&out, call);
    oj_status_attention_free(&out);
    free(text);
    free(wp);
    free(waits);
}

static void rpc_daemon_stop(Oj__Control_Service *svc, const Oj__DaemonStopRequest *in,
                            Oj__DaemonStopResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct oj_server_stats st;
    oj_server_stats(d->server, &st);
    int64_t t = in->timeout_ms > 0 ? in->timeout_ms : OJ_DEFAULT_STOP_TIMEOUT_MS;
    int64_t expected = 0;
    atomic_compare_exchange_strong(&d->stop_timeout_ms, &expected, t);

    Oj__DaemonStopResponse out = OJ__DAEMON_STOP_RESPONSE__INIT;
    out.pid = (int32_t)d->pid;
    out.in_flight = st.in_flight > 0 ? st.in_flight - 1 : 0;
    LOG_INFO("daemon: stop requested (timeout %lld ms, %u requests in flight)", (long long)t,
             out.in_flight);
    done(&out, call);
    /* The main thread waits for this signal; the reply above is already queued
     * and the drain waits for it to go out. */
    kill(getpid(), SIGUSR1);
}

/* ---- the daemon's log -------------------------------------------------------------------- */

#define DLOG_DEFAULT_MAX (1u << 20)
#define DLOG_MAX (16u << 20)
#define DLOG_DEFAULT_LINES 10

/* Up to max bytes of the file at fd from `from`, into *buf (malloc'd). */
static size_t read_at(int fd, uint64_t from, uint64_t size, size_t max, uint8_t **buf)
{
    size_t want = from < size ? (size - from > max ? max : (size_t)(size - from)) : 0;
    *buf = malloc(want + 1);
    if (*buf == NULL || want == 0)
        return 0;
    ssize_t n = pread(fd, *buf, want, (off_t)from);
    return n > 0 ? (size_t)n : 0;
}

/* Where the last `lines` lines of the file begin (reads its last max bytes). */
static uint64_t tail_start(int fd, uint64_t size, unsigned lines, size_t max)
{
    uint64_t from = size > max ? size - max : 0;
    uint8_t *buf;
    size_t n = read_at(fd, from, size, max, &buf);
    size_t i = n;
    if (i > 0 && buf[i - 1] == '\n')
        i--; /* the last line's own newline */
    unsigned seen = 0;
    while (i > 0) {
        if (buf[i - 1] == '\n' && ++seen == lines)
            break;
        i--;
    }
    free(buf);
    return from + i;
}

/* A DaemonLogs read, done off the state (engine_work.h oj_engine_read): the
 * log is the daemon's own file, nothing of the state is needed. */
struct dlog_read {
    Oj__DaemonLogsResponse_Closure done;
    void *call;
    char path[PATH_MAX];
    bool from;
    uint64_t file_id, offset;
    unsigned lines;
    size_t max;
};

static void daemon_logs_read(void *arg)
{
    struct dlog_read *r = arg;
    Oj__DaemonLogsResponse out = OJ__DAEMON_LOGS_RESPONSE__INIT;
    out.path = r->path;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        OJ_FAIL(r->call, r->done, OJ__STATUS_CODE__INTERNAL, "cannot read %s: %s", r->path,
                strerror(errno));
        free(r);
        return;
    }
    uint64_t from = 0;
    if (r->from && r->file_id != 0 && r->file_id != (uint64_t)st.st_ino) {
        /* Rotated since: the rest of the file the reader was in, when it is
         * daemon.log.1 now, then (next call) the new one from its start. */
        char old[PATH_MAX + 8];
        snprintf(old, sizeof old, "%s.1", r->path);
        int ofd = open(old, O_RDONLY | O_CLOEXEC);
        struct stat ost;
        if (ofd >= 0 && fstat(ofd, &ost) == 0 && (uint64_t)ost.st_ino == r->file_id &&
            r->offset < (uint64_t)ost.st_size) {
            uint8_t *buf;
            size_t n = read_at(ofd, r->offset, (uint64_t)ost.st_size, r->max, &buf);
            close(ofd);
            close(fd);
            out.data.data = buf;
            out.data.len = n;
            out.offset = r->offset + n;
            out.file_id = r->file_id;
            r->done(&out, r->call);
            free(buf);
            free(r);
            return;
        }
        if (ofd >= 0)
            close(ofd);
        out.rotated = true;
    } else if (r->from) {
        from = r->offset <= (uint64_t)st.st_size ? r->offset : 0;
        out.rotated = r->offset > (uint64_t)st.st_size; /* truncated: start over */
    } else {
        from = tail_start(fd, (uint64_t)st.st_size, r->lines, r->max);
    }
    uint8_t *buf;
    size_t n = read_at(fd, from, (uint64_t)st.st_size, r->max, &buf);
    close(fd);
    out.data.data = buf;
    out.data.len = n;
    out.offset = from + n;
    out.file_id = (uint64_t)st.st_ino;
    r->done(&out, r->call);
    free(buf);
    free(r);
}

static void rpc_daemon_logs(Oj__Control_Service *svc, const Oj__DaemonLogsRequest *in,
                            Oj__DaemonLogsResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct dlog_read *r = calloc(1, sizeof *r);
    if (r == NULL)
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "daemon out of memory");
    *r = (struct dlog_read){
        .done = done,
        .call = call,
        .from = in->from,
        .file_id = in->file_id,
        .offset = in->offset,
        .lines = in->tail_lines ? in->tail_lines : DLOG_DEFAULT_LINES,
        .max = in->max_bytes == 0          ? DLOG_DEFAULT_MAX
               : in->max_bytes > DLOG_MAX ? DLOG_MAX
                                          : in->max_bytes,
    };
    snprintf(r->path, sizeof r->path, "%s", d->paths.log_path);
    /* At most max bytes are read (twice for a tail: where its lines begin,
     * then them), never more than the file holds. */
    struct stat st;
    uint64_t size = 0, ino = 0;
    if (stat(r->path, &st) == 0)
        size = (uint64_t)st.st_size, ino = (uint64_t)st.st_ino;
    if (r->from && r->file_id != 0 && r->file_id != ino)
        size = r->max; /* the rest of daemon.log.1 */
    else if (r->from) /* following: what was added since */
        size = r->offset <= size ? size - r->offset : size;
    oj_engine_read(d, size < r->max ? size : r->max, daemon_logs_read, r);
}

/* DashboardStart: serves the dashboard (dashboard.h), or names the one
 * already served. In memory only: nothing is journaled, and a restarted
 * daemon serves nothing until asked again (with a new token). */
static void rpc_dashboard_start(Oj__Control_Service *svc, const Oj__DashboardRequest *in,
                                Oj__DashboardInfo_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    const char *listen = in->listen[0] ? in->listen : "127.0.0.1";
    char err[512];
    if (d->dashboard == NULL) {
        bool loopback = oj_dash_loopback(listen);
        if (!loopback && (!d->cfg.tls_cert[0] || !d->cfg.tls_key[0]))
            OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT,
                           "--listen %s is beyond loopback: the dashboard serves there only over "
                           "https, with the daemon's tls_cert and tls_key set (docs/protocol.md)",
                           listen);
        char assets[PATH_MAX], proto[PATH_MAX];
        if (oj_dashboard_find_assets(assets, sizeof assets, proto, sizeof proto, err,
                                     sizeof err) != 0)
            OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "%s", err);
        struct nng_tls_config *tls = NULL;
        static const char *const names[3] = {"tls_cert", "tls_key", "tls_ca"};
        if (!loopback && oj_remote_tls_config(&tls, true, d->cfg.tls_cert, d->cfg.tls_key, NULL,
                                              NULL, names, err, sizeof err) != 0)
            OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT, "%s", err);
        struct oj_dashboard_opts o = {listen, in->port, assets, proto, tls, d->server,
                                      d->publisher};
        int rc = oj_dashboard_start(&d->dashboard, &o, err, sizeof err);
        if (tls)
            nng_tls_config_free(tls); /* the http server holds it */
        if (rc != 0)
            OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INTERNAL, "dashboard: %s", err);
        LOG_INFO("dashboard: serving %s on %s port %d", assets, listen,
                 oj_dashboard_port(d->dashboard));
    } else if ((in->port && in->port != oj_dashboard_port(d->dashboard)) ||
               (in->listen[0] && strcmp(listen, oj_dashboard_listen(d->dashboard)) != 0)) {
        OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__CONFLICT,
                       "the dashboard already serves on %s port %d; stop the daemon to move it "
                       "(`oj dashboard` alone prints its URL)",
                       oj_dashboard_listen(d->dashboard), oj_dashboard_port(d->dashboard));
    }
    Oj__DashboardInfo out = OJ__DASHBOARD_INFO__INIT;
    out.url = (char *)oj_dashboard_url(d->dashboard);
    out.port = oj_dashboard_port(d->dashboard);
    out.token = (char *)oj_dashboard_token(d->dashboard);
    done(&out, call);
}

void oj_rpc_register_daemon(Oj__Control_Service *svc)
{
    svc->status = rpc_status;
    svc->daemon_stop = rpc_daemon_stop;
    svc->daemon_logs = rpc_daemon_logs;
    svc->dashboard_start = rpc_dashboard_start;
}
