/* rpc_pipeline.c — pipelines: `oj run`, the engine's drive of every active
 * pipeline through its phases (shell steps on runner threads, agents in
 * sessions, locks held for a phase), stuck recovery, and the pipeline
 * commands. The rules are in pipeline.c; this file runs things and journals
 * what happened. Everything here runs on the engine thread. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "duration.h"
#include "log.h"
#include "pipeline.h"
#include "publisher.h"
#include "server.h"
#include "sessions.h"
#include "store.h"
#include "template.h"
#include "tmux.h"
#include "worktree.h"

#define STUCK_NUDGE                                                                        \
    "You have been quiet for a while. Carry on with the task; when it is finished, run: oj " \
    "done (or oj done --error \"why\" if you cannot finish it)"
#define SESSION_END_GRACE_MS 2000 /* let an agent's `oj done` print its answer */
#define MAX_CHECKPOINTS 20
#define NOTIFY_TIMEOUT_MS 60000

static const struct oj_state *state_of(struct oj_daemon *d) { return oj_store_state(d->store); }

static const cJSON *get(struct oj_daemon *d, const char *id)
{
    return oj_state_get(state_of(d), "pipeline", id);
}

static bool save(struct oj_daemon *d, const char *id, cJSON *value)
{
    char err[512];
    if (oj_store_commit(d->store, oj_op_put("pipeline", id, value), err, sizeof err) == 0) {
        LOG_ERROR("pipeline %s: cannot record a change: %s", id, err);
        return false;
    }
    return true;
}

static void event(struct oj_daemon *d, const char *kind, const char *id, const char *msg)
{
    const cJSON *v = get(d, id);
    oj_pub_phase_event(d->publisher, kind, v ? oj_json_str(v, "session_id") : "", id,
                       v ? oj_json_str(v, "phase") : "", msg);
}

/* ---- runbooks ------------------------------------------------------------------ */

/* A cheap fingerprint of .oj/runbooks: the newest mtime among the directory
 * and its files, plus their count (a deleted file changes it). */
static int64_t runbooks_stamp(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return 0;
    int64_t newest = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec, count = 0;
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return newest;
    struct dirent *e;
    char path[PATH_MAX + 300];
    while ((e = readdir(dh)) != NULL) {
        snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name);
        if (e->d_name[0] != '.' && stat(path, &st) == 0) {
            int64_t t = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
            if (t > newest)
                newest = t;
            count++;
        }
    }
    closedir(dh);
    return newest + count;
}

/* Reloads only here, at the start of a tick or a request: definitions
 * handed out by oj_runbooks_current stay valid until the next refresh. */
void oj_runbooks_refresh(struct oj_daemon *d)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/runbooks", d->paths.state_dir);
    int64_t stamp = runbooks_stamp(dir);
    if (stamp == d->runbooks_mtime_ns && (d->runbooks || d->runbooks_error[0]))
        return;
    struct oj_runbooks *rb = calloc(1, sizeof *rb);
    char err[1024];
    d->runbooks_mtime_ns = stamp;
    if (rb == NULL)
        snprintf(err, sizeof err, "out of memory");
    if (rb == NULL || oj_runbooks_load(dir, rb, err, sizeof err) != 0) {
        if (rb)
            oj_runbooks_free(rb);
        free(rb);
        snprintf(d->runbooks_error, sizeof d->runbooks_error, "%s", err);
        LOG_WARN("runbooks: %s", d->runbooks_error);
        /* Keep running pipelines on the definitions they started with. */
        return;
    }
    if (d->runbooks) {
        oj_runbooks_free(d->runbooks);
        free(d->runbooks);
    }
    d->runbooks = rb;
    d->runbooks_error[0] = '\0';
    LOG_INFO("runbooks: loaded %d pipeline(s), %d job(s) from %s", rb->n_pipelines, rb->n_jobs,
             dir);
}

const struct oj_runbooks *oj_runbooks_current(struct oj_daemon *d)
{
    if (d->runbooks == NULL && d->runbooks_error[0] == '\0')
        oj_runbooks_refresh(d); /* the first use */
    return d->runbooks;
}

static const struct oj_pipeline_def *def_of(struct oj_daemon *d, const cJSON *v)
{
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    return rb ? oj_runbooks_pipeline(rb, oj_json_str(v, "name")) : NULL;
}

/* ---- templates ------------------------------------------------------------------ */

struct tvars {
    struct oj_daemon *d;
    const char *id;
    const cJSON *v;
    char prompt_file[PATH_MAX + 200];
};

static const char *lookup(const char *key, void *arg)
{
    struct tvars *t = arg;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->v,
                                                                                      "inputs"),
                                                       key);
    if (cJSON_IsString(in))
        return in->valuestring;
    if (strcmp(key, "pipeline") == 0)
        return oj_json_str(t->v, "name");
    if (strcmp(key, "id") == 0)
        return t->id;
    if (strcmp(key, "workspace") == 0 || strcmp(key, "branch") == 0 ||
        strcmp(key, "phase") == 0)
        return oj_json_str(t->v, key);
    if (strcmp(key, "project") == 0)
        return t->d->paths.root;
    if (strcmp(key, "prompt_file_path") == 0)
        return t->prompt_file;
    return NULL;
}

static void tvars_init(struct tvars *t, struct oj_daemon *d, const char *id, const cJSON *v)
{
    t->d = d;
    t->id = id;
    t->v = v;
    snprintf(t->prompt_file, sizeof t->prompt_file, "%s/prompts/%s-%.64s.txt", d->paths.state_dir,
             id, oj_json_str(v, "phase"));
}

/* ---- ids -------------------------------------------------------------------------- */

static void new_id(struct oj_daemon *d, char *id, size_t len)
{
    for (;;) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof r, 0) != sizeof r)
            r = (uint32_t)oj_mono_ns();
        snprintf(id, len, "p%06x", r & 0xffffff);
        if (get(d, id) == NULL)
            return;
    }
}

struct match_ctx {
    const char *query;
    const char *exact, *prefix;
    int nprefix;
};

static void match(const char *id, const cJSON *v, void *arg)
{
    (void)v;
    struct match_ctx *m = arg;
    if (strcmp(id, m->query) == 0)
        m->exact = id;
    else if (strncmp(id, m->query, strlen(m->query)) == 0) {
        m->prefix = id;
        m->nprefix++;
    }
}

/* The pipeline id a user meant (exact or unique prefix), copied into id; or
 * false with the call failed. */
static bool resolve(struct oj_daemon *d, const char *query, char *id, size_t len, void *call)
{
    if (query == NULL || query[0] == '\0') {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "which pipeline? give its id (see `oj pipeline list`)");
        return false;
    }
    struct match_ctx m = {.query = query};
    oj_state_each(state_of(d), "pipeline", match, &m);
    const char *found = m.exact ? m.exact : m.nprefix == 1 ? m.prefix : NULL;
    if (found == NULL && m.nprefix > 1) {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "'%s' matches %d pipelines; give more of the id", query, m.nprefix);
        return false;
    }
    if (found == NULL) {
        oj_call_fail(call, OJ__STATUS_CODE__NOT_FOUND,
                     "no pipeline '%s'; list them with `oj pipeline list --all`", query);
        return false;
    }
    snprintf(id, len, "%s", found);
    return true;
}

/* ---- driving a pipeline ---------------------------------------------------------- */

static void drive(struct oj_daemon *d, const char *id);

/* Ends the pipeline: done, failed or cancelled. */
static void finish(struct oj_daemon *d, const char *id, const char *state, const char *why)
{
    cJSON *n = oj_pipeline_copy(get(d, id), oj_wall_ms());
    oj_json_set_str(n, "state", state);
    oj_json_set_str(n, "step", "over");
    oj_json_set_str(n, "waiting_for_lock", "");
    oj_json_set_num(n, "waiting_since_ms", 0);
    oj_json_set_num(n, "finished_at_ms", (double)oj_wall_ms());
    if (why && why[0])
        oj_json_set_str(n, "last_error", why);
    if (!save(d, id, n))
        return;
    LOG_INFO("pipeline %s: %s%s%s", id, state, why && why[0] ? ": " : "", why ? why : "");
    char kind[64];
    snprintf(kind, sizeof kind, "pipeline.%s", state);
    event(d, kind, id, why && why[0] ? why : state);
}

/* The pipeline that has waited longest for `lock`, into id (false: none). */
struct waiter_ctx {
    const char *lock, *except;
    char id[16];
    int64_t since;
};

static void find_waiter(const char *id, const cJSON *v, void *arg)
{
    struct waiter_ctx *w = arg;
    if (!oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "lock") != 0 ||
        strcmp(oj_json_str(v, "waiting_for_lock"), w->lock) != 0 ||
        (w->except && strcmp(id, w->except) == 0))
        return;
    int64_t since = oj_json_int(v, "waiting_since_ms");
    if (w->id[0] == '\0' || since < w->since || (since == w->since && strcmp(id, w->id) < 0)) {
        snprintf(w->id, sizeof w->id, "%s", id);
        w->since = since;
    }
}

static bool oldest_waiter(struct oj_daemon *d, const char *lock, const char *except, char id[16])
{
    struct waiter_ctx w = {.lock = lock, .except = except};
    oj_state_each(state_of(d), "pipeline", find_waiter, &w);
    memcpy(id, w.id, 16);
    return w.id[0] != '\0';
}

static void wake_waiter(struct oj_daemon *d, void *arg)
{
    char id[16];
    if (oldest_waiter(d, arg, NULL, id))
        drive(d, id);
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
static void let_go(struct oj_daemon *d, const char *id, cJSON *n, bool end_session_now)
{
    const char *lock = oj_json_str(n, "lock_held");
    if (lock[0]) {
        oj_lock_drop(d, lock, id);
        LOG_INFO("pipeline %s: released %s", id, lock);
        oj_pipelines_lock_freed(d, lock); /* the next waiter goes at once */
        oj_json_set_str(n, "lock_held", "");
    }
    const char *sid = oj_json_str(n, "session_id");
    if (sid[0]) {
        if (end_session_now)
            oj_session_end(d, sid, "its pipeline phase ended");
        else {
            const char *earlier = oj_json_str(n, "release_session");
            if (earlier[0] && strcmp(earlier, sid) != 0)
                oj_session_end(d, earlier, "its pipeline phase ended");
            oj_json_set_str(n, "release_session", sid);
            oj_json_set_num(n, "release_at_ms", (double)(oj_wall_ms() + SESSION_END_GRACE_MS));
        }
    }
}

/* The current phase ended, ok or not: move to what the runbook says. */
static void phase_over(struct oj_daemon *d, const char *id, bool ok, const char *why,
                       bool end_session_now)
{
    const cJSON *v = get(d, id);
    if (v == NULL || !oj_pipeline_active(v))
        return;
    char phase[80];
    snprintf(phase, sizeof phase, "%s", oj_json_str(v, "phase"));
    if (oj_runbooks_current(d) == NULL) {
        /* No definitions to say what comes next: keep the outcome and decide
         * when the runbooks load (the tick retries). */
        cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
        let_go(d, id, n, end_session_now);
        oj_json_set_str(n, "step", "decide");
        oj_json_set_str(n, "state", "running"); /* also after an escalation: the phase is over */
        oj_json_set_str(n, "session_id", "");
        oj_json_set_str(n, "decide_why", ok ? "" : why);
        cJSON_DeleteItemFromObjectCaseSensitive(n, "decide_ok");
        cJSON_AddBoolToObject(n, "decide_ok", ok);
        if (save(d, id, n))
            LOG_WARN("pipeline %s: phase %s ended but no runbook loads (%s); waiting for a fix",
                     id, phase, d->runbooks_error);
        return;
    }
    const struct oj_pipeline_def *def = def_of(d, v);
    const char *next = def ? oj_pipeline_after(def, phase, ok) : "fail";
    int64_t now = oj_wall_ms();
    cJSON *n = oj_pipeline_copy(v, now);
    let_go(d, id, n, end_session_now);
    if (!ok) {
        char msg[700];
        snprintf(msg, sizeof msg, "phase %s failed: %s", phase, why);
        oj_json_set_str(n, "last_error", msg);
    }
    char msg[300];
    snprintf(msg, sizeof msg, "phase %s %s", phase, ok ? "done" : "failed");
    LOG_INFO("pipeline %s: %s%s%s", id, msg, ok ? "" : ": ", ok ? "" : why);
    if (strcmp(next, "done") == 0 || strcmp(next, "fail") == 0) {
        oj_json_set_str(n, "session_id", "");
        if (!save(d, id, n))
            return;
        event(d, ok ? "pipeline.phase_done" : "pipeline.phase_failed", id, ok ? msg : why);
        finish(d, id, strcmp(next, "done") == 0 ? "done" : "failed", ok ? "" : NULL);
        return;
    }
    cJSON *entered = oj_pipeline_enter(n, next, now);
    cJSON_Delete(n);
    oj_json_set_str(entered, "state", "running");
    if (!save(d, id, entered))
        return;
    oj_pub_phase_event(d->publisher, ok ? "pipeline.phase_done" : "pipeline.phase_failed", "", id,
                       phase, ok ? msg : why);
    event(d, "pipeline.phase", id, next);
    drive(d, id);
}

/* Where a running shell step's process group id is kept: a crash leaves
 * the step running without its daemon, and the next start kills it before
 * running the step again. */
static void pgid_path(struct oj_daemon *d, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/pipelines/%s.pgid", d->paths.log_dir, id);
}

struct shell_job {
    char id[16];
    char phase[80];
    int attempt;
};

static void shell_finished(struct oj_daemon *d, void *arg, int status, bool timed_out,
                           const char *tail)
{
    struct shell_job *j = arg;
    const cJSON *v = get(d, j->id);
    /* Still the step it was started for? (A cancel, or a restart, moved on;
     * then the record and the pgid file belong to what came after.) */
    if (v && oj_pipeline_active(v) && strcmp(oj_json_str(v, "step"), "shell") == 0 &&
        strcmp(oj_json_str(v, "phase"), j->phase) == 0 &&
        oj_json_int(v, "attempt") == j->attempt) {
        oj_hmap_del(&d->pipeline_shells, j->id);
        char pg[PATH_MAX + 64];
        pgid_path(d, j->id, pg, sizeof pg);
        unlink(pg);
        char why[700];
        if (timed_out)
            snprintf(why, sizeof why, "timed out (the shell step was killed)");
        else
            snprintf(why, sizeof why, "exit status %d%s%s", status, tail[0] ? ": " : "", tail);
        phase_over(d, j->id, status == 0 && !timed_out, why, true);
    } else {
        LOG_INFO("pipeline %s: a superseded shell step of phase %s ended (status %d)", j->id,
                 j->phase, status);
    }
    free(j);
}

static void log_path(struct oj_daemon *d, const char *id, char *buf, size_t len)
{
    snprintf(buf, len, "%s/pipelines/%s.log", d->paths.log_dir, id);
}

/* Environment for everything a pipeline runs: who it is and where. */
static void pipeline_env(struct oj_daemon *d, const char *id, const cJSON *v, char bufs[4][PATH_MAX + 64],
                         char *env[5])
{
    snprintf(bufs[0], sizeof bufs[0], "OTTER_TASK=%s", id);
    snprintf(bufs[1], sizeof bufs[1], "OTTER_WORKSPACE=%s", oj_json_str(v, "workspace"));
    snprintf(bufs[2], sizeof bufs[2], "OTTER_PHASE=%s", oj_json_str(v, "phase"));
    snprintf(bufs[3], sizeof bufs[3], "OJ_PROJECT=%s", d->paths.root);
    for (int i = 0; i < 4; i++)
        env[i] = bufs[i];
    env[4] = NULL;
}

static void kill_shell_step(struct oj_daemon *d, const char *id)
{
    char path[PATH_MAX + 64], buf[32] = "";
    pgid_path(d, id, path, sizeof path);
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
    const cJSON *v = get(d, id);
    struct tvars t;
    tvars_init(&t, d, id, v);
    char *cmd = NULL;
    if (oj_template_expand(ph->run, lookup, &t, 1, &cmd, err, errlen) != 0)
        return -1;
    struct shell_job *j = calloc(1, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", id);
    snprintf(j->phase, sizeof j->phase, "%s", ph->name);
    j->attempt = (int)oj_json_int(v, "attempt") + 1;
    cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
    oj_json_set_str(n, "step", "shell");
    oj_json_set_str(n, "state", "running");
    oj_json_set_num(n, "attempt", j->attempt);
    oj_json_set_num(n, "step_started_ms", (double)oj_wall_ms());
    /* Journal first: a crash after this finds the step "cut off" and reruns it. */
    if (!save(d, id, n)) {
        free(cmd);
        free(j);
        snprintf(err, errlen, "cannot record the step");
        return -1;
    }
    char logp[PATH_MAX + 64], pg[PATH_MAX + 64], bufs[4][PATH_MAX + 64], *env[5];
    log_path(d, id, logp, sizeof logp);
    pgid_path(d, id, pg, sizeof pg);
    v = get(d, id);
    pipeline_env(d, id, v, bufs, env);
    bool oom = false;
    oj_hmap_put(&d->pipeline_shells, id, (void *)1, &oom);
    struct oj_run_spec spec = {.command = cmd,
                               .cwd = oj_json_str(v, "workspace"),
                               .log_path = logp,
                               .pgid_file = pg,
                               .env = env,
                               .timeout_ms = ph->timeout_ms};
    if (oj_runner_start(d, &spec, shell_finished, j) != 0) {
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
        if (oj_template_expand(ph->prompt_file, lookup, t, 0, &path, err, errlen) != 0)
            return -1;
        char full[PATH_MAX * 2];
        snprintf(full, sizeof full, "%s%s%s", path[0] == '/' ? "" : oj_json_str(t->v, "workspace"),
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
    int rc = oj_template_expand(tmpl, lookup, t, 0, prompt, err, errlen);
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

static void find_orphan(const char *sid, const cJSON *s, void *arg)
{
    struct orphan_ctx *o = arg;
    if (oj_session_active(s) && strcmp(oj_json_str(s, "pipeline_id"), o->pipeline) == 0 &&
        strcmp(oj_json_str(s, "phase"), o->phase) == 0 && strcmp(sid, o->releasing) != 0)
        snprintf(o->sid, sizeof o->sid, "%s", sid);
}

static int start_agent(struct oj_daemon *d, const char *id, const struct oj_phase_def *ph,
                       char *err, size_t errlen)
{
    const cJSON *v = get(d, id);
    struct orphan_ctx orphan = {.pipeline = id,
                                .phase = ph->name,
                                .releasing = oj_json_str(v, "release_session")};
    oj_state_each(state_of(d), "session", find_orphan, &orphan);
    if (orphan.sid[0]) {
        cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
        oj_json_set_str(n, "step", "agent");
        oj_json_set_str(n, "state", "running");
        oj_json_set_str(n, "session_id", orphan.sid);
        oj_json_set_num(n, "waiting_since_ms", 0);
        if (oj_json_int(v, "run_started_ms") == 0)
            oj_json_set_num(n, "run_started_ms", (double)oj_wall_ms());
        /* it is this phase's agent start that the crash kept from being recorded */
        oj_json_set_num(n, "attempt", (double)(oj_json_int(v, "attempt") + 1));
        oj_json_set_num(n, "step_started_ms", (double)oj_wall_ms());
        if (!save(d, id, n)) {
            snprintf(err, errlen, "cannot record the agent");
            return -1;
        }
        LOG_INFO("pipeline %s: phase %s: adopted its running agent %s", id, ph->name, orphan.sid);
        return 0;
    }
    struct tvars t;
    tvars_init(&t, d, id, v);
    char *cmd = NULL, *prompt = NULL;
    if (oj_template_expand(ph->agent_command, lookup, &t, 1, &cmd, err, errlen) != 0)
        return -1;
    if (write_prompt(&t, ph, &prompt, err, errlen) != 0) {
        free(cmd);
        return -1;
    }
    char name[80], sid[16], env_prompt[PATH_MAX + 240];
    snprintf(name, sizeof name, "%.40s-%.30s", id, ph->name);
    snprintf(env_prompt, sizeof env_prompt, "OTTER_PROMPT_FILE=%s", prompt ? t.prompt_file : "");
    char *env[] = {env_prompt, NULL};
    char phase[80];
    snprintf(phase, sizeof phase, "%s", ph->name);
    struct oj_spawn sp = {.name = name,
                          .cwd = oj_json_str(v, "workspace"),
                          .command = cmd,
                          .env = env,
                          .idle_timeout_ms = ph->idle_timeout_ms,
                          .pipeline_id = id,
                          .phase = phase};
    char cwd[PATH_MAX];
    snprintf(cwd, sizeof cwd, "%s", sp.cwd);
    sp.cwd = cwd;
    int rc = oj_session_spawn(d, &sp, sid, sizeof sid, err, errlen);
    free(cmd);
    if (rc != 0) {
        free(prompt);
        return -1;
    }
    v = get(d, id);
    cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
    oj_json_set_str(n, "step", "agent");
    oj_json_set_str(n, "state", "running");
    oj_json_set_str(n, "session_id", sid);
    oj_json_set_num(n, "waiting_since_ms", 0);
    if (oj_json_int(v, "run_started_ms") == 0)
        oj_json_set_num(n, "run_started_ms", (double)oj_wall_ms());
    oj_json_set_num(n, "attempt", (double)(oj_json_int(v, "attempt") + 1));
    oj_json_set_num(n, "step_started_ms", (double)oj_wall_ms());
    save(d, id, n);
    if (prompt) {
        /* The agent reads its task from its terminal, like a person typing it;
         * one line, so it arrives as one message. */
        for (char *p = prompt; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        char terr[256];
        if (oj_session_type(d, sid, prompt, false, terr, sizeof terr) != 0)
            LOG_WARN("pipeline %s: cannot type the prompt into %s: %s", id, sid, terr);
        free(prompt);
    }
    LOG_INFO("pipeline %s: phase %s: agent session %s", id, ph->name, sid);
    event(d, "pipeline.agent", id, sid);
    return 0;
}

/* Moves the pipeline `id` as far as it can go now. */
static void drive(struct oj_daemon *d, const char *id_in)
{
    char id[16];
    snprintf(id, sizeof id, "%s", id_in);
    const cJSON *v = get(d, id);
    if (v == NULL || (strcmp(oj_json_str(v, "state"), "running") != 0 &&
                      strcmp(oj_json_str(v, "state"), "waiting") != 0))
        return;
    char step[16]; /* a copy: v goes stale at the first save below */
    snprintf(step, sizeof step, "%s", oj_json_str(v, "step"));
    if (strcmp(step, "pending") != 0 && strcmp(step, "lock") != 0 && strcmp(step, "queued") != 0)
        return;
    if (atomic_load(&d->draining))
        return; /* no new work while stopping; the next start carries on */
    if (oj_runbooks_current(d) == NULL)
        return; /* none loaded (an error, shown by oj status): wait for a fix */
    const struct oj_pipeline_def *def = def_of(d, v);
    const struct oj_phase_def *ph = def ? oj_pipeline_phase(def, oj_json_str(v, "phase")) : NULL;
    if (ph == NULL) {
        char why[300];
        snprintf(why, sizeof why, "the runbooks no longer define %s%s", def ? "phase " : "pipeline ",
                 def ? oj_json_str(v, "phase") : oj_json_str(v, "name"));
        finish(d, id, "failed", why);
        return;
    }
    int64_t now = oj_wall_ms();
    if (ph->lock && strcmp(oj_json_str(v, "lock_held"), ph->lock) != 0) {
        char who[256] = "", err[512], ahead[16];
        /* First come, first served: a free lock still goes to whoever has
         * waited for it longest. */
        int got = oldest_waiter(d, ph->lock, id, ahead) &&
                          (strcmp(step, "lock") != 0 ||
                           oj_json_int(get(d, ahead), "waiting_since_ms") <
                               oj_json_int(v, "waiting_since_ms"))
                      ? 0
                      : oj_lock_take(d, ph->lock, id, who, sizeof who, err, sizeof err);
        if (got == 0 && who[0] == '\0') {
            const cJSON *l = oj_state_get(state_of(d), "lock", ph->lock);
            snprintf(who, sizeof who, "%.80s; %s waits longer", l ? oj_json_str(l, "holder") : "nobody",
                     ahead);
        }
        if (got < 0)
            return;
        if (got == 0) {
            if (strcmp(step, "lock") != 0) {
                cJSON *n = oj_pipeline_copy(v, now);
                oj_json_set_str(n, "step", "lock");
                oj_json_set_str(n, "state", "waiting");
                oj_json_set_str(n, "waiting_for_lock", ph->lock);
                oj_json_set_num(n, "waiting_since_ms", (double)now);
                if (save(d, id, n)) {
                    char msg[400];
                    snprintf(msg, sizeof msg, "waiting for %s (held by %s)", ph->lock, who);
                    LOG_INFO("pipeline %s: %s", id, msg);
                    event(d, "pipeline.waiting", id, msg);
                }
            }
            return;
        }
        cJSON *n = oj_pipeline_copy(v, now);
        oj_json_set_str(n, "lock_held", ph->lock);
        oj_json_set_str(n, "waiting_for_lock", "");
        oj_json_set_num(n, "waiting_since_ms", 0);
        oj_json_set_str(n, "state", "running");
        if (!save(d, id, n))
            return;
        LOG_INFO("pipeline %s: holds %s", id, ph->lock);
        event(d, "pipeline.lock", id, ph->lock);
        v = get(d, id);
    }
    char err[1024] = "";
    int rc;
    if (ph->run) {
        rc = start_shell(d, id, ph, err, sizeof err);
    } else {
        unsigned active = oj_sessions_active(d);
        if (active >= d->cfg.max_sessions) {
            if (strcmp(step, "queued") != 0) {
                cJSON *n = oj_pipeline_copy(v, now);
                oj_json_set_str(n, "step", "queued");
                oj_json_set_str(n, "state", "waiting");
                oj_json_set_num(n, "waiting_since_ms", (double)now);
                if (save(d, id, n))
                    event(d, "pipeline.queued", id, "waiting for a free session slot");
            }
            return;
        }
        rc = start_agent(d, id, ph, err, sizeof err);
    }
    if (rc != 0) {
        char why[1200];
        snprintf(why, sizeof why, "cannot start: %s", err);
        phase_over(d, id, false, why, true);
    }
}

/* ---- starting ---------------------------------------------------------------------- */

int oj_pipeline_start(struct oj_daemon *d, const char *pipeline, char *const *positional,
                      size_t npos, char *const *names, char *const *values, size_t nnamed,
                      char *id, size_t idlen, int *code, char *err, size_t errlen)
{
    *code = OJ__STATUS_CODE__INVALID_ARGUMENT;
    if (atomic_load(&d->draining)) {
        *code = OJ__STATUS_CODE__SHUTTING_DOWN;
        snprintf(err, errlen, "the daemon is stopping and starts no new pipelines; run it again "
                              "after `oj daemon start`");
        return -1;
    }
    const struct oj_runbooks *rb = oj_runbooks_current(d);
    if (d->runbooks_error[0]) {
        snprintf(err, errlen, "%s", d->runbooks_error);
        return -1;
    }
    const struct oj_pipeline_def *def = rb ? oj_runbooks_pipeline(rb, pipeline) : NULL;
    if (def == NULL) {
        char names_list[512] = "";
        for (int i = 0; rb && i < rb->n_pipelines; i++) {
            strncat(names_list, i ? ", " : "", sizeof names_list - strlen(names_list) - 1);
            strncat(names_list, rb->pipelines[i].name, sizeof names_list - strlen(names_list) - 1);
        }
        *code = OJ__STATUS_CODE__NOT_FOUND;
        snprintf(err, errlen, "no pipeline '%s' in %s/runbooks (%s%s)", pipeline,
                 d->paths.state_dir, names_list[0] ? "defined: " : "none defined; see docs/runbooks.md",
                 names_list);
        return -1;
    }
    cJSON *inputs = oj_pipeline_bind_inputs(def, positional, npos, names, values, nnamed, err,
                                            errlen);
    if (inputs == NULL)
        return -1;
    new_id(d, id, idlen);
    char ws_name[128], ws[PATH_MAX + 200], branch[160];
    snprintf(ws_name, sizeof ws_name, "%.64s-%s", def->name, id);
    snprintf(ws, sizeof ws, "%s/workspaces/%s", d->paths.state_dir, ws_name);
    snprintf(branch, sizeof branch, "oj/%s", ws_name);
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/workspaces", d->paths.state_dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/pipelines", d->paths.log_dir);
    mkdir(dir, 0700);
    if (oj_worktree_add(d->paths.root, ws, branch, err, errlen) != 0) {
        cJSON_Delete(inputs);
        *code = OJ__STATUS_CODE__CONFLICT;
        return -1;
    }
    int64_t now = oj_wall_ms();
    cJSON *ops = cJSON_CreateArray();
    cJSON_AddItemToArray(ops, oj_op_put("pipeline", id,
                                        oj_pipeline_new(def, inputs, ws, branch, now)));
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "branch", branch);
    cJSON_AddStringToObject(w, "pipeline_id", id);
    cJSON_AddStringToObject(w, "path", ws);
    cJSON_AddNumberToObject(w, "created_at_ms", (double)now);
    cJSON_AddItemToArray(ops, oj_op_put("workspace", ws_name, w));
    if (oj_store_commit(d->store, oj_op_batch(ops), err, errlen) == 0) {
        char why[512];
        oj_worktree_remove(d->paths.root, ws, branch, why, sizeof why);
        *code = OJ__STATUS_CODE__INTERNAL;
        return -1;
    }
    LOG_INFO("pipeline %s: started %s in %s", id, def->name, ws);
    event(d, "pipeline.started", id, def->name);
    event(d, "pipeline.phase", id, oj_json_str(get(d, id), "phase"));
    drive(d, id);
    return 0;
}

static void rpc_run(Oj__Control_Service *svc, const Oj__RunRequest *in, Oj__RunResponse_Closure done,
                    void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    oj_runbooks_refresh(d); /* an edited runbook counts at once */
    if (in->pipeline[0] == '\0') {
        oj_call_fail(call, OJ__STATUS_CODE__INVALID_ARGUMENT,
                     "which pipeline? oj run <pipeline> [inputs...]");
        done(NULL, call);
        return;
    }
    char **names = calloc(in->n_inputs + 1, sizeof *names);
    char **values = calloc(in->n_inputs + 1, sizeof *values);
    for (size_t i = 0; i < in->n_inputs; i++) {
        names[i] = in->inputs[i]->name;
        values[i] = in->inputs[i]->value;
    }
    char id[16], err[1500];
    int code;
    int rc = oj_pipeline_start(d, in->pipeline, in->positional, in->n_positional, names, values,
                               in->n_inputs, id, sizeof id, &code, err, sizeof err);
    free(names);
    free(values);
    if (rc != 0) {
        oj_call_fail(call, code, "%s", err);
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    Oj__RunResponse out = OJ__RUN_RESPONSE__INIT;
    out.pipeline_id = id;
    out.workspace = (char *)oj_json_str(v, "workspace");
    out.branch = (char *)oj_json_str(v, "branch");
    done(&out, call);
}

/* ---- the tick and the session hooks ------------------------------------------------- */

struct ids {
    char (*id)[16];
    int64_t *order;
    size_t n, cap;
};

static void collect_active(const char *id, const cJSON *v, void *arg)
{
    struct ids *c = arg;
    if (!oj_pipeline_active(v) && oj_json_str(v, "release_session")[0] == '\0' &&
        oj_json_str(v, "relock")[0] == '\0')
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->id = realloc(c->id, c->cap * sizeof *c->id);
        c->order = realloc(c->order, c->cap * sizeof *c->order);
    }
    snprintf(c->id[c->n], sizeof c->id[c->n], "%s", id);
    /* Lock waiters go in the order they started waiting; the rest by age. */
    int64_t w = oj_json_int(v, "waiting_since_ms");
    c->order[c->n] = w > 0 ? w : oj_json_int(v, "created_at_ms");
    c->n++;
}

static struct ids active_ids(struct oj_daemon *d)
{
    struct ids c = {0};
    oj_state_each(state_of(d), "pipeline", collect_active, &c);
    /* insertion sort by order: few active pipelines */
    for (size_t i = 1; i < c.n; i++)
        for (size_t j = i; j > 0 && c.order[j] < c.order[j - 1]; j--) {
            char t[16];
            memcpy(t, c.id[j], 16);
            memcpy(c.id[j], c.id[j - 1], 16);
            memcpy(c.id[j - 1], t, 16);
            int64_t o = c.order[j];
            c.order[j] = c.order[j - 1];
            c.order[j - 1] = o;
        }
    return c;
}

/* A graceful stop released this pipeline's lock; take it back before
 * anything else can. */
static void relock(struct oj_daemon *d, const char *id)
{
    const cJSON *v = get(d, id);
    char lock[80];
    snprintf(lock, sizeof lock, "%s", oj_json_str(v, "relock"));
    if (!lock[0])
        return;
    char who[256], err[512];
    int got = oj_lock_take(d, lock, id, who, sizeof who, err, sizeof err);
    cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
    oj_json_set_str(n, "relock", "");
    if (got == 1 && oj_pipeline_active(v))
        oj_json_set_str(n, "lock_held", lock);
    else if (got == 1)
        oj_lock_drop(d, lock, id);
    if (save(d, id, n))
        LOG_INFO("pipeline %s: %s %s after the restart", id,
                 got == 1 ? "took back" : "could not take back", lock);
}

static void tick_one(struct oj_daemon *d, const char *id, int64_t now)
{
    const cJSON *v = get(d, id);
    /* a finished phase's agent, after its grace */
    const char *rel = oj_json_str(v, "release_session");
    if (rel[0] && now >= oj_json_int(v, "release_at_ms")) {
        char sid[16];
        snprintf(sid, sizeof sid, "%s", rel);
        cJSON *n = oj_pipeline_copy(v, now);
        oj_json_set_str(n, "release_session", "");
        save(d, id, n);
        oj_session_end(d, sid, "its pipeline phase ended");
        v = get(d, id);
    }
    if (!oj_pipeline_active(v))
        return;
    const char *lock = oj_json_str(v, "lock_held");
    if (lock[0]) {
        const cJSON *l = oj_state_get(state_of(d), "lock", lock);
        if (l && strcmp(oj_json_str(l, "holder"), id) == 0) {
            oj_lock_set_heartbeat(d, lock, now);
        } else {
            /* Force-released by an operator: ours no more, whoever has it now. */
            char why[300];
            snprintf(why, sizeof why, "lost %.80s: released by an operator%s%.80s", lock,
                     l ? "; now held by " : "", l ? oj_json_str(l, "holder") : "");
            cJSON *n = oj_pipeline_copy(v, now);
            oj_json_set_str(n, "lock_held", "");
            oj_pipeline_record_step(n, now, "lock", why);
            LOG_WARN("pipeline %s: %s", id, why);
            if (!save(d, id, n))
                return;
            event(d, "pipeline.lock_lost", id, why);
            v = get(d, id);
        }
    }
    if (strcmp(oj_json_str(v, "step"), "decide") == 0) {
        if (oj_runbooks_current(d)) {
            char why[700];
            snprintf(why, sizeof why, "%s", oj_json_str(v, "decide_why"));
            phase_over(d, id, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "decide_ok")), why,
                       true);
        }
        return;
    }
    const char *step = oj_json_str(v, "step");
    if (strcmp(step, "shell") == 0 && oj_hmap_get(&d->pipeline_shells, id) == NULL) {
        /* In the state, but not running here: a crash cut it off. */
        kill_shell_step(d, id); /* what is left of it */
        if (oj_runbooks_current(d) == NULL)
            return; /* its after_crash is unknown until a runbook loads: wait */
        const struct oj_pipeline_def *def = def_of(d, v);
        const struct oj_phase_def *ph = def ? oj_pipeline_phase(def, oj_json_str(v, "phase")) : NULL;
        if (ph && ph->rerun_after_crash) {
            cJSON *n = oj_pipeline_copy(v, now);
            oj_json_set_str(n, "step", "pending");
            oj_pipeline_record_step(n, now, "rerun", "the shell step was cut off by a daemon crash");
            LOG_INFO("pipeline %s: phase %s was cut off by a crash; running it again", id,
                     ph->name);
            if (save(d, id, n)) /* v is stale from here on */
                event(d, "pipeline.rerun", id, "shell step cut off by a crash; running it again");
            drive(d, id);
            return;
        } else {
            phase_over(d, id, false, "the shell step was cut off by a daemon crash", true);
            return;
        }
    }
    if (strcmp(step, "agent") == 0) {
        const struct oj_pipeline_def *def = def_of(d, v);
        const struct oj_phase_def *ph = def ? oj_pipeline_phase(def, oj_json_str(v, "phase")) : NULL;
        /* overall: from the phase's first start (a wait for a lock or a slot
         * does not count; restarts by the recovery chain do not reset it) */
        int64_t started = oj_json_int(v, "run_started_ms");
        if (ph && ph->timeout_ms > 0 && started > 0 && now - started > ph->timeout_ms &&
            strcmp(oj_json_str(v, "state"), "escalated") != 0) {
            char why[128], limit[32];
            oj_duration_format(ph->timeout_ms, limit, sizeof limit);
            snprintf(why, sizeof why, "timed out after %s", limit);
            phase_over(d, id, false, why, true);
            return;
        }
        const cJSON *s = oj_state_get(state_of(d), "session", oj_json_str(v, "session_id"));
        if (s == NULL || !oj_session_active(s)) {
            oj_pipeline_session_ended(d, id, oj_json_str(v, "session_id"));
            return;
        }
    }
    drive(d, id);
}

void oj_pipelines_tick(struct oj_daemon *d)
{
    oj_runbooks_refresh(d);
    struct ids c = active_ids(d);
    if (!d->relocked) { /* first thing after a start */
        d->relocked = true;
        for (size_t i = 0; i < c.n; i++)
            relock(d, c.id[i]);
    }
    int64_t now = oj_wall_ms();
    for (size_t i = 0; i < c.n; i++)
        tick_one(d, c.id[i], now);
    free(c.id);
    free(c.order);
}

void oj_pipeline_session_ended(struct oj_daemon *d, const char *pipeline_id,
                               const char *session_id)
{
    char id[16], sid[16];
    snprintf(id, sizeof id, "%s", pipeline_id);
    snprintf(sid, sizeof sid, "%s", session_id);
    const cJSON *v = get(d, id);
    if (v == NULL || !oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "agent") != 0 ||
        strcmp(oj_json_str(v, "session_id"), sid) != 0)
        return; /* not the current agent: a restart or a finished phase ended it */
    const cJSON *s = oj_state_get(state_of(d), "session", sid);
    char why[600];
    snprintf(why, sizeof why, "the agent's session %s ended before `oj done` (%s)", sid,
             s ? oj_json_str(s, "reason") : "its record is gone");
    phase_over(d, id, false, why, false);
}

static void notify_finished(struct oj_daemon *d, void *arg, int status, bool timed_out,
                            const char *tail)
{
    (void)d;
    if (status != 0 || timed_out)
        LOG_WARN("pipeline %s: the notify command failed (status %d%s): %s", (char *)arg, status,
                 timed_out ? ", timed out" : "", tail);
    else
        LOG_INFO("pipeline %s: notify command ran", (char *)arg);
    free(arg);
}

static void escalate(struct oj_daemon *d, const char *id, const char *why)
{
    int64_t now = oj_wall_ms();
    cJSON *n = oj_pipeline_copy(get(d, id), now);
    oj_json_set_str(n, "state", "escalated");
    oj_pipeline_record_step(n, now, "escalate", why);
    oj_json_set_num(n, "last_step_ms", (double)now);
    if (!save(d, id, n))
        return;
    LOG_WARN("pipeline %s: escalated: %s", id, why);
    event(d, "pipeline.escalated", id, why);
    const cJSON *v = get(d, id);
    const struct oj_pipeline_def *def = def_of(d, v);
    if (def && def->notify) {
        struct tvars t;
        tvars_init(&t, d, id, v);
        char *cmd = NULL, err[512], logp[PATH_MAX + 64], bufs[4][PATH_MAX + 64], *env[5];
        if (oj_template_expand(def->notify, lookup, &t, 1, &cmd, err, sizeof err) != 0) {
            LOG_WARN("pipeline %s: notify: %s", id, err);
            return;
        }
        log_path(d, id, logp, sizeof logp);
        pipeline_env(d, id, v, bufs, env);
        char *pid = strdup(id);
        struct oj_run_spec spec = {.command = cmd,
                                   .cwd = d->paths.root,
                                   .log_path = logp,
                                   .env = env,
                                   .timeout_ms = NOTIFY_TIMEOUT_MS};
        if (oj_runner_start(d, &spec, notify_finished, pid) != 0)
            free(pid);
        free(cmd);
    }
}

/* How long after a recovery step output still counts as its echo, not as
 * the agent coming back to life (a restarted agent's banner). */
static int64_t reset_grace(int64_t idle_timeout)
{
    int64_t g = idle_timeout / 2;
    return g > 30000 ? 30000 : g;
}

void oj_pipeline_session_stuck(struct oj_daemon *d, const char *pipeline_id,
                               const char *session_id)
{
    char id[16], sid[16];
    snprintf(id, sizeof id, "%s", pipeline_id);
    snprintf(sid, sizeof sid, "%s", session_id);
    const cJSON *v = get(d, id);
    if (v == NULL || strcmp(oj_json_str(v, "state"), "running") != 0 ||
        strcmp(oj_json_str(v, "step"), "agent") != 0 ||
        strcmp(oj_json_str(v, "session_id"), sid) != 0)
        return;
    const struct oj_pipeline_def *def = def_of(d, v);
    const struct oj_phase_def *ph = def ? oj_pipeline_phase(def, oj_json_str(v, "phase")) : NULL;
    if (ph == NULL)
        return;
    int64_t now = oj_wall_ms();
    struct oj_stuck_decision dec = oj_pipeline_stuck_decide(
        ph, (int)oj_json_int(v, "stuck_index"), (int)oj_json_int(v, "restarts"),
        oj_session_last_output_ms(d, sid), oj_json_int(v, "last_step_ms"),
        reset_grace(ph->idle_timeout_ms));
    char quiet[32], detail[200];
    oj_duration_format(now - oj_session_last_output_ms(d, sid), quiet, sizeof quiet);
    cJSON *n = oj_pipeline_copy(v, now);
    oj_json_set_num(n, "stuck_index", dec.next_index);
    oj_json_set_num(n, "last_step_ms", (double)now);
    switch (dec.action) {
    case OJ_STUCK_NUDGE: {
        char err[256];
        int rc = oj_session_type(d, sid, STUCK_NUDGE, true, err, sizeof err);
        snprintf(detail, sizeof detail, "session %s quiet for %s%s%.100s", sid, quiet,
                 rc ? "; the nudge failed: " : "", rc ? err : "");
        oj_pipeline_record_step(n, now, "nudge", detail);
        if (save(d, id, n))
            event(d, "pipeline.nudged", id, detail);
        LOG_INFO("pipeline %s: stuck: nudged (%s)", id, detail);
        return;
    }
    case OJ_STUCK_RESTART: {
        int restarts = (int)oj_json_int(v, "restarts") + 1;
        snprintf(detail, sizeof detail, "session %s quiet for %s; restart %d", sid, quiet,
                 restarts);
        oj_json_set_num(n, "restarts", restarts);
        oj_json_set_str(n, "step", "pending");
        oj_json_set_str(n, "session_id", "");
        oj_pipeline_record_step(n, now, "restart", detail);
        if (!save(d, id, n))
            return;
        oj_session_end(d, sid, "restarted: stuck");
        LOG_INFO("pipeline %s: stuck: restarting (%s)", id, detail);
        event(d, "pipeline.restarted", id, detail);
        drive(d, id);
        return;
    }
    case OJ_STUCK_ESCALATE:
        cJSON_Delete(n);
        snprintf(detail, sizeof detail, "session %s quiet for %s; recovery steps did not help",
                 sid, quiet);
        escalate(d, id, detail);
        return;
    }
    cJSON_Delete(n);
}

/* ---- counting -------------------------------------------------------------------------- */

struct count_ctx {
    unsigned active, queued;
};

static void count(const char *id, const cJSON *v, void *arg)
{
    (void)id;
    struct count_ctx *c = arg;
    if (oj_pipeline_active(v))
        c->active++;
    if (oj_pipeline_active(v) && strcmp(oj_json_str(v, "step"), "queued") == 0)
        c->queued++;
}

unsigned oj_pipelines_active(struct oj_daemon *d)
{
    struct count_ctx c = {0};
    oj_state_each(state_of(d), "pipeline", count, &c);
    return c.active;
}

struct wait_ctx {
    struct oj_daemon *d;
    Oj__PipelineWait *w;
    size_t n, cap;
};

static void collect_wait(const char *id, const cJSON *v, void *arg)
{
    struct wait_ctx *c = arg;
    const char *step = oj_json_str(v, "step");
    if (!oj_pipeline_active(v) || (strcmp(step, "lock") != 0 && strcmp(step, "queued") != 0))
        return;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->w = realloc(c->w, c->cap * sizeof *c->w);
    }
    Oj__PipelineWait *w = &c->w[c->n++];
    oj__pipeline_wait__init(w);
    w->pipeline_id = (char *)id;
    w->phase = (char *)oj_json_str(v, "phase");
    w->lock = (char *)oj_json_str(v, "waiting_for_lock");
    w->since_ms = oj_json_int(v, "waiting_since_ms");
    if (w->since_ms == 0)
        w->since_ms = oj_json_int(v, "updated_at_ms");
    const cJSON *l = w->lock[0] ? oj_state_get(state_of(c->d), "lock", w->lock) : NULL;
    w->holder = (char *)(l ? oj_json_str(l, "holder") : "");
}

size_t oj_pipelines_waiting(struct oj_daemon *d, Oj__PipelineWait **out)
{
    struct wait_ctx c = {.d = d};
    oj_state_each(state_of(d), "pipeline", collect_wait, &c);
    *out = c.w;
    return c.n;
}

unsigned oj_pipelines_queued(struct oj_daemon *d)
{
    struct count_ctx c = {0};
    oj_state_each(state_of(d), "pipeline", count, &c);
    return c.queued;
}

void oj_pipelines_release_locks(struct oj_daemon *d)
{
    struct ids c = active_ids(d);
    int n = 0;
    for (size_t i = 0; i < c.n; i++) {
        const cJSON *v = get(d, c.id[i]);
        const char *lock = oj_json_str(v, "lock_held");
        if (!lock[0])
            continue;
        char name[80];
        snprintf(name, sizeof name, "%s", lock);
        oj_lock_drop(d, name, c.id[i]);
        cJSON *m = oj_pipeline_copy(v, oj_wall_ms());
        oj_json_set_str(m, "lock_held", "");
        oj_json_set_str(m, "relock", name);
        if (save(d, c.id[i], m))
            n++;
    }
    if (n)
        LOG_INFO("pipelines: released %d lock(s); their pipelines take them back at the next start",
                 n);
    free(c.id);
    free(c.order);
}

/* ---- the commands ------------------------------------------------------------------------- */

static void summary(const char *id, const cJSON *v, Oj__PipelineSummary *s)
{
    oj__pipeline_summary__init(s);
    s->id = (char *)id;
    s->name = (char *)oj_json_str(v, "name");
    s->phase = (char *)oj_json_str(v, "phase");
    s->state = (char *)oj_json_str(v, "state");
    s->created_at_ms = oj_json_int(v, "created_at_ms");
    s->updated_at_ms = oj_json_int(v, "updated_at_ms");
}

struct list_ctx {
    bool active_only;
    Oj__PipelineSummary *s;
    Oj__PipelineSummary **p;
    size_t n, cap;
};

static void collect(const char *id, const cJSON *v, void *arg)
{
    struct list_ctx *l = arg;
    if (l->active_only && !oj_pipeline_active(v))
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->s = realloc(l->s, l->cap * sizeof *l->s);
    }
    summary(id, v, &l->s[l->n++]);
}

static int by_created(const void *a, const void *b)
{
    const Oj__PipelineSummary *x = *(Oj__PipelineSummary *const *)a,
                              *y = *(Oj__PipelineSummary *const *)b;
    return (x->created_at_ms > y->created_at_ms) - (x->created_at_ms < y->created_at_ms);
}

/* Archived pipelines (oj maintenance archive) as summaries: id and name
 * strings are kept alive in `keep` until the reply is packed. */
static void collect_archived(struct oj_daemon *d, struct list_ctx *l, cJSON *keep)
{
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/archive", d->paths.state_dir);
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (strncmp(e->d_name, "pipelines-", 10) != 0)
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name);
        FILE *f = fopen(path, "re");
        if (f == NULL)
            continue;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        rewind(f);
        char *text = len > 0 ? malloc((size_t)len + 1) : NULL;
        size_t got = text ? fread(text, 1, (size_t)len, f) : 0;
        fclose(f);
        if (text == NULL)
            continue;
        text[got] = '\0';
        cJSON *doc = cJSON_Parse(text);
        free(text);
        if (doc == NULL)
            continue;
        cJSON *ps = cJSON_DetachItemFromObjectCaseSensitive(doc, "pipelines");
        cJSON_Delete(doc);
        if (ps == NULL)
            continue;
        cJSON_AddItemToArray(keep, ps);
        for (cJSON *p = ps->child; p; p = p->next) {
            if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 16;
                l->s = realloc(l->s, l->cap * sizeof *l->s);
            }
            summary(p->string, p, &l->s[l->n]);
            oj_json_set_str(p, "archived_state", "archived");
            l->s[l->n].state = (char *)oj_json_str(p, "archived_state");
            l->n++;
        }
    }
    closedir(dh);
}

static void rpc_list(Oj__Control_Service *svc, const Oj__PipelineListRequest *in,
                     Oj__PipelineListResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    struct list_ctx l = {.active_only = in->active_only};
    oj_state_each(state_of(d), "pipeline", collect, &l);
    cJSON *keep = cJSON_CreateArray();
    if (in->include_archived)
        collect_archived(d, &l, keep);
    l.p = calloc(l.n + 1, sizeof *l.p);
    for (size_t i = 0; i < l.n; i++)
        l.p[i] = &l.s[i];
    qsort(l.p, l.n, sizeof *l.p, by_created);
    Oj__PipelineListResponse out = OJ__PIPELINE_LIST_RESPONSE__INIT;
    out.n_pipelines = l.n;
    out.pipelines = l.p;
    done(&out, call);
    free(l.p);
    free(l.s);
    cJSON_Delete(keep);
}

static void describe(struct oj_daemon *d, const char *id, const cJSON *v, bool full,
                     void (*reply)(Oj__PipelineStatusResponse *, void *), void *call)
{
    Oj__PipelineSummary s;
    summary(id, v, &s);
    Oj__PipelineStatusResponse out = OJ__PIPELINE_STATUS_RESPONSE__INIT;
    out.pipeline = &s;
    out.session_id = (char *)oj_json_str(v, "session_id");
    const cJSON *sess = oj_state_get(state_of(d), "session", out.session_id);
    if (sess && oj_session_active(sess)) {
        int64_t last = oj_session_last_output_ms(d, out.session_id), now = oj_wall_ms();
        out.idle_ms = now > last ? now - last : 0;
    }
    out.waiting_for_lock = (char *)oj_json_str(v, "waiting_for_lock");
    out.last_error = (char *)oj_json_str(v, "last_error");
    out.workspace = (char *)oj_json_str(v, "workspace");
    out.branch = (char *)oj_json_str(v, "branch");
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(v, "recovery");
    size_t nrec = (size_t)cJSON_GetArraySize(rec);
    Oj__RecoveryStep *steps = calloc(nrec + 1, sizeof *steps);
    Oj__RecoveryStep **sp = calloc(nrec + 1, sizeof *sp);
    size_t i = 0;
    for (const cJSON *r = rec ? rec->child : NULL; r && i < nrec; r = r->next, i++) {
        oj__recovery_step__init(&steps[i]);
        steps[i].time_ms = oj_json_int(r, "time_ms");
        steps[i].action = (char *)oj_json_str(r, "action");
        steps[i].detail = (char *)oj_json_str(r, "detail");
        sp[i] = &steps[i];
    }
    out.n_recovery = i;
    out.recovery = sp;
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(v, "inputs");
    size_t nin = full ? (size_t)cJSON_GetArraySize(ins) : 0;
    Oj__Input *inputs = calloc(nin + 1, sizeof *inputs);
    Oj__Input **ip = calloc(nin + 1, sizeof *ip);
    i = 0;
    for (const cJSON *x = full && ins ? ins->child : NULL; x && i < nin; x = x->next, i++) {
        oj__input__init(&inputs[i]);
        inputs[i].name = x->string;
        inputs[i].value = cJSON_IsString(x) ? x->valuestring : "";
        ip[i] = &inputs[i];
    }
    out.n_inputs = i;
    out.inputs = ip;
    out.step = (char *)oj_json_str(v, "step");
    out.attempt = (int32_t)oj_json_int(v, "attempt");
    out.lock_held = (char *)oj_json_str(v, "lock_held");
    const cJSON *cps = cJSON_GetObjectItemCaseSensitive(v, "checkpoints");
    size_t ncp = full ? (size_t)cJSON_GetArraySize(cps) : 0;
    Oj__Checkpoint *cp = calloc(ncp + 1, sizeof *cp);
    Oj__Checkpoint **cpp = calloc(ncp + 1, sizeof *cpp);
    i = 0;
    for (const cJSON *x = full && cps ? cps->child : NULL; x && i < ncp; x = x->next, i++) {
        oj__checkpoint__init(&cp[i]);
        cp[i].time_ms = oj_json_int(x, "time_ms");
        cp[i].phase = (char *)oj_json_str(x, "phase");
        cp[i].message = (char *)oj_json_str(x, "message");
        cpp[i] = &cp[i];
    }
    out.n_checkpoints = i;
    out.checkpoints = cpp;
    reply(&out, call);
    free(steps);
    free(sp);
    free(inputs);
    free(ip);
    free(cp);
    free(cpp);
}

struct status_call {
    Oj__PipelineStatusResponse_Closure done;
    void *call;
};

static void send_status(Oj__PipelineStatusResponse *out, void *arg)
{
    struct status_call *c = arg;
    c->done(out, c->call);
}

static void status_or_show(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                           Oj__PipelineStatusResponse_Closure done, void *call, bool full)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16];
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    struct status_call c = {done, call};
    describe(d, id, get(d, id), full, send_status, &c);
}

static void rpc_status(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                       Oj__PipelineStatusResponse_Closure done, void *call)
{
    status_or_show(svc, in, done, call, false);
}

static void rpc_show(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                     Oj__PipelineStatusResponse_Closure done, void *call)
{
    status_or_show(svc, in, done, call, true);
}

static void reply_action(void *call, Oj__ActionResponse_Closure done, const char *id,
                         const char *msg)
{
    Oj__ActionResponse out = OJ__ACTION_RESPONSE__INIT;
    out.id = (char *)id;
    out.message = (char *)msg;
    done(&out, call);
}

static void refuse(void *call, Oj__ActionResponse_Closure done, int code, const char *msg)
{
    oj_call_fail(call, code, "%s", msg);
    done(NULL, call);
}

static void rpc_nudge(Oj__Control_Service *svc, const Oj__NudgeRequest *in,
                      Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], sid[16], msg[600], err[256];
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    snprintf(sid, sizeof sid, "%s", oj_json_str(v, "session_id"));
    if (!oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "agent") != 0 || !sid[0]) {
        snprintf(msg, sizeof msg,
                 "pipeline %s has no agent running (state %s, phase %s, step %s); nothing to nudge",
                 id, oj_json_str(v, "state"), oj_json_str(v, "phase"), oj_json_str(v, "step"));
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    if (oj_session_type(d, sid, in->message[0] ? in->message : STUCK_NUDGE, true, err,
                        sizeof err) != 0) {
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, err);
        return;
    }
    int64_t now = oj_wall_ms();
    cJSON *n = oj_pipeline_copy(v, now);
    snprintf(msg, sizeof msg, "by the operator, session %s", sid);
    oj_pipeline_record_step(n, now, "nudge", msg);
    oj_json_set_num(n, "last_step_ms", (double)now);
    save(d, id, n);
    event(d, "pipeline.nudged", id, msg);
    snprintf(msg, sizeof msg, "nudged session %s", sid);
    reply_action(call, done, id, msg);
}

/* Starts the current phase over (operator restart, resume after a failure). */
static void rerun_phase(struct oj_daemon *d, const char *id, const char *action, const char *detail)
{
    int64_t now = oj_wall_ms();
    const cJSON *v = get(d, id);
    cJSON *n = oj_pipeline_copy(v, now);
    let_go(d, id, n, true);
    cJSON *e = oj_pipeline_enter(n, oj_json_str(v, "phase"), now);
    cJSON_Delete(n);
    /* attempts only grow within a phase: a late result of the old run must
     * never pass for the new one's */
    oj_json_set_num(e, "attempt", (double)oj_json_int(v, "attempt"));
    oj_json_set_str(e, "state", "running");
    oj_pipeline_record_step(e, now, action, detail);
    oj_json_set_num(e, "last_step_ms", (double)now);
    if (!save(d, id, e))
        return;
    char kind[64];
    snprintf(kind, sizeof kind, "pipeline.%s", strcmp(action, "restart") == 0 ? "restarted" : "resumed");
    event(d, kind, id, detail);
    drive(d, id);
}

static bool shell_running(struct oj_daemon *d, const char *id, const cJSON *v)
{
    return strcmp(oj_json_str(v, "step"), "shell") == 0 &&
           oj_hmap_get(&d->pipeline_shells, id) != NULL;
}

static void rpc_restart(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                        Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[400];
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    if (!oj_pipeline_active(v)) {
        snprintf(msg, sizeof msg, "pipeline %s is %s; `oj pipeline resume %s` runs a failed one "
                                  "again", id, oj_json_str(v, "state"), id);
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    if (shell_running(d, id, v)) {
        kill_shell_step(d, id); /* its late result is ignored: the attempt moves on */
        oj_hmap_del(&d->pipeline_shells, id);
    }
    char phase[80];
    snprintf(phase, sizeof phase, "%s", oj_json_str(v, "phase"));
    rerun_phase(d, id, "restart", "by the operator");
    snprintf(msg, sizeof msg, "restarted phase %s", phase);
    reply_action(call, done, id, msg);
}

static void rpc_resume(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                       Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[600];
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    const char *state = oj_json_str(v, "state");
    struct stat st;
    if (strcmp(state, "escalated") != 0 && strcmp(state, "failed") != 0) {
        snprintf(msg, sizeof msg, "pipeline %s is %s; resume is for an escalated or failed pipeline",
                 id, state);
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    if (stat(oj_json_str(v, "workspace"), &st) != 0) {
        snprintf(msg, sizeof msg, "pipeline %s's workspace %s is gone (cleaned up?); start it anew "
                                  "with `oj run`", id, oj_json_str(v, "workspace"));
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    char phase[80];
    snprintf(phase, sizeof phase, "%s", oj_json_str(v, "phase"));
    const cJSON *sess = oj_state_get(state_of(d), "session", oj_json_str(v, "session_id"));
    if (strcmp(state, "escalated") == 0 && strcmp(oj_json_str(v, "step"), "agent") == 0 && sess &&
        oj_session_active(sess)) {
        /* The agent still runs: give it a fresh recovery chain. */
        int64_t now = oj_wall_ms();
        cJSON *n = oj_pipeline_copy(v, now);
        oj_json_set_str(n, "state", "running");
        oj_json_set_num(n, "stuck_index", 0);
        oj_json_set_num(n, "last_step_ms", (double)now);
        /* The phase's timeout was not checked while a human decided; it
         * counts anew, or a long escalation would fail the phase at once. */
        oj_json_set_num(n, "run_started_ms", (double)now);
        oj_pipeline_record_step(n, now, "resume", "by the operator; the agent keeps running");
        if (save(d, id, n)) {
            oj_session_rearm(d, oj_json_str(get(d, id), "session_id"));
            event(d, "pipeline.resumed", id, "the agent keeps running");
        }
        snprintf(msg, sizeof msg, "resumed phase %s; its agent keeps running", phase);
    } else {
        rerun_phase(d, id, "resume", "by the operator; the phase starts again");
        snprintf(msg, sizeof msg, "resumed: phase %s starts again", phase);
    }
    reply_action(call, done, id, msg);
}

static void rpc_cancel(Oj__Control_Service *svc, const Oj__PipelineRef *in,
                       Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[300];
    if (!resolve(d, in->id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    const cJSON *v = get(d, id);
    if (!oj_pipeline_active(v)) {
        snprintf(msg, sizeof msg, "pipeline %s is already %s", id, oj_json_str(v, "state"));
        refuse(call, done, OJ__STATUS_CODE__CONFLICT, msg);
        return;
    }
    if (shell_running(d, id, v)) {
        kill_shell_step(d, id); /* before the lock goes: nothing of it runs unlocked */
        oj_hmap_del(&d->pipeline_shells, id);
    }
    cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
    let_go(d, id, n, true);
    oj_json_set_str(n, "session_id", "");
    if (!save(d, id, n)) {
        refuse(call, done, OJ__STATUS_CODE__INTERNAL, "cannot record the cancel");
        return;
    }
    finish(d, id, "cancelled", "cancelled by the operator");
    reply_action(call, done, id, "cancelled");
}

/* The pipeline an agent's `oj done` / `oj checkpoint` is about, checked
 * against its phase and session; false with the call failed. */
static bool agent_call(struct oj_daemon *d, const char *task, const char *phase,
                       const char *session_id, char *id, size_t len, void *call)
{
    if (!resolve(d, task, id, len, call))
        return false;
    const cJSON *v = get(d, id);
    if (!oj_pipeline_active(v) || strcmp(oj_json_str(v, "step"), "agent") != 0) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT,
                     "pipeline %s is not waiting for an agent (state %s, step %s)", id,
                     oj_json_str(v, "state"), oj_json_str(v, "step"));
        return false;
    }
    if (phase[0] && strcmp(phase, oj_json_str(v, "phase")) != 0) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT,
                     "pipeline %s is in phase %s, not %s; this agent's phase is over", id,
                     oj_json_str(v, "phase"), phase);
        return false;
    }
    if (session_id[0] && strcmp(session_id, oj_json_str(v, "session_id")) != 0) {
        oj_call_fail(call, OJ__STATUS_CODE__CONFLICT,
                     "session %s is no longer pipeline %s's agent (now %s)", session_id, id,
                     oj_json_str(v, "session_id"));
        return false;
    }
    return true;
}

static void rpc_done(Oj__Control_Service *svc, const Oj__DoneRequest *in,
                     Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16], msg[800];
    /* The same agent saying the same again (`oj done` retried after a daemon
     * crash that came before the answer, or simply run twice) gets the first
     * answer: its phase did end. */
    const cJSON *prev = in->session_id[0] ? get(d, in->task) : NULL; /* OTTER_TASK: a full id */
    if (prev && strcmp(oj_json_str(prev, "done_session"), in->session_id) == 0 &&
        strcmp(oj_json_str(prev, "done_error"), in->error) == 0) {
        snprintf(msg, sizeof msg, "%.700s (already recorded)", oj_json_str(prev, "done_reply"));
        reply_action(call, done, in->task, msg);
        return;
    }
    if (!agent_call(d, in->task, in->phase, in->session_id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    char phase[80];
    snprintf(phase, sizeof phase, "%s", oj_json_str(get(d, id), "phase"));
    bool ok = in->error[0] == '\0';
    phase_over(d, id, ok, in->error, false);
    const cJSON *v = get(d, id);
    if (strcmp(oj_json_str(v, "step"), "decide") == 0)
        snprintf(msg, sizeof msg, "phase %s %s; no runbook loads (see oj status), so pipeline %s "
                 "goes on once one does", phase, ok ? "done" : "failed", id);
    else if (ok)
        snprintf(msg, sizeof msg, "phase %s done; pipeline %s is now %s%s%s", phase, id,
                 oj_json_str(v, "state"), oj_pipeline_active(v) ? " in phase " : "",
                 oj_pipeline_active(v) ? oj_json_str(v, "phase") : "");
    else
        snprintf(msg, sizeof msg, "phase %s failed: %.500s; pipeline %s is now %s", phase, in->error,
                 id, oj_json_str(v, "state"));
    if (in->session_id[0]) { /* for a repeat of this request (above) */
        cJSON *n = oj_pipeline_copy(v, oj_wall_ms());
        oj_json_set_str(n, "done_session", in->session_id);
        oj_json_set_str(n, "done_error", in->error);
        oj_json_set_str(n, "done_reply", msg);
        save(d, id, n);
    }
    reply_action(call, done, id, msg);
}

static void rpc_checkpoint(Oj__Control_Service *svc, const Oj__CheckpointRequest *in,
                           Oj__ActionResponse_Closure done, void *call)
{
    struct oj_daemon *d = oj_daemon_of(svc);
    char id[16];
    if (in->message[0] == '\0') {
        refuse(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT,
               "say what progress to record: oj checkpoint \"<message>\"");
        return;
    }
    if (!agent_call(d, in->task, in->phase, in->session_id, id, sizeof id, call)) {
        done(NULL, call);
        return;
    }
    int64_t now = oj_wall_ms();
    cJSON *n = oj_pipeline_copy(get(d, id), now);
    cJSON *cps = cJSON_GetObjectItemCaseSensitive(n, "checkpoints");
    if (!cJSON_IsArray(cps)) {
        cJSON_DeleteItemFromObjectCaseSensitive(n, "checkpoints");
        cJSON_AddItemToObject(n, "checkpoints", cps = cJSON_CreateArray());
    }
    cJSON *cp = cJSON_CreateObject();
    cJSON_AddNumberToObject(cp, "time_ms", (double)now);
    cJSON_AddStringToObject(cp, "phase", oj_json_str(n, "phase"));
    cJSON_AddStringToObject(cp, "message", in->message);
    cJSON_AddItemToArray(cps, cp);
    while (cJSON_GetArraySize(cps) > MAX_CHECKPOINTS)
        cJSON_DeleteItemFromArray(cps, 0);
    if (!save(d, id, n)) {
        refuse(call, done, OJ__STATUS_CODE__INTERNAL, "cannot record the checkpoint");
        return;
    }
    event(d, "pipeline.checkpoint", id, in->message);
    reply_action(call, done, id, "checkpoint recorded");
}

void oj_rpc_register_pipeline(Oj__Control_Service *svc)
{
    svc->run = rpc_run;
    svc->pipeline_list = rpc_list;
    svc->pipeline_status = rpc_status;
    svc->pipeline_show = rpc_show;
    svc->pipeline_nudge = rpc_nudge;
    svc->pipeline_restart = rpc_restart;
    svc->pipeline_resume = rpc_resume;
    svc->pipeline_cancel = rpc_cancel;
    svc->done = rpc_done;
    svc->checkpoint = rpc_checkpoint;
}
