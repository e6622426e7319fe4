/* Pipelines end to end: runbooks in .oj/runbooks, the real daemon driving
 * shell steps, agents (the fake agent, installed next to oj as oj-fake-agent)
 * in its private tmux server, git worktrees and merge-lock, in a scratch git
 * repo. Everything is checked the way a user would see it: exit codes, what
 * the commands print, files in the repo, git's own view. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "snapshot.h"
#include "state.h"

static struct oj_env e;
static pid_t follower; /* an `oj events --follow` to stop at teardown */

/* A short pause between nudges, so the stuck chain runs in seconds. */
static char *daemon_env[] = {"OJ_NUDGE_PAUSE=1s", NULL};

static void setup(void) { env_setup(&e, true); }
static void teardown(void)
{
    if (follower > 0) {
        kill(follower, SIGINT);
        child_wait_exit(follower, 5000);
        follower = 0;
    }
    cr_expect(env_teardown(&e), "sanitizer report in the daemon log");
}

static void start_daemon(void)
{
    struct oj_out o = oj_run_in(&e, NULL, daemon_env, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "oj daemon start (%d): %s", o.code, o.err);
    oj_out_free(&o);
}

/* Writes .oj/runbooks/<name>.json; the text uses ' for " to stay readable. */
static void runbook(const char *name, const char *text)
{
    cr_assert_eq(env_write_runbook_q(&e, name, text), 0, "cannot write runbook %s: %s", name, strerror(errno));
}

/* A path in the project: fmt has one %s for `a`. The result lives until four
 * more calls; copy it to keep it longer. */
static char *path_in(const char *fmt, const char *a)
{
    static char bufs[4][PATH_MAX + 256];
    static int next;
    char *p = bufs[next++ % 4];
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, fmt, a);
    snprintf(p, sizeof bufs[0], "%s/%s", e.dir, rel);
    return p;
}

static char *tail_of(const char *text, size_t n)
{
    size_t len = text ? strlen(text) : 0;
    return (char *)(text ? text + (len > n ? len - n : 0) : "");
}

/* `oj run` printed the id alone on stdout (p + 6 hex digits); copies it. */
static void take_id(const struct oj_out *o, char id[16])
{
    cr_assert_eq(o->code, 0, "oj run exited %d: %s", o->code, o->err);
    const char *s = o->out;
    bool ok = strlen(s) == 8 && s[0] == 'p' && s[7] == '\n';
    for (int i = 1; ok && i < 7; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    cr_assert(ok, "oj run must print the id alone on stdout, got '%s'", s);
    memcpy(id, s, 7);
    id[7] = '\0';
}

static void run_ok(char id[16], const char *pipeline, const char *in1, const char *in2)
{
    struct oj_out o = in2 ? OJ(&e, "run", pipeline, in1, in2)
                      : in1 ? OJ(&e, "run", pipeline, in1)
                            : OJ(&e, "run", pipeline);
    take_id(&o, id);
    oj_out_free(&o);
}

static cJSON *json_of(struct oj_out *o, const char *what)
{
    cJSON *j = cJSON_Parse(o->out);
    cr_assert_not_null(j, "%s: not JSON (exit %d): %s %s", what, o->code, o->out, o->err);
    return j;
}

static cJSON *status_json(const char *id, bool full)
{
    struct oj_out o = OJ(&e, "pipeline", full ? "show" : "status", id, "--json");
    cr_assert_eq(o.code, 0, "oj pipeline status %s: %s", id, o.err);
    cJSON *j = json_of(&o, "pipeline status");
    oj_out_free(&o);
    return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) ? s->valuestring : "";
}

static const char *pstate(const cJSON *status)
{
    return jstr(cJSON_GetObjectItemCaseSensitive(status, "pipeline"), "state");
}

/* Everything that helps read a failure: the status, the pipeline's shell log,
 * the daemon log's tail. */
static void dump(const char *id)
{
    struct oj_out s = OJ(&e, "pipeline", "show", id);
    char *plog = read_file(path_in(".oj/logs/pipelines/%s.log", id));
    char *dlog = read_file(path_in(".oj/logs/daemon.log%s", ""));
    struct oj_out l = OJ(&e, "session", "list");
    fprintf(stderr,
            "---- pipeline %s\n%s%s---- sessions\n%s---- pipeline log\n%s\n---- daemon log "
            "(tail)\n%s\n",
            id, s.out, s.err, l.out, plog ? plog : "(none)", tail_of(dlog, 3000));
    free(plog);
    free(dlog);
    oj_out_free(&s);
    oj_out_free(&l);
}

struct state_wait {
    const char *id, *state;
    char seen[32];
};

static bool state_reached(void *arg)
{
    struct state_wait *w = arg;
    struct oj_out o = OJ(&e, "pipeline", "status", w->id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    const char *st = j ? pstate(j) : "";
    snprintf(w->seen, sizeof w->seen, "%s", st);
    cJSON_Delete(j);
    oj_out_free(&o);
    /* A finished pipeline does not change any more: stop waiting. */
    return strcmp(w->seen, w->state) == 0 || strcmp(w->seen, "done") == 0 ||
           strcmp(w->seen, "failed") == 0 || strcmp(w->seen, "cancelled") == 0;
}

static void expect_state(const char *id, const char *state, int timeout_ms)
{
    struct state_wait w = {id, state, ""};
    bool reached = wait_until(state_reached, &w, timeout_ms) && strcmp(w.seen, state) == 0;
    if (!reached) {
        dump(id);
        cr_assert_fail("pipeline %s never became %s (last seen: %s); details on stderr", id,
                       state, w.seen);
    }
}

struct file_wait {
    const char *path, *text;
};

static bool file_has(void *arg)
{
    struct file_wait *w = arg;
    char *t = read_file(w->path);
    bool has = t && strstr(t, w->text) != NULL;
    free(t);
    return has;
}

static void expect_file_has(const char *path, const char *text, int timeout_ms)
{
    struct file_wait w = {path, text};
    if (!wait_until(file_has, &w, timeout_ms)) {
        char *t = read_file(path);
        cr_assert_fail("'%s' never appeared in %s; it holds:\n%s", text, path,
                       t ? t : "(no such file)");
        free(t);
    }
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* git in the project; its output into out. */
static int git(char *out, size_t outlen, char *const args[])
{
    char *argv[16] = {"git"};
    int n = 1;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (out)
        out[0] = '\0';
    return run_prog(e.dir, 10000, out, outlen, argv);
}

/* The pipeline's sessions, from `oj session list --json` (caller deletes). */
static cJSON *sessions_of(const char *id)
{
    struct oj_out o = OJ(&e, "session", "list", "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *all = json_of(&o, "session list");
    oj_out_free(&o);
    cJSON *mine = cJSON_CreateArray();
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(all, "sessions"))
    {
        if (strcmp(jstr(s, "pipeline_id"), id) == 0)
            cJSON_AddItemToArray(mine, cJSON_Duplicate(s, 1));
    }
    cJSON_Delete(all);
    return mine;
}

static void expect_agent(const char *id, char sid[16])
{
    if (!env_wait_pipeline_agent(&e, id, sid, 15000)) {
        dump(id);
        cr_assert_fail("pipeline %s never started its agent", id);
    }
}

static char *session_log(const char *sid)
{
    return path_in(".oj/logs/sessions/%s.log", sid);
}

static bool daemon_stopping(void *arg)
{
    (void)arg;
    struct oj_out o = OJ(&e, "status");
    bool yes = o.code == 0 && strstr(o.out, " - stopping") != NULL;
    oj_out_free(&o);
    return yes;
}

struct lock_wait {
    const char *lock, *holder;
    char seen[512];
};

static bool lock_held_by(void *arg)
{
    struct lock_wait *w = arg;
    struct oj_out o = OJ(&e, "lock", "status", w->lock);
    char want[64];
    snprintf(want, sizeof want, "holder:     %s\n", w->holder);
    snprintf(w->seen, sizeof w->seen, "%s", o.out);
    bool yes = o.code == 0 && strstr(o.out, want) != NULL;
    oj_out_free(&o);
    return yes;
}

/* The newest snapshot, loaded (caller frees). */
static struct oj_state *newest_snapshot(void)
{
    char dir[PATH_MAX], newest[PATH_MAX + 300] = "", best[300] = "";
    snprintf(dir, sizeof dir, "%s/.oj/snapshots", e.dir);
    DIR *dh = opendir(dir);
    cr_assert_not_null(dh, "no %s", dir);
    struct dirent *de;
    while ((de = readdir(dh)))
        if (de->d_name[0] == '0' && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    closedir(dh);
    cr_assert(best[0], "no snapshot in %s", dir);
    snprintf(newest, sizeof newest, "%s/%s", dir, best);
    struct oj_state *st = oj_state_new();
    char err[256];
    cr_assert_eq(oj_snapshot_load(newest, st, err, sizeof err), 0, "%s", err);
    return st;
}

/* ---- 1. the main job ------------------------------------------------------------ */

#define BUILD_RUNBOOK                                                                      \
    "{'pipelines': {'build': {'inputs': ['name', 'prompt'], 'phases': ["                    \
    "  {'name': 'prepare', 'run': 'echo prepared {name}'},"                                 \
    "  {'name': 'implement', 'agent': {'command': 'oj-fake-agent --work',"                  \
    "     'prompt': 'Implement {prompt} for {name}', 'idle_timeout': '1m'}},"               \
    "  {'name': 'merge', 'lock': 'merge-lock', 'run': '%sgit -C {project} merge --no-ff "   \
    "--no-edit {branch}'}],"                                                                \
    " 'notify': 'touch {project}/escalated-{id}'}}}"

static void build_runbook(const char *merge_prefix)
{
    char text[2048];
    snprintf(text, sizeof text, BUILD_RUNBOOK, merge_prefix);
    runbook("build", text);
}

Test(pipelines, three_phases_run_to_done_and_merge, .init = setup, .fini = teardown,
     .timeout = 60)
{
    build_runbook("");
    start_daemon();
    struct oj_out r = OJ(&e, "run", "build", "demo", "some prompt");
    char id[16];
    take_id(&r, id);
    cr_expect(strstr(r.err, "started pipeline") && strstr(r.err, id), "stderr: %s", r.err);
    oj_out_free(&r);
    expect_state(id, "done", 30000);

    struct oj_out st = OJ(&e, "pipeline", "status", id);
    cr_expect_eq(st.code, 0);
    cr_expect(strstr(st.out, "state:     done") && strstr(st.out, "phase:     merge"), "%s",
              st.out);
    oj_out_free(&st);

    /* The agent's work is on main in the project, merged from its branch. */
    char *work = read_file(path_in("work/%s.md", id));
    cr_expect_str_eq(work ? work : "(missing)", "Implement some prompt for demo\n");
    free(work);
    char log[8192], ref[64], branch[64], merge_msg[128];
    snprintf(ref, sizeof ref, "main:work/%s.md", id);
    cr_expect_eq(git(NULL, 0, (char *[]){"show", ref, NULL}), 0, "%s is not on main", ref);
    cr_expect_eq(git(log, sizeof log, (char *[]){"log", "--format=%s", "main", NULL}), 0);
    snprintf(branch, sizeof branch, "oj/build-%s", id);
    snprintf(merge_msg, sizeof merge_msg, "Merge branch '%s'", branch);
    cr_expect(strstr(log, merge_msg) != NULL, "no merge commit on main:\n%s", log);
    snprintf(merge_msg, sizeof merge_msg, "fake agent: %s", id);
    cr_expect(strstr(log, merge_msg) != NULL, "no agent commit on main:\n%s", log);

    /* show: the inputs, the agent's checkpoint */
    cJSON *j = status_json(id, true);
    const cJSON *in;
    int found = 0;
    cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(j, "inputs"))
    {
        if (strcmp(jstr(in, "name"), "name") == 0 && strcmp(jstr(in, "value"), "demo") == 0)
            found++;
        if (strcmp(jstr(in, "name"), "prompt") == 0 &&
            strcmp(jstr(in, "value"), "some prompt") == 0)
            found++;
    }
    cr_expect_eq(found, 2, "show --json lists both inputs with their values");
    const cJSON *cps = cJSON_GetObjectItemCaseSensitive(j, "checkpoints");
    cr_expect_geq(cJSON_GetArraySize(cps), 1, "no checkpoint recorded");
    const cJSON *cp = cJSON_GetArrayItem(cps, 0);
    char want[128];
    snprintf(want, sizeof want, "committed work/%s.md", id);
    cr_expect_str_eq(jstr(cp, "phase"), "implement");
    cr_expect_str_eq(jstr(cp, "message"), want);
    cr_expect_str_eq(jstr(j, "branch"), branch);
    cr_expect_str_eq(jstr(j, "last_error"), "");
    cJSON_Delete(j);

    /* The agent ran as a session of the pipeline, phase implement, and got
     * the prompt on its terminal. */
    cJSON *ss = sessions_of(id);
    cr_assert_eq(cJSON_GetArraySize(ss), 1, "one agent session expected");
    const cJSON *s = cJSON_GetArrayItem(ss, 0);
    char sid[16];
    snprintf(sid, sizeof sid, "%s", jstr(s, "id"));
    cr_expect_str_eq(jstr(s, "phase"), "implement");
    cJSON_Delete(ss);
    struct oj_out sl = OJ(&e, "session", "list");
    cr_expect(strstr(sl.out, sid) && strstr(sl.out, id) && strstr(sl.out, "implement"), "%s",
              sl.out);
    oj_out_free(&sl);
    expect_file_has(session_log(sid), "Implement some prompt for demo", 5000);
    expect_file_has(session_log(sid), "oj done ok", 5000);

    /* The shell steps' output is in the pipeline's log. */
    char *plog = read_file(path_in(".oj/logs/pipelines/%s.log", id));
    cr_expect(plog && strstr(plog, "prepared demo") && strstr(plog, "Merge made"), "%s",
              plog ? plog : "(no pipeline log)");
    free(plog);

    /* Nothing of .oj/ (workspaces, logs, runbooks) shows in git status. */
    char porcelain[4096];
    cr_expect_eq(git(porcelain, sizeof porcelain, (char *[]){"status", "--porcelain", NULL}), 0);
    cr_expect(strstr(porcelain, ".oj") == NULL, "git status shows .oj:\n%s", porcelain);
    cr_expect_str_eq(porcelain, "", "the project is clean after the merge");

    struct oj_out l = OJ(&e, "pipeline", "list");
    cr_expect(strstr(l.out, id) && strstr(l.out, "build") && strstr(l.out, "done"), "%s", l.out);
    oj_out_free(&l);
    struct oj_out lk = OJ(&e, "lock", "status", "merge-lock");
    cr_expect_eq(lk.code, 0, "%s", lk.err);
    cr_expect(strstr(lk.out, "merge-lock: free") != NULL, "merge-lock still held:\n%s", lk.out);
    oj_out_free(&lk);
}

/* ---- 2. merge-lock ------------------------------------------------------------------ */

struct contention {
    const char *a, *b;
    char waiter[16], status_line[512], pstatus[2048];
};

/* One pipeline waits for merge-lock, held by the other, as `oj status` and
 * `oj pipeline status` both tell. */
static bool one_waits_for_the_other(void *arg)
{
    struct contention *c = arg;
    struct oj_out o = OJ(&e, "status");
    const char *line = strstr(o.out, "waiting:  pipeline ");
    bool ok = false;
    if (line) {
        const char *end = strchr(line, '\n');
        snprintf(c->status_line, sizeof c->status_line, "%.*s",
                 (int)(end ? end - line : (long)strlen(line)), line);
        snprintf(c->waiter, sizeof c->waiter, "%.7s", line + strlen("waiting:  pipeline "));
        const char *other = strcmp(c->waiter, c->a) == 0 ? c->b : c->a;
        char want[128];
        snprintf(want, sizeof want, "(phase merge) for lock merge-lock, held by %s, for ", other);
        if (strstr(c->status_line, want) && strstr(o.out + (end ? end - o.out : 0),
                                                    "waiting:  pipeline ") == NULL) {
            struct oj_out p = OJ(&e, "pipeline", "status", c->waiter);
            snprintf(c->pstatus, sizeof c->pstatus, "%s", p.out);
            ok = strstr(p.out, "state:     waiting") &&
                 strstr(p.out, "waiting:   for lock merge-lock");
            oj_out_free(&p);
        }
    }
    oj_out_free(&o);
    return ok;
}

struct both_wait {
    const char *a, *b;
    char status[2048];
};

/* Both pipelines wait for merge-lock, which the operator holds. */
static bool both_wait_for_operator(void *arg)
{
    struct both_wait *w = arg;
    struct oj_out o = OJ(&e, "status");
    snprintf(w->status, sizeof w->status, "%s", o.out);
    bool ok = true;
    const char *ids[] = {w->a, w->b};
    for (int i = 0; i < 2 && ok; i++) {
        char want[160];
        snprintf(want, sizeof want,
                 "waiting:  pipeline %s (phase merge) for lock merge-lock, held by operator, for ",
                 ids[i]);
        ok = strstr(o.out, want) != NULL;
    }
    oj_out_free(&o);
    return ok;
}

/* since_ms of the pipeline's entry in `oj status --json`'s waiting list. */
static int64_t waiting_since(const char *id)
{
    struct oj_out o = OJ(&e, "status", "--json");
    cJSON *j = json_of(&o, "status");
    oj_out_free(&o);
    int64_t since = -1;
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(j, "waiting"))
    {
        if (strcmp(jstr(w, "pipeline_id"), id) == 0)
            since = (int64_t)cJSON_GetObjectItemCaseSensitive(w, "since_ms")->valuedouble;
    }
    cJSON_Delete(j);
    return since;
}

Test(pipelines, two_pipelines_take_turns_for_merge_lock, .init = setup, .fini = teardown,
     .timeout = 60)
{
    build_runbook("sleep 2 && ");
    start_daemon();
    /* The operator holds merge-lock, so both pipelines reach their merge and
     * queue for it; then it is let go. */
    struct oj_out op = OJ(&e, "lock", "acquire", "merge-lock", "--holder", "operator");
    cr_assert_eq(op.code, 0, "%s", op.err);
    oj_out_free(&op);
    char a[16], b[16];
    run_ok(a, "build", "one", "first task");
    run_ok(b, "build", "two", "second task");
    struct both_wait bw = {a, b, ""};
    if (!wait_until(both_wait_for_operator, &bw, 20000)) {
        dump(a);
        dump(b);
        cr_assert_fail("both pipelines should wait for merge-lock; oj status:\n%s", bw.status);
    }
    cJSON *w = status_json(a, false);
    cr_expect_str_eq(pstate(w), "waiting");
    cr_expect_str_eq(jstr(w, "waiting_for_lock"), "merge-lock");
    cr_expect_str_eq(jstr(w, "lock_held"), "");
    cJSON_Delete(w);
    int64_t since_a = waiting_since(a), since_b = waiting_since(b);
    cr_assert(since_a > 0 && since_b > 0, "oj status --json lists both waiters");
    const char *first = since_a <= since_b ? a : b, *second = first == a ? b : a;

    struct oj_out rel = OJ(&e, "lock", "release", "merge-lock", "--holder", "operator");
    cr_assert_eq(rel.code, 0, "%s", rel.err);
    oj_out_free(&rel);
    /* The longest waiter has it at once (its turn comes before the next
     * request), not only at the next tick. Both may have begun waiting in
     * the same millisecond (results handled back to back): then neither
     * waited longer and either may go first. */
    struct oj_out held = OJ(&e, "lock", "status", "merge-lock", "--json");
    if (since_a == since_b && strstr(held.out, b) != NULL) {
        first = b;
        second = a;
    }
    cr_expect(strstr(held.out, first) != NULL, "merge-lock went to %s at once: %s", first,
              held.out);
    oj_out_free(&held);
    /* One merges (slowly) under the lock while the other waits for it. */
    struct contention c = {.a = a, .b = b};
    if (!wait_until(one_waits_for_the_other, &c, 10000)) {
        dump(a);
        dump(b);
        cr_assert_fail("never saw one pipeline wait for the other's merge-lock; last status "
                       "line: '%s'",
                       c.status_line);
    }
    cr_expect_str_eq(c.waiter, second, "the first to wait (%s) is the first to merge", first);

    expect_state(a, "done", 30000);
    expect_state(b, "done", 30000);
    char *wa = read_file(path_in("work/%s.md", a));
    char *wb = read_file(path_in("work/%s.md", b));
    cr_expect_str_eq(wa ? wa : "(missing)", "Implement first task for one\n");
    cr_expect_str_eq(wb ? wb : "(missing)", "Implement second task for two\n");
    free(wa);
    free(wb);
    char log[8192];
    cr_expect_eq(git(log, sizeof log, (char *[]){"log", "--format=%s", "main", NULL}), 0);
    cr_expect_eq(count_of(log, "Merge branch 'oj/build-"), 2, "two merges on main:\n%s", log);
    struct oj_out lk = OJ(&e, "lock", "status", "merge-lock");
    cr_expect(strstr(lk.out, "merge-lock: free") != NULL, "%s", lk.out);
    oj_out_free(&lk);
}

/* ---- 3. a stuck agent ---------------------------------------------------------------- */

Test(pipelines, a_stuck_agent_is_nudged_restarted_then_escalated, .init = setup,
     .fini = teardown, .timeout = 60)
{
    runbook("stuck", "{'pipelines': {'stuck': {'inputs': ['name'], 'phases': ["
                     "  {'name': 'implement', 'agent': {'command': 'oj-fake-agent --mute',"
                     "     'idle_timeout': '2s'}}],"
                     " 'notify': 'touch {project}/escalated-{id}'}}}");
    start_daemon();
    char events[PATH_MAX];
    snprintf(events, sizeof events, "%s/events.out", e.dir);
    follower = oj_spawn_bg(&e, events, NULL, (char *[]){"events", "--follow", "--json", NULL});

    char id[16], first_sid[16];
    run_ok(id, "stuck", "quiet", NULL);
    expect_agent(id, first_sid);
    expect_state(id, "escalated", 40000);

    cJSON *j = status_json(id, false);
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "recovery");
    char actions[256] = "";
    const cJSON *r;
    cJSON_ArrayForEach(r, rec)
    {
        strncat(actions, jstr(r, "action"), sizeof actions - strlen(actions) - 2);
        strcat(actions, " ");
    }
    cr_expect_str_eq(actions, "nudge restart escalate ", "recovery steps in order");
    cr_expect(strstr(jstr(cJSON_GetArrayItem(rec, 1), "detail"), "restart 1") != NULL, "%s",
              jstr(cJSON_GetArrayItem(rec, 1), "detail"));
    char second_sid[16];
    snprintf(second_sid, sizeof second_sid, "%s", jstr(j, "session_id"));
    cr_expect(second_sid[0] && strcmp(second_sid, first_sid) != 0,
              "the restart started a new agent session (%s, first %s)", second_sid, first_sid);
    cJSON_Delete(j);

    /* The first agent was ended by the restart; the second still runs. */
    cJSON *ss = sessions_of(id);
    cr_expect_eq(cJSON_GetArraySize(ss), 2);
    const cJSON *s;
    cJSON_ArrayForEach(s, ss)
    {
        if (strcmp(jstr(s, "id"), first_sid) == 0)
            cr_expect(strcmp(jstr(s, "state"), "dead") == 0 &&
                          strstr(jstr(s, "reason"), "restarted") != NULL,
                      "first agent: %s (%s)", jstr(s, "state"), jstr(s, "reason"));
        else
            cr_expect(strcmp(jstr(s, "state"), "dead") != 0, "second agent: %s",
                      jstr(s, "state"));
    }
    cJSON_Delete(ss);

    struct oj_out h = OJ(&e, "pipeline", "status", id);
    cr_expect(strstr(h.out, "state:     escalated") && strstr(h.out, "recovery steps:"), "%s",
              h.out);
    oj_out_free(&h);

    /* Seen live, and the runbook's notify ran. */
    expect_file_has(events, "\"kind\":\"pipeline.escalated\"", 10000);
    char *ev = read_file(events);
    const char *line = strstr(ev, "\"kind\":\"pipeline.escalated\"");
    const char *eol = line ? strchr(line, '\n') : NULL;
    char want[64];
    snprintf(want, sizeof want, "\"pipeline_id\":\"%s\"", id);
    const char *bol = line;
    while (bol && bol > ev && bol[-1] != '\n')
        bol--;
    cr_expect(bol && strstr(bol, want) && (eol == NULL || strstr(bol, want) < eol),
              "the escalation event names the pipeline: %s", ev);
    free(ev);
    char notified[PATH_MAX + 256];
    snprintf(notified, sizeof notified, "%s", path_in("escalated-%s", id));
    struct file_wait nf = {notified, ""};
    cr_expect(wait_until(file_has, &nf, 10000), "the notify command did not run (no %s)",
              nf.path);

    /* The operator takes over: resume gives the agent a fresh chain. */
    struct oj_out res = OJ(&e, "pipeline", "resume", id);
    cr_expect_eq(res.code, 0, "resume: %s", res.err);
    cr_expect(strstr(res.out, "resumed") != NULL, "%s", res.out);
    oj_out_free(&res);
    j = status_json(id, false);
    cr_expect_str_eq(pstate(j), "running");
    rec = cJSON_GetObjectItemCaseSensitive(j, "recovery");
    cr_expect_str_eq(jstr(cJSON_GetArrayItem(rec, cJSON_GetArraySize(rec) - 1), "action"),
                     "resume");
    cJSON_Delete(j);
    struct oj_out again = OJ(&e, "pipeline", "resume", id);
    cr_expect_eq(again.code, 5, "a running pipeline cannot be resumed: %s", again.err);
    oj_out_free(&again);
}

struct quiet_wait {
    const char *id;
    int64_t ms;
};

/* The pipeline's agent has been quiet longer than w->ms. */
static bool quiet_for(void *arg)
{
    struct quiet_wait *w = arg;
    cJSON *j = status_json(w->id, false);
    const cJSON *idle = cJSON_GetObjectItemCaseSensitive(j, "idle_ms");
    int64_t ms = cJSON_IsString(idle)   ? atoll(idle->valuestring)
                 : cJSON_IsNumber(idle) ? (int64_t)idle->valuedouble
                                        : 0;
    cJSON_Delete(j);
    return ms > w->ms;
}

static int recovery_count(const char *id)
{
    cJSON *j = status_json(id, false);
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "recovery"));
    cJSON_Delete(j);
    return n;
}

struct count_wait {
    const char *id;
    int above;
};

static bool more_recovery(void *arg)
{
    struct count_wait *w = arg;
    return recovery_count(w->id) > w->above;
}

/* The phase's timeout is not checked while a human decides; a resume whose
 * agent keeps running starts it anew rather than failing the phase at the
 * next tick because the escalation lasted longer than the timeout. The
 * resumed agent gets the whole stuck chain again, its idle timeout counted
 * from the resume. */
Test(pipelines, a_resume_after_a_long_escalation_gives_the_agent_its_timeout_again,
     .init = setup, .fini = teardown)
{
    runbook("slow", "{'pipelines':{'slow':{'inputs':[],'phases':[{'name':'think','timeout':'4s',"
                    "'agent':{'command':'oj-fake-agent --mute','idle_timeout':'1s',"
                    "'on_stuck':['nudge','escalate']}}]}}}");
    start_daemon();
    char id[16], sid[16];
    run_ok(id, "slow", NULL, NULL);
    expect_agent(id, sid);
    expect_state(id, "escalated", 20000);
    struct quiet_wait q = {id, 5000};
    cr_assert(wait_until(quiet_for, &q, 20000), "the agent never went past its 4 s timeout");
    int before = recovery_count(id);
    struct oj_out o = OJ(&e, "pipeline", "resume", id);
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "its agent keeps running") != NULL, "%s", o.out);
    oj_out_free(&o);
    /* The chain starts again (a nudge 1 s later): ticks have run meanwhile. */
    struct count_wait c = {id, before + 1};
    if (!wait_until(more_recovery, &c, 10000)) {
        dump(id);
        cr_assert_fail("no recovery step after the resume");
    }
    cJSON *j = status_json(id, false);
    cr_expect_str_neq(pstate(j), "failed", "failed at once after the resume: %s",
                      jstr(j, "last_error"));
    cr_expect_str_eq(jstr(j, "session_id"), sid, "the same agent carries on");
    cJSON_Delete(j);
    /* The agent stays quiet: the whole chain runs again, to a new escalation. */
    expect_state(id, "escalated", 15000);
    j = status_json(id, false);
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "recovery");
    int n = cJSON_GetArraySize(rec);
    cr_expect_str_eq(jstr(cJSON_GetArrayItem(rec, n - 3), "action"), "resume");
    cr_expect_str_eq(jstr(cJSON_GetArrayItem(rec, n - 2), "action"), "nudge");
    cr_expect_str_eq(jstr(cJSON_GetArrayItem(rec, n - 1), "action"), "escalate");
    cJSON_Delete(j);
}

/* ---- 4. oj done --error ---------------------------------------------------------------- */

Test(pipelines, an_agent_failing_fails_the_pipeline_or_runs_on_fail, .init = setup,
     .fini = teardown, .timeout = 60)
{
    runbook("fail", "{'pipelines': {"
                    " 'failing': {'inputs': ['name'], 'phases': ["
                    "  {'name': 'implement', 'agent': {'command': 'oj-fake-agent --fail',"
                    "     'prompt': 'do {name}'}}]},"
                    " 'rescued': {'inputs': ['name'], 'phases': ["
                    "  {'name': 'implement', 'agent': {'command': 'oj-fake-agent --fail',"
                    "     'prompt': 'do {name}'}, 'on_fail': 'report', 'next': 'done'},"
                    "  {'name': 'report', 'run': 'echo reported {id} > {project}/report-{id}.txt'}"
                    " ]}}}");
    start_daemon();
    char f[16], r[16];
    run_ok(f, "failing", "x", NULL);
    run_ok(r, "rescued", "y", NULL);

    expect_state(f, "failed", 20000);
    cJSON *j = status_json(f, false);
    cr_expect(strstr(jstr(j, "last_error"), "the fake agent was told to fail") != NULL, "%s",
              jstr(j, "last_error"));
    cr_expect(strstr(jstr(j, "last_error"), "implement") != NULL, "%s", jstr(j, "last_error"));
    cr_expect_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(j, "pipeline"), "phase"), "implement");
    cJSON_Delete(j);
    struct oj_out h = OJ(&e, "pipeline", "status", f);
    cr_expect(strstr(h.out, "state:     failed") &&
                  strstr(h.out, "error:     phase implement failed: the fake agent was told to fail"),
              "%s", h.out);
    oj_out_free(&h);
    char sid[16];
    cJSON *ss = sessions_of(f);
    snprintf(sid, sizeof sid, "%s", jstr(cJSON_GetArrayItem(ss, 0), "id"));
    cJSON_Delete(ss);
    expect_file_has(session_log(sid), "oj done --error ok", 5000);

    expect_state(r, "done", 20000);
    j = status_json(r, false);
    cr_expect_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(j, "pipeline"), "phase"), "report");
    cr_expect(strstr(jstr(j, "last_error"), "the fake agent was told to fail") != NULL,
              "the failure that sent it to report stays readable: '%s'", jstr(j, "last_error"));
    cJSON_Delete(j);
    char want[64];
    snprintf(want, sizeof want, "reported %s\n", r);
    char *rep = read_file(path_in("report-%s.txt", r));
    cr_expect_str_eq(rep ? rep : "(no report file)", want);
    free(rep);
}

/* ---- 5. workspaces ----------------------------------------------------------------------- */

static const cJSON *workspace_of(cJSON *list, const char *id)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(list, "workspaces"))
    {
        if (strcmp(jstr(w, "pipeline_id"), id) == 0)
            return w;
    }
    return NULL;
}

static cJSON *workspaces(void)
{
    struct oj_out o = OJ(&e, "workspace", "list", "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = json_of(&o, "workspace list");
    oj_out_free(&o);
    return j;
}

Test(pipelines, stale_workspaces_are_cleaned_up_active_ones_never, .init = setup,
     .fini = teardown, .timeout = 60)
{
    runbook("ws", "{'pipelines': {"
                  " 'quick': {'inputs': ['name'], 'phases': [{'name': 'only', 'run': 'echo hi {name}'}]},"
                  " 'hang': {'inputs': ['name'], 'phases': [{'name': 'wait', 'agent': {"
                  "    'command': 'oj-fake-agent --mute', 'idle_timeout': '10m'}}]}}}");
    start_daemon();
    char q[16], h[16], sid[16];
    run_ok(q, "quick", "a", NULL);
    run_ok(h, "hang", "b", NULL);
    expect_state(q, "done", 20000);
    expect_agent(h, sid);

    char qname[64], qbranch[64], qpath[PATH_MAX], hpath[PATH_MAX];
    snprintf(qname, sizeof qname, "quick-%s", q);
    snprintf(qbranch, sizeof qbranch, "oj/quick-%s", q);
    snprintf(qpath, sizeof qpath, "%s/.oj/workspaces/quick-%s", e.dir, q);
    snprintf(hpath, sizeof hpath, "%s/.oj/workspaces/hang-%s", e.dir, h);
    cr_assert(exists(qpath) && exists(hpath), "workspaces %s and %s exist", qpath, hpath);

    cJSON *wl = workspaces();
    const cJSON *wq = workspace_of(wl, q), *wh = workspace_of(wl, h);
    cr_assert_not_null(wq, "quick's workspace is listed");
    cr_assert_not_null(wh, "hang's workspace is listed");
    cr_expect_str_eq(jstr(wq, "name"), qname);
    cr_expect_str_eq(jstr(wq, "branch"), qbranch);
    cr_expect_str_eq(jstr(wq, "state"), "done");
    cr_expect_str_eq(jstr(wq, "path"), qpath);
    cr_expect_str_eq(jstr(wh, "state"), "running");
    cJSON_Delete(wl);
    struct oj_out hl = OJ(&e, "workspace", "list");
    cr_expect(strstr(hl.out, qname) && strstr(hl.out, qbranch) && strstr(hl.out, qpath), "%s",
              hl.out);
    oj_out_free(&hl);

    /* --dry-run lists, removes nothing */
    struct oj_out dry = OJ(&e, "workspace", "cleanup", "--stale", "--dry-run");
    cr_expect_eq(dry.code, 0, "%s", dry.err);
    cr_expect(strstr(dry.out, "would remove 1 stale workspace(s)") && strstr(dry.out, qname),
              "%s", dry.out);
    cr_expect(strstr(dry.out, hpath) == NULL, "an active workspace is never stale:\n%s",
              dry.out);
    oj_out_free(&dry);
    cr_expect(exists(qpath), "--dry-run removed %s", qpath);

    struct oj_out clean = OJ(&e, "workspace", "cleanup", "--stale");
    cr_expect_eq(clean.code, 0, "%s", clean.err);
    cr_expect(strstr(clean.out, "removed 1 stale workspace(s)") && strstr(clean.out, qname),
              "%s", clean.out);
    oj_out_free(&clean);
    cr_expect(!exists(qpath), "%s is still there", qpath);
    cr_expect(exists(hpath), "the active pipeline's workspace was removed");
    char wt[8192];
    cr_expect_eq(git(wt, sizeof wt, (char *[]){"worktree", "list", NULL}), 0);
    cr_expect(strstr(wt, qpath) == NULL, "git still lists %s:\n%s", qpath, wt);
    cr_expect(strstr(wt, hpath) != NULL, "git lost %s:\n%s", hpath, wt);

    wl = workspaces();
    cr_expect_null(workspace_of(wl, q), "the removed workspace is no longer listed");
    cr_expect_not_null(workspace_of(wl, h));
    cJSON_Delete(wl);
    struct oj_out again = OJ(&e, "workspace", "cleanup", "--stale");
    cr_expect_eq(again.code, 0);
    cr_expect(strstr(again.out, "no stale workspaces") != NULL, "%s", again.out);
    oj_out_free(&again);
    cJSON *j = status_json(h, false);
    cr_expect_str_eq(pstate(j), "running", "cleanup never disturbs an active pipeline");
    cJSON_Delete(j);
}

/* ---- 6. the daemon killed mid-pipeline ---------------------------------------------------- */

Test(pipelines, a_crash_during_an_agent_phase_re_adopts_the_agent, .init = setup,
     .fini = teardown, .timeout = 60)
{
    runbook("talk", "{'pipelines': {'talk': {'inputs': ['name'], 'phases': ["
                    "  {'name': 'chat', 'agent': {'command': 'oj-fake-agent',"
                    "     'prompt': 'hello {name}', 'idle_timeout': '10m'}},"
                    "  {'name': 'after', 'run': 'echo after {name} >> {project}/after.txt'}]}}}");
    start_daemon();
    char id[16], sid[16];
    run_ok(id, "talk", "bob", NULL);
    expect_agent(id, sid);
    expect_file_has(session_log(sid), "got: hello bob", 10000);

    cr_assert(env_crash_daemon(&e), "the daemon did not die");
    start_daemon();
    cJSON *j = status_json(id, false);
    cr_expect_str_eq(pstate(j), "running");
    cr_expect_str_eq(jstr(j, "session_id"), sid, "the same agent after the restart");
    cJSON_Delete(j);
    struct oj_out show = OJ(&e, "session", "show", sid);
    cr_expect(strstr(show.out, "running") != NULL, "the agent runs on: %s", show.out);
    oj_out_free(&show);

    struct oj_out s = OJ(&e, "session", "send", sid, "done");
    cr_assert_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);
    expect_state(id, "done", 20000);
    expect_file_has(session_log(sid), "oj done ok", 5000);
    char *after = read_file(path_in("after.txt%s", ""));
    cr_expect_str_eq(after ? after : "(missing)", "after bob\n");
    free(after);

    /* The agent's `oj done` again (as after a crash that ate the answer): the
     * first answer, not an error; another session's is refused. */
    setenv("OTTER_TASK", id, 1);
    setenv("OTTER_PHASE", "chat", 1);
    setenv("OJ_SESSION_ID", sid, 1);
    struct oj_out again = OJ(&e, "done");
    cr_expect_eq(again.code, 0, "%s", again.err);
    cr_expect(strstr(again.out, "phase chat done") && strstr(again.out, "already recorded"), "%s",
              again.out);
    oj_out_free(&again);
    setenv("OJ_SESSION_ID", "s000000", 1);
    again = OJ(&e, "done");
    cr_expect_eq(again.code, 5, "not that pipeline's agent: %s", again.err);
    oj_out_free(&again);
}

Test(pipelines, a_crash_during_a_shell_step_reruns_it_or_fails_it, .init = setup,
     .fini = teardown, .timeout = 60)
{
    runbook("slow", "{'pipelines': {"
                    " 'slow': {'inputs': ['name'], 'phases': [{'name': 'step',"
                    "   'run': 'echo start >> {project}/starts-{id}.txt; sleep 3; "
                    "echo ran >> {project}/runs-{id}.txt'}]},"
                    " 'fragile': {'inputs': ['name'], 'phases': [{'name': 'step',"
                    "   'after_crash': 'fail',"
                    "   'run': 'echo start >> {project}/starts-{id}.txt; sleep 3; "
                    "echo ran >> {project}/runs-{id}.txt'}]}}}");
    start_daemon();
    char rr[16], ff[16];
    run_ok(rr, "slow", "a", NULL);
    run_ok(ff, "fragile", "b", NULL);
    expect_file_has(path_in("starts-%s.txt", rr), "start", 10000);
    expect_file_has(path_in("starts-%s.txt", ff), "start", 10000);

    cr_assert(env_crash_daemon(&e), "the daemon did not die");
    start_daemon();

    expect_state(rr, "done", 30000);
    char *starts = read_file(path_in("starts-%s.txt", rr));
    cr_expect_eq(count_of(starts, "start"), 2, "the cut-off step ran again:\n%s", starts);
    free(starts);
    /* What was left of the cut-off run was killed before the rerun: the
     * step completed once, not twice over each other. */
    char *runs = read_file(path_in("runs-%s.txt", rr));
    cr_expect_eq(count_of(runs, "ran"), 1, "the step completed exactly once:\n%s",
                 runs ? runs : "(no runs file)");
    free(runs);
    cJSON *j = status_json(rr, false);
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "recovery");
    cr_expect(cJSON_GetArraySize(rec) == 1 &&
                  strcmp(jstr(cJSON_GetArrayItem(rec, 0), "action"), "rerun") == 0,
              "one recovery step, a rerun, is recorded (%d steps, first %s)",
              cJSON_GetArraySize(rec), jstr(cJSON_GetArrayItem(rec, 0), "action"));
    cJSON_Delete(j);

    expect_state(ff, "failed", 20000);
    j = status_json(ff, false);
    cr_expect(strstr(jstr(j, "last_error"), "cut off by a daemon crash") != NULL, "%s",
              jstr(j, "last_error"));
    cJSON_Delete(j);
    starts = read_file(path_in("starts-%s.txt", ff));
    cr_expect_eq(count_of(starts, "start"), 1, "after_crash fail: not run again:\n%s", starts);
    free(starts);
    cr_expect(!exists(path_in("runs-%s.txt", ff)),
              "the cut-off step of the failed pipeline was left running to its end");
    char *dlog = read_file(path_in(".oj/logs/daemon.log%s", ""));
    const char *ids[] = {rr, ff};
    for (int i = 0; i < 2; i++) {
        char want[128];
        snprintf(want, sizeof want, "pipeline %s: killed the shell step's processes",
                 ids[i]);
        cr_expect(dlog && strstr(dlog, want), "no '%s' in the daemon log:\n%s", want,
                  tail_of(dlog, 3000));
    }
    free(dlog);
}

/* ---- 7. a graceful stop ---------------------------------------------------------------------- */

Test(pipelines, a_graceful_stop_finishes_shell_steps_and_hands_locks_back, .init = setup,
     .fini = teardown, .timeout = 90)
{
    runbook("stop", "{'pipelines': {"
                    " 'slowmerge': {'inputs': ['name'], 'phases': [{'name': 'merge',"
                    "   'lock': 'merge-lock', 'run': 'echo begin >> {project}/m-{id}.txt; "
                    "sleep 3; echo end >> {project}/m-{id}.txt'}]},"
                    " 'review': {'inputs': ['name'], 'phases': [{'name': 'review',"
                    "   'lock': 'merge-lock', 'agent': {'command': 'oj-fake-agent',"
                    "   'prompt': 'review {name}', 'idle_timeout': '10m'}}]}}}");
    start_daemon();

    /* A shell step under merge-lock: the stop waits for it. */
    char m[16];
    run_ok(m, "slowmerge", "a", NULL);
    char mfile[PATH_MAX + 256];
    snprintf(mfile, sizeof mfile, "%s", path_in("m-%s.txt", m));
    expect_file_has(mfile, "begin", 10000);
    struct oj_out lk = OJ(&e, "lock", "status", "merge-lock");
    char holder[64];
    snprintf(holder, sizeof holder, "holder:     %s", m);
    cr_expect(strstr(lk.out, holder) != NULL, "%s", lk.out);
    oj_out_free(&lk);
    char stop_out[PATH_MAX];
    snprintf(stop_out, sizeof stop_out, "%s/stop.out", e.dir);
    pid_t stopper = oj_spawn_bg(&e, stop_out, NULL, (char *[]){"daemon", "stop", NULL});
    cr_assert(wait_until(daemon_stopping, NULL, 10000), "oj status never said stopping");
    /* While it stops, no new pipeline starts. */
    struct oj_out refused = OJ(&e, "run", "slowmerge", "b");
    cr_expect_eq(refused.code, 8, "oj run while stopping: exit %d, %s", refused.code,
                 refused.err);
    cr_expect(strstr(refused.err, "stopping") != NULL, "%s", refused.err);
    cr_expect_str_eq(refused.out, "");
    oj_out_free(&refused);
    cr_assert_eq(child_wait_exit(stopper, 20000), 0, "oj daemon stop failed");
    char *mt = read_file(mfile);
    cr_expect(mt && strcmp(mt, "begin\nend\n") == 0, "the step finished before the exit: %s",
              mt ? mt : "(missing)");
    free(mt);
    char *dlog = read_file(path_in(".oj/logs/daemon.log%s", ""));
    cr_expect(dlog && strstr(dlog, "no shell steps running"), "%s", tail_of(dlog, 2000));
    free(dlog);

    start_daemon();
    expect_state(m, "done", 10000);
    lk = OJ(&e, "lock", "status", "merge-lock");
    cr_expect(strstr(lk.out, "merge-lock: free") != NULL, "%s", lk.out);
    oj_out_free(&lk);

    /* An agent phase under merge-lock: released at the stop, taken back at
     * the start, and the agent carries on. */
    char r[16], sid[16];
    run_ok(r, "review", "b", NULL);
    expect_agent(r, sid);
    expect_file_has(session_log(sid), "got: review b", 10000);
    lk = OJ(&e, "lock", "status", "merge-lock");
    snprintf(holder, sizeof holder, "holder:     %s", r);
    cr_expect(strstr(lk.out, holder) != NULL, "%s", lk.out);
    oj_out_free(&lk);
    struct oj_out stop = OJ(&e, "daemon", "stop");
    cr_assert_eq(stop.code, 0, "%s", stop.err);
    oj_out_free(&stop);
    struct oj_state *st = newest_snapshot();
    cr_expect_null(oj_state_get(st, "lock", "merge-lock"), "merge-lock was not released at stop");
    const cJSON *pv = oj_state_get(st, "pipeline", r);
    cr_assert_not_null(pv);
    cr_expect_str_eq(jstr(pv, "relock"), "merge-lock");
    oj_state_free(st);

    start_daemon();
    struct lock_wait lw = {"merge-lock", r, ""};
    cr_expect(wait_until(lock_held_by, &lw, 10000),
              "the pipeline did not take merge-lock back:\n%s", lw.seen);
    cJSON *j = status_json(r, false);
    cr_expect_str_eq(pstate(j), "running");
    cr_expect_str_eq(jstr(j, "lock_held"), "merge-lock");
    cr_expect_str_eq(jstr(j, "session_id"), sid, "the agent kept running through the stop");
    cJSON_Delete(j);
    struct oj_out s = OJ(&e, "session", "send", sid, "done");
    cr_expect_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);
    expect_state(r, "done", 15000);
    lk = OJ(&e, "lock", "status", "merge-lock");
    cr_expect(strstr(lk.out, "merge-lock: free") != NULL, "%s", lk.out);
    oj_out_free(&lk);
}

/* ---- 8. runbook and input errors --------------------------------------------------------------- */

/* A refused `oj run`: its exit code, nothing on stdout, one line on stderr
 * holding each of the texts given (NULL: none). Frees o. */
static void expect_run_error(struct oj_out *o, int code, const char *a, const char *b,
                             const char *c)
{
    cr_expect_eq(o->code, code, "exit %d, want %d: %s", o->code, code, o->err);
    cr_expect_eq(count_of(o->err, "\n"), 1, "one line: '%s'", o->err);
    cr_expect_str_eq(o->out, "", "nothing on stdout");
    const char *want[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (want[i])
            cr_expect(strstr(o->err, want[i]) != NULL, "'%s' not in: %s", want[i], o->err);
    oj_out_free(o);
}

Test(pipelines, bad_runbooks_and_bad_inputs_are_refused_with_where_and_why, .init = setup,
     .fini = teardown, .timeout = 60)
{
    start_daemon();
    struct oj_out o;

    runbook("build", "{'pipelines': {'build': {'inputs': ['name', 'prompt'], 'phases': ["
                     "  {'name': 'implement', 'agent': {'command': 'oj-fake-agent --work',"
                     "     'idle_timeout': 'soon'}}]}}}");
    o = OJ(&e, "run", "build", "a", "b");
    expect_run_error(&o, 2, "build.json", "pipelines.build.phases[0].agent.idle_timeout",
                     "not a duration");

    /* A runbook from when a bare number meant seconds: refused, with the fix. */
    runbook("build", "{'pipelines': {'build': {'inputs': ['name', 'prompt'], 'phases': ["
                     "  {'name': 'implement', 'agent': {'command': 'oj-fake-agent --work',"
                     "     'idle_timeout': '90'}}]}}}");
    o = OJ(&e, "run", "build", "a", "b");
    expect_run_error(&o, 2, "pipelines.build.phases[0].agent.idle_timeout",
                     "\"90\" needs a unit", "\"90s\", \"90m\" or \"90h\"");

    runbook("build", "{'pipelines': {'build': {'inputs': ['name', 'prompt'], 'phases': ["
                     "  {'name': 'say', 'run': 'echo {nmae}'}]}}}");
    o = OJ(&e, "run", "build", "a", "b");
    expect_run_error(&o, 2, "build.json", "phases[0].run", "unknown placeholder {nmae}");

    runbook("build", "{'pipelines': {'build': {'inputs': ['name', 'prompt'], 'phases': [\n"
                     "  {'name': 'say', 'run': 'echo {name}'},,]}}}");
    o = OJ(&e, "run", "build", "a", "b");
    expect_run_error(&o, 2, "build.json", "line 2", "not valid JSON");

    o = OJ(&e, "pipeline", "list");
    cr_expect(strstr(o.out, "no pipelines") != NULL, "a refused run starts nothing: %s", o.out);
    oj_out_free(&o);

    runbook("build", "{'pipelines': {'build': {'inputs': ['name', 'prompt'], 'phases': ["
                     "  {'name': 'say', 'run': 'echo {name} / {prompt}'}]}}}");
    o = OJ(&e, "run", "nosuch", "a");
    expect_run_error(&o, 4, "'nosuch'", "defined: build", NULL);
    o = OJ(&e, "run", "build", "onlyone");
    expect_run_error(&o, 2, "input 'prompt' is missing", NULL, NULL);
    o = OJ(&e, "run", "build", "a", "b", "c");
    expect_run_error(&o, 2, "takes 2 inputs", NULL, NULL);
    o = OJ(&e, "run", "build", "--name", "x", "--nmae", "y");
    expect_run_error(&o, 2, "no input 'nmae'", NULL, NULL);
    o = OJ(&e, "run", "build", "x", "--name", "y");
    expect_run_error(&o, 2, "'name' is given twice", NULL, NULL);
    o = OJ(&e, "pipeline", "list");
    cr_expect(strstr(o.out, "no pipelines") != NULL, "a refused run starts nothing: %s", o.out);
    oj_out_free(&o);

    /* Inputs by name, and mixed. */
    char id[16], id2[16];
    o = OJ(&e, "run", "build", "--name", "x", "--prompt", "y y");
    take_id(&o, id);
    oj_out_free(&o);
    o = OJ(&e, "run", "build", "first", "--prompt", "second");
    take_id(&o, id2);
    oj_out_free(&o);
    expect_state(id, "done", 15000);
    expect_state(id2, "done", 15000);
    cJSON *j = status_json(id, true);
    const cJSON *in;
    char got[256] = "";
    cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(j, "inputs"))
    {
        char one[96];
        snprintf(one, sizeof one, "%s=%s;", jstr(in, "name"), jstr(in, "value"));
        strncat(got, one, sizeof got - strlen(got) - 1);
    }
    cr_expect(strstr(got, "name=x;") && strstr(got, "prompt=y y;"), "%s", got);
    cJSON_Delete(j);
    char *plog = read_file(path_in(".oj/logs/pipelines/%s.log", id));
    cr_expect(plog && strstr(plog, "\nx / y y\n"), "%s", plog ? plog : "(no log)");
    free(plog);
    plog = read_file(path_in(".oj/logs/pipelines/%s.log", id2));
    cr_expect(plog && strstr(plog, "\nfirst / second\n"), "%s", plog ? plog : "(no log)");
    free(plog);
}

/* ---- making the workspace ---------------------------------------------------------------- */

/* A post-checkout hook that holds `git worktree add` until the test creates
 * the file `go` in the project: a checkout as slow as the test wants. */
static void slow_checkout(void)
{
    char *hook = path_in(".git/hooks/post-checkout%s", "");
    FILE *f = fopen(hook, "w");
    cr_assert_not_null(f);
    /* (it gives up when the test's directory is gone: nothing outlives a test) */
    fprintf(f, "#!/bin/sh\necho $$ >> '%s/hook-started'\n"
               "while [ ! -e '%s/go' ] && [ -d '%s' ]; do sleep 0.05; done\n",
            e.dir, e.dir, e.dir);
    fclose(f);
    cr_assert_eq(chmod(hook, 0755), 0);
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fclose(f);
}

static bool process_gone(void *arg)
{
    return kill(*(int *)arg, 0) != 0;
}

static bool step_is(const char *id, const char *step)
{
    cJSON *j = status_json(id, false);
    bool yes = j && strcmp(jstr(j, "step"), step) == 0;
    cJSON_Delete(j);
    return yes;
}

static const char *quick_runbook = "{'pipelines':{'quick':{'inputs':[],'phases':[{'name':'step',"
                                   "'run':'echo made > {project}/ran-{id}.txt'}]}}}";

/* A daemon and a pipeline whose `git worktree add` is held by the hook;
 * returns the hook's pid. */
static int start_held_checkout(char id[16])
{
    slow_checkout();
    start_daemon();
    runbook("quick", quick_runbook);
    run_ok(id, "quick", NULL, NULL);
    expect_file_has(path_in("hook-started%s", ""), "\n", 10000); /* its pid written */
    char *pids = read_file(path_in("hook-started%s", ""));
    int pid = pids ? atoi(pids) : 0;
    free(pids);
    cr_assert(pid > 1, "no pid from the hook");
    return pid;
}

/* The worktree is made off the engine thread: while git checks out (held
 * here by a hook that never ends by itself) the daemon answers, the pipeline
 * shows step workspace, and its first phase starts once git is done. */
Test(pipelines, a_slow_checkout_does_not_hold_up_the_daemon, .init = setup, .fini = teardown)
{
    char id[16];
    start_held_checkout(id);
    /* git is stuck in its hook; the daemon still answers at once */
    struct oj_out o = OJ(&e, "status");
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_expect(step_is(id, "workspace"), "the pipeline waits for its worktree");
    o = OJ(&e, "pipeline", "status", id);
    cr_expect(strstr(o.out, "waiting:   for git to make its worktree") != NULL, "%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "restart", id);
    cr_expect_eq(o.code, 5, "nothing to restart while the worktree is made: %s", o.err);
    oj_out_free(&o);
    touch(path_in("go%s", ""));
    expect_state(id, "done", 15000);
    cr_expect(exists(path_in("ran-%s.txt", id)), "the first phase ran in the new worktree");
}

/* A cleanup while a long checkout holds the worktree lock does not wait for
 * it workspace by workspace: it names what it left (exit 1), and a later
 * cleanup removes it. */
Test(pipelines, a_cleanup_during_a_long_checkout_leaves_and_names, .init = setup,
     .fini = teardown)
{
    slow_checkout();
    touch(path_in("go%s", ""));
    start_daemon();
    runbook("quick", quick_runbook);
    char done_one[16], slow[16];
    run_ok(done_one, "quick", NULL, NULL);
    expect_state(done_one, "done", 10000);
    cr_assert_eq(unlink(path_in("go%s", "")), 0);
    cr_assert_eq(unlink(path_in("hook-started%s", "")), 0);
    run_ok(slow, "quick", NULL, NULL);
    expect_file_has(path_in("hook-started%s", ""), "\n", 10000);
    struct oj_out o = OJ(&e, "workspace", "cleanup", "--stale");
    cr_expect_eq(o.code, 1, "%s%s", o.out, o.err);
    cr_expect(strstr(o.err, done_one) && strstr(o.err, "git is busy"), "%s", o.err);
    oj_out_free(&o);
    touch(path_in("go%s", ""));
    expect_state(slow, "done", 15000);
    o = OJ(&e, "workspace", "cleanup", "--stale");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, done_one) && strstr(o.out, slow), "both removed now: %s", o.out);
    oj_out_free(&o);
}

/* A crash while git makes the worktree: the next start kills what is left of
 * that git and carries on with the worktree (kept when git had made it). */
Test(pipelines, a_crash_while_the_worktree_is_made_is_carried_on_from, .init = setup,
     .fini = teardown)
{
    char id[16];
    int hook_pid = start_held_checkout(id);
    cr_assert(env_crash_daemon(&e), "the daemon did not die");
    cr_expect_eq(kill(hook_pid, 0), 0, "git's hook outlives the daemon (its own process group)");
    start_daemon();
    expect_state(id, "done", 15000);
    cr_expect(exists(path_in("ran-%s.txt", id)));
    cr_expect(wait_until(process_gone, &hook_pid, 5000),
              "the cut-off git was killed, not left waiting");
    cr_expect(!exists(path_in("go%s", "")));
}

/* Cancelled while git works: git is killed, the pipeline is cancelled, and
 * its half-made workspace is stale for cleanup. */
Test(pipelines, a_cancel_while_the_worktree_is_made_kills_git, .init = setup, .fini = teardown)
{
    char id[16];
    int hook_pid = start_held_checkout(id);
    struct oj_out o = OJ(&e, "pipeline", "cancel", id);
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    expect_state(id, "cancelled", 5000);
    cr_expect(wait_until(process_gone, &hook_pid, 5000),
              "git (its hook %d) was killed", hook_pid);
    o = OJ(&e, "workspace", "cleanup", "--stale");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, id) != NULL, "the cancelled pipeline's workspace is stale: %s",
              o.out);
    oj_out_free(&o);
    cr_expect(!exists(path_in("ran-%s.txt", id)), "no phase ran");
}

/* A stale workspace git refuses to remove is named with git's reason (exit
 * 1), and the others are removed all the same. */
Test(pipelines, cleanup_names_what_it_could_not_remove, .init = setup, .fini = teardown)
{
    start_daemon();
    runbook("quick", quick_runbook);
    char broken[16], fine[16];
    run_ok(broken, "quick", NULL, NULL);
    run_ok(fine, "quick", NULL, NULL);
    expect_state(broken, "done", 10000);
    expect_state(fine, "done", 10000);
    /* (and "p", every pipeline's prefix, is ambiguous: the candidates are listed) */
    struct oj_out amb = OJ(&e, "pipeline", "status", "p");
    cr_expect_eq(amb.code, 2, "%s", amb.err);
    cr_expect(strstr(amb.err, "matches 2 pipelines") && strstr(amb.err, broken) &&
                  strstr(amb.err, fine),
              "%s", amb.err);
    oj_out_free(&amb);
    cJSON *j = status_json(broken, false);
    char dotgit[PATH_MAX + 16];
    snprintf(dotgit, sizeof dotgit, "%s/.git", jstr(j, "workspace"));
    cJSON_Delete(j);
    FILE *f = fopen(dotgit, "w");
    cr_assert_not_null(f);
    fputs("gitdir: /nonexistent\n", f);
    fclose(f);
    struct oj_out o = OJ(&e, "workspace", "cleanup", "--stale");
    cr_expect_eq(o.code, 1, "a workspace was left: exit 1 (%d)", o.code);
    cr_expect(strstr(o.err, "could not remove quick-") && strstr(o.err, broken) &&
                  strstr(o.err, "validation failed"),
              "names it and git's reason: %s", o.err);
    cr_expect(strstr(o.out, fine) != NULL, "the other was removed: %s", o.out);
    oj_out_free(&o);
}

/* ---- 9. hostile input ---------------------------------------------------------------------------- */

Test(pipelines, hostile_input_values_are_only_text, .init = setup, .fini = teardown,
     .timeout = 60)
{
    runbook("hostile", "{'pipelines': {'hostile': {'inputs': ['name', 'prompt', 'note'], "
                       "'phases': ["
                       "  {'name': 'shell', 'run': 'echo name={name} prompt={prompt} note={note}'},"
                       "  {'name': 'implement', 'agent': {"
                       "     'command': 'oj-fake-agent --work {name} {prompt} {note}',"
                       "     'prompt': '{prompt}'}}]}}}");
    start_daemon();
    const char *name = "x\"; touch HACKED; \"";
    const char *prompt = "$(touch HACKED2)";
    const char *note = "`touch HACKED3`'; touch HACKED4; '";
    struct oj_out o = OJ(&e, "run", "hostile", name, prompt, note);
    char id[16];
    take_id(&o, id);
    oj_out_free(&o);
    expect_state(id, "done", 30000);

    char found[4096];
    char *find[] = {"find", e.dir, "-name", "HACKED*", NULL};
    cr_expect_eq(run_prog("/", 10000, found, sizeof found, find), 0);
    cr_expect_str_eq(found, "", "an input ran as a command:\n%s", found);

    char want[512];
    snprintf(want, sizeof want, "name=%s prompt=%s note=%s\n", name, prompt, note);
    char *plog = read_file(path_in(".oj/logs/pipelines/%s.log", id));
    cr_expect(plog && strstr(plog, want), "the echo shows the literal text\n%s\nin:\n%s", want,
              plog ? plog : "(no log)");
    free(plog);

    /* The agent got the prompt as written and committed it in its workspace. */
    cJSON *j = status_json(id, false);
    char work[PATH_MAX];
    snprintf(work, sizeof work, "%s/work/%s.md", jstr(j, "workspace"), id);
    cJSON_Delete(j);
    char *w = read_file(work);
    snprintf(want, sizeof want, "%s\n", prompt);
    cr_expect_str_eq(w ? w : "(missing)", want);
    free(w);
}

/* The operator's levers on a running pipeline: nudge (the agent reads the
 * message), restart (a new session for the same phase), cancel (the agent is
 * ended, the lock let go), and the list filters. */
Test(pipelines, the_operator_nudges_restarts_and_cancels, .init = setup, .fini = teardown)
{
    start_daemon();
    runbook("ops", "{'pipelines':{'ops':{'inputs':[],'phases':["
                   "{'name':'talk','lock':'merge-lock','agent':{'command':'oj-fake-agent',"
                   "'prompt':'hello agent','idle_timeout':'10m'}}]}}}");
    char id[16];
    run_ok(id, "ops", NULL, NULL);
    char first[16];
    if (!env_wait_pipeline_agent(&e, id, first, 10000)) {
        dump(id);
        cr_assert_fail("the agent never started");
    }
    expect_file_has(path_in(".oj/logs/sessions/%s.log", first), "got: hello agent", 10000);

    struct oj_out o = OJ(&e, "pipeline", "nudge", id, "please report progress");
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "nudged session") != NULL, "%s", o.out);
    oj_out_free(&o);
    expect_file_has(path_in(".oj/logs/sessions/%s.log", first), "got: please report progress",
                    10000);

    o = OJ(&e, "pipeline", "restart", id);
    cr_expect_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "restarted phase talk") != NULL, "%s", o.out);
    oj_out_free(&o);
    char second[16];
    if (!env_wait_pipeline_agent(&e, id, second, 10000)) {
        dump(id);
        cr_assert_fail("the restarted phase never started its agent");
    }
    cr_expect_str_neq(second, first, "a restart starts a new session");
    expect_file_has(path_in(".oj/logs/sessions/%s.log", second), "got: hello agent", 10000);
    cJSON *st = status_json(id, false);
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(st, "recovery");
    int n = cJSON_GetArraySize(steps);
    cr_expect(n >= 2, "nudge and restart are recorded");
    cr_expect_str_eq(jstr(cJSON_GetArrayItem(steps, n - 2), "action"), "nudge");
    cr_expect_str_eq(jstr(cJSON_GetArrayItem(steps, n - 1), "action"), "restart");
    cr_expect(strstr(jstr(cJSON_GetArrayItem(steps, n - 1), "detail"), "operator") != NULL);
    cr_expect_str_eq(jstr(st, "lock_held"), "merge-lock");
    cJSON_Delete(st);

    o = OJ(&e, "pipeline", "list", "--active");
    cr_expect(strstr(o.out, id) != NULL, "%s", o.out);
    oj_out_free(&o);

    o = OJ(&e, "pipeline", "cancel", id);
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    expect_state(id, "cancelled", 5000);
    o = OJ(&e, "lock", "status", "merge-lock");
    cr_expect(strstr(o.out, "free") || strstr(o.out, "not held"), "cancel lets the lock go: %s",
              o.out);
    oj_out_free(&o);
    cJSON *mine = sessions_of(id);
    const cJSON *s;
    cJSON_ArrayForEach(s, mine) cr_expect_str_eq(jstr(s, "state"), "dead", "%s", jstr(s, "id"));
    cJSON_Delete(mine);

    o = OJ(&e, "pipeline", "list", "--active");
    cr_expect(strstr(o.out, id) == NULL, "a cancelled pipeline is not active: %s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "nudge", id);
    cr_expect_eq(o.code, 5, "nothing to nudge in a cancelled pipeline: %s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "cancel", id);
    cr_expect_eq(o.code, 5, "%s", o.err);
    oj_out_free(&o);

    /* Archived, it is listed only with --all. */
    o = OJ(&e, "maintenance", "archive", "--older-than", "0s");
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "list");
    cr_expect(strstr(o.out, id) == NULL, "%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "list", "--all");
    cr_expect(strstr(o.out, id) && strstr(o.out, "archived"), "%s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "status", "pzzzzzz");
    cr_expect_eq(o.code, 4, "%s", o.err);
    oj_out_free(&o);
}

/* Cancel in the middle of a shell step under a lock: the step's processes
 * die with it, so nothing of it runs after the lock is gone. */
Test(pipelines, cancel_kills_a_running_shell_step_before_the_lock_goes, .init = setup,
     .fini = teardown)
{
    start_daemon();
    runbook("slow", "{'pipelines':{'slow':{'inputs':[],'phases':[{'name':'merge',"
                    "'lock':'merge-lock','run':'echo started >> {project}/slow-{id}.txt; "
                    "sleep 3; echo finished >> {project}/slow-{id}.txt'}]}}}");
    char id[16];
    run_ok(id, "slow", NULL, NULL);
    expect_file_has(path_in("slow-%s.txt", id), "started", 10000);
    struct oj_out o = OJ(&e, "pipeline", "cancel", id);
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    expect_state(id, "cancelled", 5000);
    o = OJ(&e, "lock", "status", "merge-lock");
    cr_expect(strstr(o.out, "held") == NULL || strstr(o.out, "not held"), "%s", o.out);
    oj_out_free(&o);
    /* The step would have finished 3 s after it started; it never does. */
    struct file_wait w = {path_in("slow-%s.txt", id), "finished"};
    cr_expect_not(wait_until(file_has, &w, 4000), "the cancelled step ran on");
}

/* Shell steps find oj (and the bundled fake agent) on PATH like agents do. */
Test(pipelines, shell_steps_find_oj_on_path, .init = setup, .fini = teardown)
{
    start_daemon();
    runbook("which", "{'pipelines':{'which':{'inputs':[],'phases':[{'name':'look',"
                     "'run':'command -v oj > {project}/which.txt && oj --version >> "
                     "{project}/which.txt'}]}}}");
    char id[16];
    run_ok(id, "which", NULL, NULL);
    expect_state(id, "done", 10000);
    char *text = read_file(path_in("which.txt%s", ""));
    cr_assert_not_null(text);
    cr_expect(strncmp(text, e.oj, strlen(e.oj)) == 0, "the daemon's own oj first: %s (want %s)",
              text, e.oj);
    free(text);
}

static bool status_says(void *arg)
{
    struct oj_out o = OJ(&e, "status");
    bool yes = o.code == 0 && strstr(o.out, (const char *)arg) != NULL;
    oj_out_free(&o);
    return yes;
}

/* A daemon that starts while a runbook is broken keeps its pipelines (they
 * wait, the error is in oj status) and carries on once it is fixed. */
Test(pipelines, a_broken_runbook_makes_pipelines_wait_not_fail, .init = setup, .fini = teardown)
{
    static const char *good =
        "{'pipelines':{'two':{'inputs':[],'phases':["
        "{'name':'talk','agent':{'command':'oj-fake-agent','prompt':'hi','idle_timeout':'10m'}},"
        "{'name':'after','run':'echo after >> {project}/after-{id}.txt'}]}}}";
    start_daemon();
    runbook("two", good);
    char id[16], sid[16];
    run_ok(id, "two", NULL, NULL);
    expect_agent(id, sid);
    struct oj_out o = OJ(&e, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_assert_eq(env_write_runbook(&e, "two", "{\"pipelines\": {"), 0);
    start_daemon();
    cr_expect(wait_until(status_says, "runbooks:   NOT LOADED: ", 5000),
              "oj status shows the runbook error");
    /* The agent finishes while no definition loads: the pipeline waits. */
    o = OJ(&e, "session", "send", sid, "done");
    cr_expect_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    expect_file_has(session_log(sid), "oj done ok", 10000);
    char *slog = read_file(session_log(sid));
    cr_expect(slog && strstr(slog, "goes on once one does"), "oj done says why it waits: %s",
              tail_of(slog, 1000));
    free(slog);
    cJSON *st = status_json(id, false);
    cr_expect_str_eq(pstate(st), "running", "not failed for want of a runbook");
    cr_expect_str_eq(jstr(st, "step"), "decide");
    cr_expect_str_eq(jstr(st, "session_id"), "", "the ended phase names no agent");
    cJSON_Delete(st);
    o = OJ(&e, "pipeline", "nudge", id);
    cr_expect_eq(o.code, 5, "no agent to nudge in step decide: %s", o.err);
    oj_out_free(&o);
    runbook("two", good);
    expect_state(id, "done", 10000);
    cr_expect(exists(path_in("after-%s.txt", id)), "the next phase ran after the fix");
    cr_expect(!status_says("NOT LOADED"));
}

/* A graceful stop whose --timeout ends before a shell step does: the daemon
 * goes anyway (cleanly: the sanitizer build checks), and the next start
 * kills what is left of the step and runs it again. */
Test(pipelines, a_stop_that_times_out_leaves_the_step_to_the_next_start, .init = setup,
     .fini = teardown)
{
    start_daemon();
    runbook("long", "{'pipelines':{'long':{'inputs':[],'phases':[{'name':'step',"
                    "'run':'echo start >> {project}/long-{id}.txt; sleep 4; "
                    "echo ran >> {project}/long-{id}.txt'}]}}}");
    char id[16];
    run_ok(id, "long", NULL, NULL);
    expect_file_has(path_in("long-%s.txt", id), "start", 10000);
    struct oj_out o = OJ(&e, "daemon", "stop", "--timeout", "1s");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(o.secs < 3.5, "the stop waited %.1f s, past its 1 s timeout", o.secs);
    oj_out_free(&o);
    char *dlog = read_file(path_in(".oj/logs/daemon.log%s", ""));
    cr_expect(dlog && strstr(dlog, "shell step(s) still running after"), "%s",
              tail_of(dlog, 2000));
    free(dlog);
    start_daemon();
    expect_state(id, "done", 15000);
    char *text = read_file(path_in("long-%s.txt", id));
    cr_expect_eq(count_of(text, "start"), 2, "started twice: %s", text);
    cr_expect_eq(count_of(text, "ran"), 1, "finished once (the first run was killed): %s", text);
    free(text);
}

/* A shell step cut off while the runbooks are broken: the next start kills what
 * is left of it but cannot read its after_crash, so the pipeline waits (not
 * failed) and the step runs again once the runbook is fixed. */
Test(pipelines, a_cut_off_step_waits_for_a_broken_runbook_to_be_fixed, .init = setup,
     .fini = teardown)
{
    static const char *good = "{'pipelines':{'long':{'inputs':[],'phases':[{'name':'step',"
                              "'run':'echo start >> {project}/long-{id}.txt; sleep 3; "
                              "echo ran >> {project}/long-{id}.txt'}]}}}";
    start_daemon();
    runbook("long", good);
    char id[16];
    run_ok(id, "long", NULL, NULL);
    expect_file_has(path_in("long-%s.txt", id), "start", 10000);
    struct oj_out o = OJ(&e, "daemon", "stop", "--timeout", "1s");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_assert_eq(env_write_runbook(&e, "long", "{\"pipelines\": {"), 0);
    start_daemon();
    expect_file_has(path_in(".oj/logs/daemon.log%s", ""), "killed the shell step's processes",
                    10000);
    cr_expect(wait_until(status_says, "runbooks:   NOT LOADED: ", 5000));
    cJSON *st = status_json(id, false);
    cr_expect_str_eq(pstate(st), "running", "not failed for want of a runbook");
    cr_expect_str_eq(jstr(st, "step"), "shell");
    cJSON_Delete(st);
    runbook("long", good);
    expect_state(id, "done", 15000);
    char *text = read_file(path_in("long-%s.txt", id));
    cr_expect_eq(count_of(text, "start"), 2, "run again after the fix: %s", text);
    cr_expect_eq(count_of(text, "ran"), 1, "the cut-off run was killed: %s", text);
    free(text);
}

/* An agent that says `oj done` while the daemon is down is not lost: the
 * command waits for the daemon to come back (OJ_AGENT_WAIT) and the phase
 * ends then. The agent is reached through tmux itself, as nothing of oj runs. */
Test(pipelines, an_agents_done_waits_for_a_daemon_restart, .init = setup, .fini = teardown)
{
    start_daemon();
    runbook("wait", "{'pipelines':{'wait':{'inputs':[],'phases':["
                    "{'name':'talk','agent':{'command':'oj-fake-agent','prompt':'hi',"
                    "'idle_timeout':'10m'}},"
                    "{'name':'after','run':'echo after >> {project}/after-{id}.txt'}]}}}");
    char id[16], sid[16];
    run_ok(id, "wait", NULL, NULL);
    expect_agent(id, sid);
    expect_file_has(session_log(sid), "got: hi", 10000);
    struct oj_out o = OJ(&e, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    char sock[PATH_MAX + 32], target[32];
    snprintf(sock, sizeof sock, "%s/.oj/tmux.sock", e.dir);
    snprintf(target, sizeof target, "=%s:", sid);
    cr_assert_eq(run_prog(e.dir, 5000, NULL, 0,
                          (char *[]){"tmux", "-S", sock, "send-keys", "-t", target, "-l", "done",
                                     NULL}),
                 0);
    cr_assert_eq(run_prog(e.dir, 5000, NULL, 0,
                          (char *[]){"tmux", "-S", sock, "send-keys", "-t", target, "Enter", NULL}),
                 0);
    expect_file_has(session_log(sid), "trying again", 10000);
    start_daemon();
    expect_file_has(session_log(sid), "oj done ok", 15000);
    expect_state(id, "done", 15000);
    cr_expect(exists(path_in("after-%s.txt", id)));
}

/* Issue 11 item 10: the prompt typed into an agent's terminal shows on a line
 * of its own, after what the agent printed as it started. It used to be typed
 * at once, while the agent still started: the terminal echoed it into the
 * middle of the greeting ("build the widgetfake agent ready (...)") and its
 * Enter on a line of its own after. Now it waits until the agent is ready. */
Test(pipelines, the_prompt_shows_on_its_own_line_after_the_greeting, .init = setup,
     .fini = teardown)
{
    start_daemon();
    runbook("talk", "{'pipelines':{'talk':{'inputs':[],'phases':["
                    "{'name':'chat','agent':{'command':'oj-fake-agent',"
                    "'prompt':'build the widget'}}]}}}");
    char id[16];
    run_ok(id, "talk", NULL, NULL);
    char sid[16];
    cr_assert(env_wait_pipeline_agent(&e, id, sid, 10000), "the agent never started");
    expect_file_has(path_in(".oj/logs/sessions/%s.log", sid), "got: build the widget", 10000);
    struct oj_out o = OJ(&e, "session", "capture", sid, "--tail", "3");
    cr_assert_eq(o.code, 0, "%s", o.err);
    char want[256];
    snprintf(want, sizeof want,
             "fake agent ready (task=%s phase=chat)\nbuild the widget\ngot: build the widget\n",
             id);
    cr_expect_str_eq(o.out, want);
    oj_out_free(&o);
}

/* The daemon setting agent_idle_timeout (here from .oj/config.json) is what
 * an agent phase without idle_timeout gets; the session says so. */
Test(pipelines, an_agent_without_idle_timeout_gets_the_configured_one, .init = setup,
     .fini = teardown)
{
    char cfg[PATH_MAX + 32];
    snprintf(cfg, sizeof cfg, "%s/.oj", e.dir);
    mkdir(cfg, 0700);
    snprintf(cfg, sizeof cfg, "%s/.oj/config.json", e.dir);
    FILE *f = fopen(cfg, "w");
    cr_assert_not_null(f);
    fputs("{\"agent_idle_timeout\": \"7s\"}\n", f);
    fclose(f);
    runbook("quiet", "{'pipelines': {'quiet': {'phases': ["
                     "  {'name': 'implement', 'agent': {'command': 'oj-fake-agent --mute'}}]}}}");
    start_daemon();
    char id[16], sid[16];
    run_ok(id, "quiet", NULL, NULL);
    expect_agent(id, sid);
    struct oj_out s = OJ(&e, "session", "show", sid, "--json");
    cr_assert_eq(s.code, 0, "%s", s.err);
    cJSON *j = json_of(&s, "session show");
    const cJSON *t = cJSON_GetObjectItem(j, "idle_timeout_ms");
    cr_expect(cJSON_IsNumber(t) && t->valuedouble == 7000, "idle_timeout_ms: %s", s.out);
    cJSON_Delete(j);
    oj_out_free(&s);
}
