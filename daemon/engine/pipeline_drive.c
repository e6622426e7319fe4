/* pipeline_drive.c — moving a pipeline on: its phase's lock (first come,
 * first served), shell steps on runner threads, agents in sessions, and where
 * a phase goes when it ends. Runs on the engine thread and never waits: a
 * step's end arrives as a posted job, an rpc or a tick. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "pipeline_engine.h"
#include "sessions.h"
#include "template.h"
#include "utf8.h"
#include "engine_runner.h"
#include "pipelines.h"
#include "workspace_stat.h"

/* ---- templates ------------------------------------------------------------------ */

const char *oj_pl_lookup(const char *key, void *arg)
{
    struct tvars *t = arg;
    const char *in = oj_pipeline_input(t->p, key);
    if (in)
        return in;
    if (strcmp(key, "pipeline") == 0)
        return t->p->name;
    if (strcmp(key, "id") == 0)
        return t->id;
    if (strcmp(key, "workspace") == 0)
        return t->p->workspace;
    if (strcmp(key, "branch") == 0)
        return t->p->branch;
    if (strcmp(key, "phase") == 0)
        return t->p->phase;
    if (strcmp(key, "project") == 0)
        return t->d->paths.root;
    if (strcmp(key, "prompt_file_path") == 0)
        return t->prompt_file;
    return NULL;
}

void oj_pl_tvars_init(struct tvars *t, struct oj_daemon *d, const char *id,
                      const struct oj_pipeline *p)
{
    t->d = d;
    t->id = id;
    t->p = p;
    snprintf(t->prompt_file, sizeof t->prompt_file, "%s/prompts/%s-%.64s.txt", d->paths.state_dir,
             id, p->phase);
}

/* ---- driving a pipeline ---------------------------------------------------------- */

/* Ends the pipeline: done, failed or cancelled. */
void oj_pl_finish(struct oj_daemon *d, const char *id, enum oj_pipeline_state state,
                  const char *why)
{
    struct oj_pipeline p;
    bool saved = false;
    if (load(d, id, &p)) {
        oj_ws_stat_changed(d, p.workspace);
        oj_pipeline_finish(&p, state, why, oj_wall_ms());
        saved = save(d, id, &p);
    }
    oj_pipeline_free(&p);
    if (!saved)
        return;
    const char *name = oj_pipeline_state_name(state);
    LOG_INFO("pipeline %s: %s%s%s", id, name, why && why[0] ? ": " : "", why ? why : "");
    char kind[64];
    snprintf(kind, sizeof kind, "pipeline.%s", name);
    event(d, kind, id, why && why[0] ? why : name);
}

/* The pipeline that has waited longest for `lock`, into id (false: none). */
struct waiter_ctx {
    const char *lock, *except;
    char id[16];
    int64_t since;
};

static void find_waiter(const char *id, struct oj_pipeline *p, void *arg)
{
    struct waiter_ctx *w = arg;
    if (!oj_pipeline_waits_for(p, w->lock) || (w->except && strcmp(id, w->except) == 0))
        return;
    if (w->id[0] == '\0' ||
        oj_pipeline_waited_longer(id, p->waiting_since_ms, w->id, w->since)) {
        snprintf(w->id, sizeof w->id, "%s", id);
        w->since = p->waiting_since_ms;
    }
}

/* The pipeline that has waited longest for `lock` (not `except`) into id,
 * and since when it waits; false when none waits. */
static bool oldest_waiter(struct oj_daemon *d, const char *lock, const char *except, char id[16],
                          int64_t *since)
{
    struct waiter_ctx w = {.lock = lock, .except = except};
    oj_pl_each_in_play(d, find_waiter, &w); /* a waiter is active */
    memcpy(id, w.id, 16);
    *since = w.since;
    return w.id[0] != '\0';
}

static void wake_waiter(struct oj_daemon *d, void *arg)
{
    char id[16];
    int64_t since;
    if (oldest_waiter(d, arg, NULL, id, &since))
        oj_pl_drive(d, id);
    free(arg);
}

void oj_pipelines_lock_freed(struct oj_daemon *d, const char *lock)
{
    /* a posted job: the caller finishes what it is doing first */
    char *name = strdup(lock);
    if (name && !oj_engine_post(d, wake_waiter, name))
        free(name);
}

/* Lets go of what the current phase holds: its lock now, its session after
 * a short grace (the agent may be waiting for its `oj done` answer). */
void oj_pl_let_go(struct oj_daemon *d, const char *id, struct oj_pipeline *n,
                  bool end_session_now)
{
    if (n->lock_held[0]) {
        oj_lock_drop(d, n->lock_held, id);
        LOG_INFO("pipeline %s: released %s", id, n->lock_held);
        oj_pipelines_lock_freed(d, n->lock_held); /* the next waiter goes at once */
        oj_pipeline_set(&n->lock_held, "");
    }
    if (n->session_id[0]) {
        if (end_session_now)
            oj_session_end(d, n->session_id, "its pipeline phase ended");
        else {
            if (n->release_session[0] && strcmp(n->release_session, n->session_id) != 0)
                oj_session_end(d, n->release_session, "its pipeline phase ended");
            oj_pipeline_set(&n->release_session, n->session_id);
            n->release_at_ms = oj_wall_ms() + SESSION_END_GRACE_MS;
        }
    }
}

/* The current phase ended, ok or not: move to what the runbook says. */
void oj_pl_phase_over(struct oj_daemon *d, const char *id, bool ok, const char *why,
                      bool end_session_now)
{
    struct oj_pipeline p;
    if (!load(d, id, &p) || !oj_pipeline_state_active(p.state)) {
        oj_pipeline_free(&p);
        return;
    }
    oj_ws_stat_changed(d, p.workspace); /* its step's work is in: measure the diff again */
    char phase[80];
    snprintf(phase, sizeof phase, "%s", p.phase);
    if (oj_runbooks_current(d) == NULL) {
        /* No definitions to say what comes next: keep the outcome and decide
         * when the runbooks load (the tick retries). */
        oj_pipeline_touch(&p, oj_wall_ms());
        oj_pl_let_go(d, id, &p, end_session_now);
        oj_pipeline_decide_later(&p, ok, why);
        if (save(d, id, &p))
            LOG_WARN("pipeline %s: phase %s ended but no runbook loads (%s); waiting for a fix",
                     id, phase, d->runbooks_error);
        oj_pipeline_free(&p);
        return;
    }
    const struct oj_pipeline_def *def = oj_pl_def_of(d, &p);
    int64_t now = oj_wall_ms();
    oj_pipeline_touch(&p, now);
    oj_pl_let_go(d, id, &p, end_session_now);
    enum oj_phase_end end = oj_pipeline_phase_end(&p, def, ok, why, now);
    char msg[300];
    snprintf(msg, sizeof msg, "phase %s %s", phase, ok ? "done" : "failed");
    LOG_INFO("pipeline %s: %s%s%s", id, msg, ok ? "" : ": ", ok ? "" : why);
    bool saved = save(d, id, &p);
    if (saved && end != OJ_PHASE_END_NEXT) {
        event(d, ok ? "pipeline.phase_done" : "pipeline.phase_failed", id, ok ? msg : why);
        oj_pl_finish(d, id, end == OJ_PHASE_END_DONE ? OJ_PIPELINE_DONE : OJ_PIPELINE_FAILED,
                     ok ? "" : NULL);
    } else if (saved) {
        if (p.step == OJ_STEP_PAUSE)
            LOG_INFO("pipeline %s: phase %s loops back to %s; it starts in %lld ms", id, phase,
                     p.phase, (long long)(p.pause_until_ms - now));
        oj_pub_phase_event(d->publisher, ok ? "pipeline.phase_done" : "pipeline.phase_failed",
                           "", id, phase, ok ? msg : why);
        event(d, "pipeline.phase", id, p.phase);
    }
    oj_pipeline_free(&p);
    if (saved && end == OJ_PHASE_END_NEXT)
        oj_pl_drive(d, id);
}

/* Where a running shell step's process group id is kept: a crash leaves
 * the step running without its daemon, and the next start kills it before
 * running the step again. */
void oj_pl_pgid_path(struct oj_daemon *d, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/pipelines/%s.pgid", d->paths.log_dir, id);
}

struct shell_job {
    char id[16];
    char phase[80];
    int64_t attempt;
};

static void shell_finished(struct oj_daemon *d, void *arg, int status, bool timed_out,
                           const char *tail)
{
    struct shell_job *j = arg;
    struct oj_pipeline p;
    load(d, j->id, &p);
    /* Still the step it was started for? (A cancel, or a restart, moved on;
     * then the record and the pgid file belong to what came after.) */
    bool current = oj_pipeline_shell_is(&p, j->phase, j->attempt);
    oj_pipeline_free(&p);
    if (current) {
        oj_hmap_del(&d->pipeline_shells, j->id);
        char pg[PATH_MAX + 64];
        oj_pl_pgid_path(d, j->id, pg, sizeof pg);
        unlink(pg);
        char why[700];
        if (timed_out)
            snprintf(why, sizeof why, "timed out (the shell step was killed)");
        else
            snprintf(why, sizeof why, "exit status %d%s%s", status, tail[0] ? ": " : "", tail);
        oj_pl_phase_over(d, j->id, status == 0 && !timed_out, why, true);
    } else {
        LOG_INFO("pipeline %s: a superseded shell step of phase %s ended (status %d)", j->id,
                 j->phase, status);
    }
    free(j);
}

void oj_pl_log_path(struct oj_daemon *d, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/pipelines/%s.log", d->paths.log_dir, id);
}

/* Environment for everything a pipeline runs: who it is and where. */
void oj_pl_env(struct oj_daemon *d, const char *id, const struct oj_pipeline *p,
               struct oj_task_env *e)
{
    oj_task_env_init(e, id, p->workspace, p->phase, d->paths.root);
    oj_task_env_port(e, oj_pl_port(d, p));
}

void oj_pl_kill_shell_step(struct oj_daemon *d, const char *id)
{
    char path[PATH_MAX + 64], buf[32] = "";
    oj_pl_pgid_path(d, id, path, sizeof path);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    long pgid = strtol(buf, NULL, 10);
    if (pgid > 1 && kill(-(pid_t)pgid, SIGKILL) == 0)
        LOG_INFO("pipeline %s: killed the shell step's processes (process group %ld)", id, pgid);
    unlink(path);
}

static int start_shell(struct oj_daemon *d, const char *id, const struct oj_phase_def *ph,
                       char *err, size_t errlen)
{
    struct oj_pipeline p;
    load(d, id, &p);
    struct tvars t;
    oj_pl_tvars_init(&t, d, id, &p);
    char *cmd = NULL;
    if (oj_template_expand(ph->run, oj_pl_lookup, &t, 1, &cmd, err, errlen) != 0) {
        oj_pipeline_free(&p);
        return -1;
    }
    struct shell_job *j = calloc(1, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", id);
    snprintf(j->phase, sizeof j->phase, "%s", ph->name);
    int64_t now = oj_wall_ms();
    oj_pipeline_touch(&p, now);
    oj_pipeline_shell_started(&p, now);
    j->attempt = p.attempt;
    /* Journal first: a crash after this finds the step "cut off" and reruns it. */
    if (!save(d, id, &p)) {
        oj_pipeline_free(&p);
        free(cmd);
        free(j);
        snprintf(err, errlen, "cannot record the step");
        return -1;
    }
    char logp[PATH_MAX + 64], pg[PATH_MAX + 64];
    struct oj_task_env te;
    oj_pl_log_path(d, id, logp, sizeof logp);
    oj_pl_pgid_path(d, id, pg, sizeof pg);
    oj_pl_env(d, id, &p, &te);
    bool oom = false;
    oj_hmap_put(&d->pipeline_shells, id, (void *)1, &oom);
    struct oj_run_spec spec = {.command = cmd,
                               .cwd = p.workspace,
                               .log_path = logp,
                               .pgid_file = pg,
                               .env = te.env,
                               .timeout_ms = ph->timeout_ms};
    int rc = oj_runner_start(d, &spec, shell_finished, j);
    oj_pipeline_free(&p);
    if (rc != 0) {
        oj_hmap_del(&d->pipeline_shells, id);
        free(j);
        free(cmd);
        snprintf(err, errlen, "cannot start a thread for the shell step");
        return -1;
    }
    LOG_INFO("pipeline %s: phase %s: running `%s`", id, ph->name, cmd);
    free(cmd);
    return 0;
}

/* Writes the agent's prompt to its prompt file; the text in *prompt. */
static int write_prompt(struct tvars *t, const struct oj_phase_def *ph, char **prompt, char *err,
                        size_t errlen)
{
    *prompt = NULL;
    char *tmpl = NULL;
    if (ph->prompt)
        tmpl = strdup(ph->prompt);
    else if (ph->prompt_file) {
        char *path = NULL;
        if (oj_template_expand(ph->prompt_file, oj_pl_lookup, t, 0, &path, err, errlen) != 0)
            return -1;
        char full[PATH_MAX * 2];
        snprintf(full, sizeof full, "%s%s%s", path[0] == '/' ? "" : t->p->workspace,
                 path[0] == '/' ? "" : "/", path);
        free(path);
        FILE *f = fopen(full, "re");
        if (f == NULL) {
            snprintf(err, errlen, "prompt_file %.1000s: %s", full, strerror(errno));
            return -1;
        }
        size_t cap = 1 << 16, len = fread(tmpl = malloc(cap + 1), 1, cap, f);
        fclose(f);
        tmpl[len] = '\0';
    } else
        return 0;
    int rc = oj_template_expand(tmpl, oj_pl_lookup, t, 0, prompt, err, errlen);
    free(tmpl);
    if (rc != 0)
        return -1;
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/prompts", t->d->paths.state_dir);
    mkdir(dir, 0700);
    FILE *f = fopen(t->prompt_file, "we");
    if (f == NULL) {
        snprintf(err, errlen, "cannot write %.700s: %s", t->prompt_file, strerror(errno));
        return -1;
    }
    fputs(*prompt, f);
    fputc('\n', f);
    fclose(f);
    return 0;
}

/* A live session of this pipeline's phase that the record does not name: a
 * crash came between starting it and recording it. */
struct orphan_ctx {
    const char *pipeline, *phase, *releasing;
    char sid[16];
};

static void find_orphan(const char *sid, const struct oj_session *s, void *arg)
{
    struct orphan_ctx *o = arg;
    if (s->state != OJ_SESSION_DEAD && strcmp(s->pipeline_id, o->pipeline) == 0 &&
        strcmp(s->phase, o->phase) == 0 && strcmp(sid, o->releasing) != 0)
        snprintf(o->sid, sizeof o->sid, "%s", sid);
}

/* An agent being started in tmux: the phase's step as it was when it was
 * handed over, and its prompt to type once it runs. */
struct agent_start {
    char id[16], phase[80];
    enum oj_pipeline_state state;
    enum oj_pipeline_step step;
    int64_t attempt;
    char *prompt; /* NULL: none */
};

struct prompt_typing {
    char id[16], sid[16];
};

static void prompt_typed(struct oj_daemon *d, void *arg, int rc, const char *err)
{
    struct prompt_typing *t = arg;
    if (d != NULL && rc != 0)
        LOG_WARN("pipeline %s: cannot type the prompt into %s: %s", t->id, t->sid, err);
    free(t);
}

/* The agent's session started (or not): the phase goes on with it, unless
 * the pipeline moved on meanwhile (cancelled, restarted), which ends it. */
static void agent_spawned(struct oj_daemon *d, void *arg, const char *sid, int rc,
                          const char *err)
{
    struct agent_start *a = arg;
    if (d == NULL) {
        free(a->prompt);
        free(a);
        return;
    }
    const char *id = a->id;
    oj_hmap_del(&d->pipeline_agents_starting, id);
    struct oj_pipeline p;
    bool still = load(d, id, &p) && p.state == a->state && p.step == a->step &&
                 p.attempt == a->attempt && strcmp(p.phase, a->phase) == 0;
    if (!still || rc != 0) {
        oj_pipeline_free(&p);
        if (still) {
            char why[700];
            snprintf(why, sizeof why, "cannot start: %s", err);
            oj_pl_phase_over(d, id, false, why, true);
        } else if (rc == 0) {
            LOG_INFO("pipeline %s: phase %s moved on while its agent %s started; ending it", id,
                     a->phase, sid);
            oj_session_end(d, sid, "its pipeline phase ended");
        }
        free(a->prompt);
        free(a);
        return;
    }
    oj_pl_note_agent(d, id, sid, a->phase);
    int64_t now = oj_wall_ms();
    oj_pipeline_touch(&p, now);
    oj_pipeline_agent_started(&p, sid, now);
    save(d, id, &p);
    oj_pipeline_free(&p);
    if (a->prompt) {
        /* The agent reads its task from its terminal, like a person typing it;
         * one line, so it arrives as one message, and text only: a control
         * byte from an input or a prompt file (ESC, ^C, ^D) would be a key
         * to the agent. The prompt file keeps the exact text. */
        oj_pipeline_prompt_line(a->prompt);
        char terr[256];
        struct prompt_typing *t = calloc(1, sizeof *t);
        if (t == NULL) {
            LOG_WARN("pipeline %s: cannot type the prompt into %s: out of memory", id, sid);
        } else {
            snprintf(t->id, sizeof t->id, "%s", id);
            snprintf(t->sid, sizeof t->sid, "%s", sid);
            if (oj_session_type_when_ready(d, sid, a->prompt, prompt_typed, t, terr,
                                           sizeof terr) != 0) {
                LOG_WARN("pipeline %s: cannot type the prompt into %s: %s", id, sid, terr);
                free(t);
            }
        }
    }
    LOG_INFO("pipeline %s: phase %s: agent session %s", id, a->phase, sid);
    event(d, "pipeline.agent", id, sid);
    free(a->prompt);
    free(a);
}

static int start_agent(struct oj_daemon *d, const char *id, const struct oj_phase_def *ph,
                       char *err, size_t errlen)
{
    struct oj_pipeline p;
    load(d, id, &p);
    struct orphan_ctx orphan = {.pipeline = id, .phase = ph->name, .releasing = p.release_session};
    oj_sessions_each_live(d, find_orphan, &orphan);
    if (orphan.sid[0]) {
        int64_t now = oj_wall_ms();
        oj_pipeline_touch(&p, now);
        /* it is this phase's agent start that the crash kept from being recorded */
        oj_pipeline_agent_started(&p, orphan.sid, now);
        oj_pl_note_agent(d, id, orphan.sid, ph->name);
        bool saved = save(d, id, &p);
        oj_pipeline_free(&p);
        if (!saved) {
            snprintf(err, errlen, "cannot record the agent");
            return -1;
        }
        LOG_INFO("pipeline %s: phase %s: adopted its running agent %s", id, ph->name, orphan.sid);
        return 0;
    }
    struct tvars t;
    oj_pl_tvars_init(&t, d, id, &p);
    char *cmd = NULL, *prompt = NULL;
    if (oj_template_expand(ph->agent_command, oj_pl_lookup, &t, 1, &cmd, err, errlen) != 0 ||
        write_prompt(&t, ph, &prompt, err, errlen) != 0) {
        free(cmd);
        oj_pipeline_free(&p);
        return -1;
    }
    char name[80], sid[16], env_prompt[PATH_MAX + 240];
    snprintf(name, sizeof name, "%.40s-%.30s", id, ph->name);
    snprintf(env_prompt, sizeof env_prompt, "OTTER_PROMPT_FILE=%s", prompt ? t.prompt_file : "");
    /* the workspace's own port, as its shell steps and setup have it */
    char env_port[32];
    int port = oj_pl_port(d, &p);
    snprintf(env_port, sizeof env_port, "OJ_PORT=%d", port);
    char *env[] = {env_prompt, port > 0 ? env_port : NULL, NULL};
    char phase[80];
    snprintf(phase, sizeof phase, "%s", ph->name);
    struct oj_spawn sp = {.name = name,
                          .cwd = p.workspace,
                          .command = cmd,
                          .env = env,
                          .idle_timeout_ms = ph->idle_timeout_ms,
                          .pipeline_id = id,
                          .phase = phase,
                          .needs_input = ph->needs_input};
    struct agent_start *a = calloc(1, sizeof *a);
    if (a == NULL) {
        free(cmd);
        free(prompt);
        oj_pipeline_free(&p);
        snprintf(err, errlen, "daemon out of memory");
        return -1;
    }
    snprintf(a->id, sizeof a->id, "%s", id);
    snprintf(a->phase, sizeof a->phase, "%s", ph->name);
    a->state = p.state;
    a->step = p.step;
    a->attempt = p.attempt;
    a->prompt = prompt;
    bool oom = false;
    oj_hmap_put(&d->pipeline_agents_starting, id, (void *)1, &oom);
    int rc = oom ? (snprintf(err, errlen, "daemon out of memory"), -1)
                 : oj_session_spawn(d, &sp, sid, sizeof sid, agent_spawned, a, err, errlen);
    free(cmd);
    oj_pipeline_free(&p);
    if (rc != 0) {
        oj_hmap_del(&d->pipeline_agents_starting, id);
        free(prompt);
        free(a);
        return -1;
    }
    return 0; /* agent_spawned carries on once tmux has started it */
}

/* oj_pl_drive with the pipeline's record in p (the caller's: every save
 * here writes it, starting a step loads it afresh). */
static void drive(struct oj_daemon *d, const char *id, struct oj_pipeline *p)
{
    if (p->state != OJ_PIPELINE_RUNNING && p->state != OJ_PIPELINE_WAITING)
        return;
    enum oj_pipeline_step step = p->step;
    if (step == OJ_STEP_PAUSE) {
        /* between two passes of a loop: the tick comes back when it is over */
        if (oj_wall_ms() < p->pause_until_ms)
            return;
        step = OJ_STEP_PENDING;
    }
    if (step != OJ_STEP_PENDING && step != OJ_STEP_LOCK && step != OJ_STEP_QUEUED)
        return;
    if (oj_hmap_get(&d->pipeline_agents_starting, id))
        return; /* its agent is being started in tmux (agent_spawned goes on) */
    if (atomic_load(&d->draining))
        return; /* no new work while stopping; the next start carries on */
    if (oj_runbooks_current(d) == NULL)
        return; /* none loaded (an error, shown by oj status): wait for a fix */
    const struct oj_pipeline_def *def = oj_pl_def_of(d, p);
    const struct oj_phase_def *ph = def ? oj_pipeline_phase(def, p->phase) : NULL;
    if (ph == NULL) {
        char why[300];
        snprintf(why, sizeof why, "the runbooks no longer define %s%s",
                 def ? "phase " : "pipeline ", def ? p->phase : p->name);
        oj_pl_finish(d, id, OJ_PIPELINE_FAILED, why);
        return;
    }
    int64_t now = oj_wall_ms();
    if (ph->lock && strcmp(p->lock_held, ph->lock) != 0) {
        char who[256] = "", err[512], ahead[16];
        int64_t ahead_since;
        /* First come, first served: a free lock still goes to whoever has
         * waited for it longest. */
        int got = oldest_waiter(d, ph->lock, id, ahead, &ahead_since) &&
                          (step != OJ_STEP_LOCK || ahead_since < p->waiting_since_ms)
                      ? 0
                      : oj_lock_take(d, ph->lock, id, who, sizeof who, err, sizeof err);
        if (got == 0 && who[0] == '\0') {
            struct oj_lock l;
            char holder[81];
            snprintf(who, sizeof who, "%s; %s waits longer",
                     oj_utf8_show(holder, sizeof holder,
                                  lock_of(d, ph->lock, &l) ? l.holder : "nobody"),
                     ahead);
        }
        if (got < 0)
            return;
        if (got == 0) {
            if (step != OJ_STEP_LOCK) {
                oj_pipeline_touch(p, now);
                oj_pipeline_wait(p, ph->lock, now);
                if (save(d, id, p)) {
                    char msg[400];
                    snprintf(msg, sizeof msg, "waiting for %s (held by %s)", ph->lock, who);
                    LOG_INFO("pipeline %s: %s", id, msg);
                    event(d, "pipeline.waiting", id, msg);
                }
            }
            return;
        }
        oj_pipeline_touch(p, now);
        oj_pipeline_lock_taken(p, ph->lock);
        if (!save(d, id, p))
            return;
        LOG_INFO("pipeline %s: holds %s", id, ph->lock);
        event(d, "pipeline.lock", id, ph->lock);
    }
    char err[1024] = "";
    int rc;
    if (ph->run) {
        rc = start_shell(d, id, ph, err, sizeof err);
    } else {
        unsigned active = oj_sessions_active(d);
        if (active >= d->cfg.max_sessions) {
            if (step != OJ_STEP_QUEUED) {
                oj_pipeline_touch(p, now);
                oj_pipeline_wait(p, NULL, now);
                if (save(d, id, p))
                    event(d, "pipeline.queued", id, "waiting for a free session slot");
            }
            return;
        }
        rc = start_agent(d, id, ph, err, sizeof err);
    }
    if (rc != 0) {
        char why[1200];
        snprintf(why, sizeof why, "cannot start: %s", err);
        oj_pl_phase_over(d, id, false, why, true);
    }
}

/* Moves the pipeline `id` as far as it can go now. */
void oj_pl_drive(struct oj_daemon *d, const char *id_in)
{
    char id[16];
    snprintf(id, sizeof id, "%s", id_in);
    struct oj_pipeline p;
    if (load(d, id, &p))
        drive(d, id, &p);
    oj_pipeline_free(&p);
}
