/* daemon_main.c — start-up and shutdown of the daemon process.
 *
 * Order matters and each step says why:
 *  1. block the stop signals before any thread exists (nng starts threads on
 *     first use), so only the main thread ever receives them;
 *  2. create .oj/ and take the single-instance lock *before* touching any
 *     other file or socket: a second daemon must never remove the first one's
 *     socket;
 *  3. open the log, load the durable state (snapshot + WAL replay), start the
 *     engine, listen, start the watchdog: no request is served before the
 *     state is whole;
 *  4. tell whoever started us that we answer (ready pipe);
 *  5. wait for SIGTERM/SIGINT (graceful, default timeout) or SIGUSR1 (sent
 *     by the DaemonStop handler, with the requested timeout); SIGHUP reopens
 *     the log (for an external logrotate);
 *  6. drain: refuse new work, let in-flight calls finish within the timeout,
 *     stop the engine, sync the WAL and take a snapshot, close the socket,
 *     remove the socket file. The pid lock goes with the process. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "daemon_main.h"

#include "clock.h"
#include "archive.h"
#include "cron.h"
#include "history_sweep.h"
#include "notifier.h"
#include "project_config.h"
#include "daemon.h"
#include "engine_work.h"
#include "lock_engine.h"
#include "log.h"
#include "pidlock.h"
#include "publisher.h"
#include "dashboard.h"
#include "remote.h"
#include "rpc_checks.h"
#include "rpc_client.h" /* OJ_DEFAULT_STOP_TIMEOUT_MS */
#include "rpc_table.h"
#include "server.h"
#include "sessions_engine.h"
#include "status_attention.h"
#include "store.h"
#include "store_jobs.h"
#include "version.h"
#include "watchdog.h"
#include "watcher.h"
#include "engine_runner.h"
#include "pipelines.h"
#include "workspace_stat.h"

static void tell(int fd, const char *fmt, const char *detail, long n)
{
    if (fd < 0)
        return;
    char buf[PATH_MAX + 1024]; /* a recovery report names files and seq ranges */
    int len = detail ? snprintf(buf, sizeof buf, fmt, detail) : snprintf(buf, sizeof buf, fmt, n);
    if (len > 0 && write(fd, buf, (size_t)len) < 0) {
        /* the starter went away; nothing to tell */
    }
}

/* Start-up findings (torn tail cut, snapshot fallback, --recover report) go to
 * the starting CLI as NOTE lines; the store has logged them already. */
static void note_to_starter(const char *text, void *arg)
{
    const struct oj_daemon_opts *o = arg;
    tell(o->ready_fd, "NOTE %s\n", text, 0);
}

/* The engine's once-a-second tick. Sessions first: their list-panes is
 * handed to tmux, and what it shows is handled when tmux answers
 * (session_events); then every active pipeline; then the scheduled jobs. */
/* What the engine's domains hold in memory (liveness, running jobs, the
 * watcher's bookkeeping, the runbooks), once the engine has stopped. */
static void free_domain(struct oj_daemon *d)
{
    oj_lock_forget(d);
    oj_sessions_forget(d);
    oj_hmap_free(&d->pipeline_shells);
    oj_hmap_free(&d->pipeline_agents_starting);
    oj_ws_stats_forget(d);
    oj_cron_forget(d);
    oj_status_attention_forget(d);
    oj_watcher_free(d->watcher);
    if (d->runbooks) {
        oj_runbooks_free(d->runbooks);
        free(d->runbooks);
    }
}

/* What the sessions' tick saw, once tmux has answered: what ended or went
 * quiet goes to its pipeline (which may end, nudge or restart its agent). */
static void session_events(struct oj_daemon *d, const struct oj_session_events *ev, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < ev->n; i++) {
        const struct oj_session_event *e = &ev->at[i];
        if (e->pipeline_id[0] == '\0')
            continue; /* a standalone session: no one to tell */
        if (e->kind == OJ_SESSION_ENDED)
            oj_pipeline_session_ended(d, e->pipeline_id, e->session_id);
        else
            oj_pipeline_session_stuck(d, e->pipeline_id, e->session_id);
    }
}

static void tick(void *arg)
{
    struct oj_daemon *d = arg;
    oj_sessions_tick(d, session_events, NULL);
    oj_pipelines_tick(d);
    oj_cron_tick(d);
    oj_archive_tick(d);
    oj_history_tick(d);
}

/* Every published event, to the project notifier's queue (never waits). */
static void to_notifier(void *arg, const struct oj_pub_event_info *e)
{
    struct oj_notifier_event ev = {e->seq,        e->time_ms, e->kind,   e->pipeline_id,
                                   e->session_id, e->phase,   e->message};
    oj_notifier_event(arg, &ev);
}

/* The project notifier of .oj/config.json, started; NULL when none is set up
 * (or it cannot start: logged, the daemon runs without it). */
static struct oj_notifier *start_notifier(struct oj_daemon *d,
                                          const struct oj_notifier_config *c)
{
    if (c->command == NULL)
        return NULL;
    struct oj_notifier_opts no = {
        .command = c->command,
        .kinds = (const char *const *)c->kinds,
        .n_kinds = c->n_kinds,
        .timeout_ms = c->timeout_ms,
        .cwd = d->paths.root,
        .tmp_dir = d->paths.state_dir,
    };
    struct oj_notifier *n = oj_notifier_new(&no);
    if (n == NULL) {
        LOG_WARN("daemon: cannot start the notifier of %s: %s; running without it",
                 OJ_PROJECT_CONFIG_FILE, strerror(errno));
        return NULL;
    }
    char kinds[512] = "";
    for (size_t i = 0; i < c->n_kinds; i++)
        snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s", i ? ", " : "",
                 c->kinds[i]);
    LOG_INFO("daemon: notifier runs for %s (timeout %lld ms): %.300s", kinds,
             (long long)c->timeout_ms, c->command);
    oj_pub_set_tap(d->publisher, to_notifier, n);
    return n;
}

static int fail(const struct oj_daemon_opts *o, const char *why)
{
    LOG_ERROR("daemon: %s", why);
    tell(o->ready_fd, "ERROR %s\n", why, 0);
    if (o->foreground && oj_log_fd() < 0)
        fprintf(stderr, "oj: %s\n", why);
    return 1;
}

int oj_daemon_run(const struct oj_daemon_opts *o)
{
    char err[PATH_MAX + 256];
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGUSR1);
    sigaddset(&stop_set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Big buffers (a snapshot's text, the WAL read at start-up, a long
     * listing) get pages of their own, given back when freed. Fixed
     * thresholds: left to itself, glibc raises both after the first big free
     * and then keeps up to twice the biggest buffer ever used in the heap
     * (measured: RSS 15% over the live state after a second compaction). */
    mallopt(M_MMAP_THRESHOLD, 512 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
    /* One arena: glibc would give each of nng's threads, the engine, the
     * sync thread and every off-engine job an arena of its own (up to 8 per
     * core), each keeping the free space of its largest job; over hours
     * that was most of the RSS creep (docs/performance.md, "A week"). */
    mallopt(M_ARENA_MAX, 1);

    struct oj_daemon *d = calloc(1, sizeof *d);
    if (d == NULL)
        return fail(o, "out of memory");
    d->pid = getpid();
    if (oj_paths_init(&d->paths, o->root) != 0) {
        snprintf(err, sizeof err, "project path %s is too long for a socket, even in the fallback "
                 "directory; set XDG_RUNTIME_DIR to a short directory", o->root);
        free(d);
        return fail(o, err);
    }
    if (oj_settings_load(&d->settings, d->paths.state_dir, o->set, o->n_set, &d->cfg, err,
                         sizeof err) != 0) {
        free(d);
        return fail(o, err);
    }
    char perr[PATH_MAX + 128];
    if (oj_paths_prepare(&d->paths, perr, sizeof perr) != 0) {
        free(d);
        return fail(o, perr);
    }

    pid_t holder = 0;
    int lock_fd = oj_pidlock_acquire(d->paths.pid_path, &holder);
    if (lock_fd == -2) {
        tell(o->ready_fd, "ALREADY %ld\n", NULL, (long)holder);
        if (o->foreground)
            fprintf(stderr, "oj: daemon already running (pid %ld) in %s\n", (long)holder, o->root);
        free(d);
        return 0;
    }
    if (lock_fd < 0) {
        snprintf(err, sizeof err, "cannot lock %s: %s", d->paths.pid_path, strerror(errno));
        free(d);
        return fail(o, err);
    }

    if (oj_log_open(d->paths.log_path, d->cfg.log_level, o->foreground) != 0) {
        snprintf(err, sizeof err, "cannot open log %s: %s", d->paths.log_path, strerror(errno));
        goto fail_lock;
    }
    oj_log_set_rotation(d->cfg.log_max_bytes, d->cfg.log_keep);
    d->started_at_ms = oj_wall_ms();
    d->started_mono_ms = oj_mono_ms();
    LOG_INFO("daemon: oj %s starting (pid %d) in %s, log level %s, max sessions %u", OJ_VERSION,
             (int)d->pid, d->paths.root, oj_log_level_name(d->cfg.log_level), d->cfg.max_sessions);
    if (d->paths.sock_fallback)
        LOG_INFO("daemon: project path too long for a socket in .oj/; using %s", d->paths.sock_path);

    if (!o->foreground)
        oj_log_capture_stderr(); /* crash and sanitizer reports land in the log */
    /* Remote access: the certificate files are read before anything else
     * starts, so a bad one refuses the start naming the file. */
    struct nng_tls_config *tls = NULL;
    static const char *const tls_names[3] = {"tls_cert", "tls_key", "tls_ca"};
    if (d->cfg.remote_listen[0] &&
        oj_remote_tls_config(&tls, true, d->cfg.tls_cert, d->cfg.tls_key, d->cfg.tls_ca, NULL,
                             tls_names, err, sizeof err) != 0)
        goto fail_log;

    /* The project's own settings: a bad file refuses the start, naming the key. */
    struct oj_project_config pcfg;
    char pcfg_path[PATH_MAX + 32];
    snprintf(pcfg_path, sizeof pcfg_path, "%s/%s", d->paths.root, OJ_PROJECT_CONFIG_FILE);
    if (oj_project_config_load(pcfg_path, &pcfg, err, sizeof err) != 0)
        goto fail_log;
    struct oj_notifier *notifier = NULL;

    struct oj_store_opts sto = {
        .state_dir = d->paths.state_dir,
        .recover = o->recover,
        .rebuild = o->rebuild,
        .snapshot_every = d->cfg.snapshot_every,
        .snapshot_keep = d->cfg.snapshot_keep,
        .compact_bytes = d->cfg.compact_bytes,
        .note = note_to_starter,
        .note_arg = (void *)o,
        .maint_due = oj_maintain_when_due, /* off the engine thread */
        .maint_due_arg = d,
    };
    if (oj_store_open(&d->store, &sto, err, sizeof err) != 0)
        goto fail_log;
    /* The tick and oj status walk the few that are not finished, not all. */
    oj_pipelines_index(d);
    oj_sessions_index(d);
    oj_hmap_init(&d->lock_heartbeats);
    oj_hmap_init(&d->session_live);
    oj_hmap_init(&d->pipeline_shells);
    oj_hmap_init(&d->pipeline_agents_starting);
    oj_hmap_init(&d->cron_running);
    oj_hmap_init(&d->workspace_stats);
    /* The watcher's bookkeeping exists before the engine asks it anything;
     * its thread starts once there is a publisher. */
    if ((d->watcher = oj_watcher_new()) == NULL) {
        snprintf(err, sizeof err, "out of memory");
        goto fail_store;
    }

    oj_rpc_register_all(&d->svc);
    oj_engine_set_tick(d, tick, d);
    if (oj_engine_start(d) != 0) {
        snprintf(err, sizeof err, "cannot start the engine thread");
        goto fail_store;
    }
    struct oj_server_opts so = {
        .sock_path = d->paths.sock_path,
        .service = &oj__control__descriptor,
        .rpcs = oj_rpc_checks,
        .sink = oj_engine_submit,
        .sink_arg = d,
    };
    if (oj_server_start(&d->server, &so, err, sizeof err) != 0)
        goto fail_engine;
    if (oj_pub_start(&d->publisher, d->paths.events_sock_path, err, sizeof err) != 0)
        goto fail_server;
    if (tls) {
        char events_url[300];
        oj_remote_events_url(d->cfg.remote_listen, events_url, sizeof events_url);
        if (oj_server_listen_remote(d->server, d->cfg.remote_listen, tls, err, sizeof err) != 0 ||
            oj_pub_listen_remote(d->publisher, events_url, tls, err, sizeof err) != 0)
            goto fail_pub;
        nng_tls_config_free(tls); /* the listeners hold it */
        tls = NULL;
        LOG_INFO("daemon: listening remotely on %s (requests) and %s (events), mutual TLS with "
                 "clients of %s", d->cfg.remote_listen, events_url, d->cfg.tls_ca);
    }
    if (oj_watcher_start(d->watcher, d->paths.session_log_dir, d->publisher) != 0) {
        snprintf(err, sizeof err, "cannot watch %s for session output: %s",
                 d->paths.session_log_dir, strerror(errno));
        goto fail_pub;
    }
    struct oj_watchdog_opts wo = {
        .sock_path = d->paths.sock_path,
        .events_sock_path = d->paths.events_sock_path,
        .server = d->server,
        .publisher = d->publisher,
        .interval_ms = d->cfg.watchdog_ms,
    };
    if (oj_watchdog_start(&d->watchdog, &wo) != 0)
        LOG_WARN("daemon: cannot start the listener watchdog; continuing without it");
    notifier = start_notifier(d, &pcfg.notifier);
    oj_project_config_free(&pcfg);
    LOG_INFO("daemon: listening on %s", d->paths.sock_path);
    tell(o->ready_fd, "READY %ld\n", NULL, (long)d->pid);
    if (o->ready_fd >= 0)
        close(o->ready_fd);

    /* Wait for a stop. */
    int64_t timeout_ms = OJ_DEFAULT_STOP_TIMEOUT_MS;
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&stop_set, &si);
        if (sig == SIGHUP) {
            /* An external logrotate moved daemon.log away: write to a new one. */
            if (oj_log_reopen() != 0)
                LOG_WARN("daemon: SIGHUP: cannot reopen %s: %s; still writing to the old file",
                         d->paths.log_path, strerror(errno));
            else
                LOG_INFO("daemon: SIGHUP: reopened %s", d->paths.log_path);
            continue;
        }
        if (sig == SIGUSR1) {
            int64_t t = atomic_load(&d->stop_timeout_ms);
            if (t == 0)
                continue; /* not from DaemonStop: ignore */
            timeout_ms = t;
            break;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            int64_t expected = 0;
            atomic_compare_exchange_strong(&d->stop_timeout_ms, &expected, timeout_ms);
            LOG_INFO("daemon: %s received; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
    }

    /* Graceful stop. */
    /* 1. stop accepting new work: no new requests but Ping, Status and
     * DaemonStop; no new oj run or phase start from the engine */
    int64_t deadline = oj_mono_ms() + timeout_ms;
    atomic_store(&d->draining, true);
    oj_server_set_draining(d->server);
    unsigned left = oj_server_wait_idle(d->server, deadline);
    if (left > 0)
        LOG_WARN("daemon: %u requests still running after %lld ms; stopping anyway", left,
                 (long long)timeout_ms);
    /* 2. wait for running shell steps; the engine still records their ends */
    int running = oj_runners_wait(d, deadline);
    if (running > 0)
        LOG_WARN("daemon: %d shell step(s) still running after %lld ms; they are cut off and "
                 "handled as after a crash at the next start",
                 running, (long long)timeout_ms);
    else
        LOG_INFO("daemon: no shell steps running");
    oj_watchdog_stop(d->watchdog);
    oj_watcher_stop(d->watcher);
    oj_engine_stop(d);
    /* The engine is gone, so this thread may touch the state now. */
    /* 3. checkpoint all sessions (they keep running in tmux) */
    oj_sessions_checkpoint(d);
    /* 4. release all locks; their pipelines take them back at the next start */
    oj_pipelines_release_locks(d);
    /* 5. sync the WAL (and snapshot) as the store closes */
    /* Replies still waiting for a sync go out before the socket closes; a
     * log read or a lone client's sync still running goes through the store
     * first. */
    oj_engine_store_users_wait(d);
    oj_store_close(d->store, true);
    oj_server_stop(d->server);
    /* The notifier's last events run now, within what is left of the timeout. */
    oj_pub_set_tap(d->publisher, NULL, NULL);
    int64_t left_ms = deadline - oj_mono_ms();
    oj_notifier_free(notifier, left_ms < 500 ? 500 : left_ms > 10000 ? 10000 : left_ms);
    oj_pub_stop(d->publisher);
    oj_dashboard_stop(d->dashboard);
    free_domain(d);
    LOG_INFO("daemon: stopped (pid %d)", (int)d->pid);
    oj_log_close();
    close(lock_fd); /* releases the single-instance lock */
    /* A shell step that outlived the timeout still has its runner thread,
     * which will look at d once more (and find the engine gone): d stays. */
    if (atomic_load(&d->runners_active) == 0)
        free(d);
    return 0;

    /* Start-up failures unwind in reverse order. The lock goes before the
     * starter hears ERROR, so whatever it runs next (a restore, a --recover
     * start) finds the project free. */
fail_pub:
    oj_pub_stop(d->publisher);
fail_server:
    oj_server_stop(d->server);
fail_engine:
    oj_engine_stop(d);
fail_store:
    oj_engine_store_users_wait(d);
    oj_store_close(d->store, false);
    free_domain(d);
fail_log:
    oj_project_config_free(&pcfg);
    if (tls)
        nng_tls_config_free(tls);
    LOG_ERROR("daemon: %s", err);
    oj_log_close();
fail_lock:
    close(lock_fd);
    free(d);
    tell(o->ready_fd, "ERROR %s\n", err, 0);
    if (o->foreground)
        fprintf(stderr, "oj: %s\n", err);
    return 1;
}
