/* session_tick.c — the sessions' part of the once-a-second tick: what tmux
 * says about every live session, the panes of ended ones removed, and what
 * ended or went quiet handed back to the caller (see sessions_engine.h).
 * tmux is asked on the tmux queue (engine_work.h); its answer comes back to
 * the engine, where the pure rules (sessions.h) judge it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "duration.h"
#include "engine_work.h"
#include "log.h"
#include "publisher.h"
#include "session_live.h"
#include "sessions_engine.h"
#include "store.h"
#include "tmux.h"

static void add_event(struct oj_session_events *ev, enum oj_session_event_kind kind,
                      const char *session_id, const char *pipeline_id)
{
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 8;
        struct oj_session_event *grown = realloc(ev->at, cap * sizeof *grown);
        if (grown == NULL) {
            LOG_ERROR("sessions: out of memory; session %s's pipeline is not told", session_id);
            return;
        }
        ev->at = grown;
        ev->cap = cap;
    }
    struct oj_session_event *e = &ev->at[ev->n++];
    e->kind = kind;
    snprintf(e->session_id, sizeof e->session_id, "%s", session_id);
    snprintf(e->pipeline_id, sizeof e->pipeline_id, "%s", pipeline_id);
}

void oj_session_events_free(struct oj_session_events *ev)
{
    free(ev->at);
    *ev = (struct oj_session_events){0};
}

/* A record the tick changed: journaled after the pass over the state. */
struct change {
    char *id;
    struct oj_session s;
};

struct observe_ctx {
    struct oj_daemon *d;
    struct oj_tmux_pane *panes;
    int npanes;
    uint64_t ticket; /* the list-panes' place on the tmux queue */
    bool server_gone;
    int64_t now;
    struct change *changes;
    size_t nchanges, capchanges;
    struct oj_session_events stuck; /* quiet ones, for their pipelines */
};

/* The exit status the session's wrapper wrote, or -1. */
static int status_file(struct oj_daemon *d, const char *id)
{
    char path[PATH_MAX + 96], buf[16] = "";
    snprintf(path, sizeof path, "%s/%.64s.status", d->paths.session_log_dir, id);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 && buf[0] >= '0' && buf[0] <= '9' ? atoi(buf) : -1;
}

/* The panes come sorted by session (by_session, list_work): a session's pane
 * is a binary search away, so a tick with a thousand sessions does not
 * compare every session with every pane. */
static int by_session(const void *a, const void *b)
{
    const struct oj_tmux_pane *x = a, *y = b;
    int c = strcmp(x->session, y->session);
    return c ? c : (x->pid > y->pid) - (x->pid < y->pid);
}

static const struct oj_tmux_pane *pane_of(const struct observe_ctx *o, const char *id)
{
    size_t lo = 0, hi = o->npanes > 0 ? (size_t)o->npanes : 0;
    while (lo < hi) { /* the first pane whose session is not below id */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(o->panes[mid].session, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < (size_t)o->npanes && strcmp(o->panes[lo].session, id) == 0 ? &o->panes[lo]
                                                                          : NULL;
}

/* Keeps the changed record s (takes its strings) for journaling. */
static void keep_change(struct observe_ctx *o, const char *id, struct oj_session *s)
{
    if (o->nchanges == o->capchanges) {
        size_t cap = o->capchanges ? o->capchanges * 2 : 8;
        struct change *grown = realloc(o->changes, cap * sizeof *grown);
        if (grown == NULL) {
            LOG_ERROR("sessions: out of memory; %s is recorded at a later tick", id);
            oj_session_clear(s);
            return;
        }
        o->changes = grown;
        o->capchanges = cap;
    }
    char *copy = strdup(id);
    if (copy == NULL) {
        oj_session_clear(s);
        return;
    }
    o->changes[o->nchanges++] = (struct change){.id = copy, .s = *s};
}

/* Still alive: quiet past its idle timeout? Raises session.stuck once per
 * quiet spell (oj_session_stuck_now). */
static void look_for_quiet(struct observe_ctx *o, const char *id, const struct oj_session *s,
                           struct oj_session_live *l)
{
    if (s->idle_timeout_ms <= 0)
        return;
    int64_t mtime;
    uint64_t size;
    oj_session_log_stat(s->log, &mtime, &size);
    int64_t last = oj_session_last_output(s, mtime);
    int64_t from = last > l->quiet_from_ms ? last : l->quiet_from_ms;
    if (!oj_session_stuck_now(o->now, from, s->idle_timeout_ms, l->last_nudge_ms,
                              o->d->cfg.nudge_pause_ms, l->last_stuck_ms))
        return;
    l->last_stuck_ms = o->now;
    char quiet[32], limit[32], msg[128];
    oj_duration_format(o->now - last, quiet, sizeof quiet);
    oj_duration_format(s->idle_timeout_ms, limit, sizeof limit);
    snprintf(msg, sizeof msg, "quiet for %s (idle timeout %s)", quiet, limit);
    LOG_INFO("sessions: %s is stuck: %s", id, msg);
    oj_pub_event(o->d->publisher, "session.stuck", id, s->pipeline_id, msg);
    add_event(&o->stuck, OJ_SESSION_STUCK, id, s->pipeline_id);
}

static void observe(const char *id, const struct oj_session *rec, void *arg)
{
    struct observe_ctx *o = arg;
    if (rec->state == OJ_SESSION_DEAD)
        return; /* dead is final (oj_session_observe); its pane is the reaper's */
    struct oj_session_live *l = oj_session_live_of(o->d, id);
    if (l->spawn_ticket > o->ticket)
        return; /* its start came after this list: the next tick sees its pane */
    const struct oj_tmux_pane *pane = pane_of(o, id);
    struct oj_session_seen seen = {.pane = pane, .server_gone = o->server_gone,
                                   .status_file = -1};
    if (o->server_gone || pane == NULL || pane->dead)
        seen.status_file = status_file(o->d, id);
    l->dead_unknown_ticks = pane && pane->dead && !pane->status_known ? l->dead_unknown_ticks + 1
                                                                      : 0;
    seen.dead_unknown_ticks = l->dead_unknown_ticks;
    struct oj_session s;
    if (oj_session_copy(&s, rec) != 0)
        return; /* out of memory: looked at again next tick */
    if (oj_session_observe(&s, &seen, o->now)) {
        keep_change(o, id, &s);
        return;
    }
    oj_session_clear(&s);
    /* Waiting for a human is not stuck: a nudge would answer its prompt. */
    if (!oj_session_look_for_input(o->d, id, rec, l, o->now))
        look_for_quiet(o, id, rec, l);
}

/* Whether the session's log is drained (oj_session_log_drained); counts the
 * ticks it kept its size. *behind: drained only by giving up on the watcher. */
static bool drained(struct oj_daemon *d, const char *id, struct oj_session_live *l, bool *behind)
{
    char path[PATH_MAX + 96];
    snprintf(path, sizeof path, "%s/%.64s.log", d->paths.session_log_dir, id);
    int64_t mtime;
    uint64_t size;
    oj_session_log_stat(path, &mtime, &size);
    l->log_stable_ticks = l->log_looked && size == l->log_size ? l->log_stable_ticks + 1 : 0;
    l->log_looked = true;
    l->log_size = size;
    int64_t published = oj_watcher_published(d, id);
    *behind = !oj_session_log_drained(size, published, 1);
    return oj_session_log_drained(size, published, l->log_stable_ticks);
}

/* A pane the reaper hands to tmux to remove, and what to say once it is gone. */
struct reap_job {
    char id[64];
    bool dead, behind, recorded;
};

static void reaped(struct oj_daemon *d, void *arg, int rc, const char *err)
{
    struct reap_job *r = arg;
    if (d == NULL) {
        free(r);
        return;
    }
    struct oj_session_live *l = oj_session_live_of(d, r->id);
    if (rc != 0) {
        if (!l->reap_failed) /* tried again every tick, said once */
            LOG_WARN("sessions: cannot remove %s's pane (will try again): %s", r->id, err);
        l->reap_failed = true;
        d->sessions_reaped = false;
    } else {
        if (!r->dead)
            LOG_WARN("sessions: removed %s's pane, still running though its record says dead "
                     "(a kill that failed)", r->id);
        else if (r->behind)
            LOG_WARN("sessions: removed %s's pane; the log watcher had not published all of "
                     "its log (the log file has it all)", r->id);
        else
            LOG_INFO("sessions: removed %s's %s pane and its output pipe", r->id,
                     r->recorded ? "ended" : "unrecorded dead");
        oj_session_live_free(oj_hmap_del(&d->session_live, r->id));
    }
    free(r);
}

/* Removes what is left in tmux of sessions whose end is recorded (and of
 * dead panes no record names): the pane, and with it its pipe-pane `cat`.
 * Runs on the records as they were before this tick's changes, so a session
 * recorded dead now goes at a later tick, after its last output reached the
 * log. Returns how many such panes are left (or handed to tmux) for later. */
static int reap(struct observe_ctx *o)
{
    int left = 0;
    for (int i = 0; i < o->npanes; i++) {
        const struct oj_tmux_pane *p = &o->panes[i];
        struct oj_session rec;
        bool recorded = oj_session_get(o->d, p->session, &rec) == 0;
        const struct oj_session *s = recorded ? &rec : NULL;
        if (!oj_session_reap_now(s, p, true)) {
            oj_session_clear(&rec);
            continue; /* it lives: nothing to reap */
        }
        struct oj_session_live *l = oj_session_live_of(o->d, p->session);
        if (l->kill_ticket > o->ticket) { /* a kill after this list removes it */
            oj_session_clear(&rec);
            left++;
            continue;
        }
        bool behind = false;
        bool now = oj_session_reap_now(s, p, drained(o->d, p->session, l, &behind));
        oj_session_clear(&rec);
        left++; /* until a later list shows it gone */
        if (!now)
            continue;
        struct reap_job *r = calloc(1, sizeof *r);
        char err[512];
        if (r == NULL)
            continue;
        snprintf(r->id, sizeof r->id, "%s", p->session);
        r->dead = p->dead;
        r->behind = behind;
        r->recorded = recorded;
        if (oj_session_remove_pane(o->d, p->session, reaped, r, err, sizeof err) != 0)
            free(r);
    }
    return left;
}

/* Journals what observe changed; a session recorded dead is published and
 * reported in ev. */
static void record_changes(struct observe_ctx *o, struct oj_session_events *ev)
{
    for (size_t i = 0; i < o->nchanges; i++) {
        const char *id = o->changes[i].id;
        struct oj_session *s = &o->changes[i].s;
        LOG_INFO("sessions: %s is now %s%s%s", id, oj_session_state_name(s->state),
                 s->reason[0] ? ": " : "", s->reason);
        char err[512];
        if (oj_session_save(o->d, id, s, err, sizeof err) == 0 && s->state == OJ_SESSION_DEAD) {
            oj_pub_event(o->d->publisher, "session.ended", id, s->pipeline_id, s->reason);
            add_event(ev, OJ_SESSION_ENDED, id, s->pipeline_id);
        }
        oj_session_clear(s);
        free(o->changes[i].id);
    }
    free(o->changes);
}

/* The tick's list-panes, for the tmux queue, and what to do with its answer. */
struct list_job {
    char sock[PATH_MAX];
    struct oj_tmux_pane *panes;
    int npanes;
    uint64_t ticket;
    char err[512];
    oj_session_events_fn events;
    void *arg;
};

static void list_work(void *arg)
{
    struct list_job *j = arg;
    j->npanes = oj_tmux_list(j->sock, &j->panes, j->err, sizeof j->err);
    if (j->npanes > 1)
        qsort(j->panes, (size_t)j->npanes, sizeof *j->panes, by_session);
}

/* Engine thread: tmux's answer, compared with the records. */
static void list_then(struct oj_daemon *d, void *arg)
{
    struct list_job *j = arg;
    if (d == NULL) {
        free(j->panes);
        free(j);
        return;
    }
    d->sessions_listing = false;
    if (j->npanes == -1) {
        LOG_WARN("sessions: %s", j->err);
        free(j->panes);
        free(j);
        return;
    }
    struct observe_ctx o = {.d = d, .now = oj_wall_ms(), .panes = j->panes,
                            .npanes = j->npanes, .ticket = j->ticket};
    o.server_gone = o.npanes == -2; /* no server: nothing lives in tmux, and nothing is left */
    if (o.npanes < 0)
        o.npanes = 0;
    oj_sessions_each_live(d, observe, &o); /* a dead record is final: nothing to look at */
    d->sessions_reaped = reap(&o) == 0;
    struct oj_session_events out = {0};
    record_changes(&o, &out);
    /* What ended first, then what went quiet (as the pipelines always had it). */
    for (size_t i = 0; i < o.stuck.n; i++)
        add_event(&out, OJ_SESSION_STUCK, o.stuck.at[i].session_id, o.stuck.at[i].pipeline_id);
    oj_session_events_free(&o.stuck);
    if (j->events)
        j->events(d, &out, j->arg);
    oj_session_events_free(&out);
    free(j->panes);
    free(j);
}

void oj_sessions_tick(struct oj_daemon *d, oj_session_events_fn events, void *arg)
{
    if (d->sessions_listing || (oj_sessions_active(d) == 0 && d->sessions_reaped))
        return;
    struct list_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return;
    snprintf(j->sock, sizeof j->sock, "%s", d->paths.tmux_sock_path);
    j->events = events;
    j->arg = arg;
    /* The answer comes back as a job after this returns: the ticket is set by then. */
    j->ticket = oj_engine_work(d, OJ_LANE_TMUX, 0, list_work, list_then, j);
    if (j->ticket == 0) {
        free(j);
        return;
    }
    d->sessions_listing = true;
}
