/* Review before merge and worktree set-up, end to end against the real
 * daemon, git and tmux: `oj workspace diff`, the diff-stat column of
 * `oj workspace list` and `oj pipeline status`, `oj run --base`, a runbook's
 * setup command and each workspace's own OJ_PORT. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;
static char *daemon_env[] = {"OJ_PORT_BASE=31000", NULL};

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

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

/* A path in the project (fmt has one %s for a); lives until four more calls. */
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

/* git in dir (NULL: the project), its stdout into out; its exit status. */
static int git_in(const char *dir, char *out, size_t outlen, char *const args[])
{
    char *argv[16] = {"git", "-c", "user.name=t", "-c", "user.email=t@oj.invalid"};
    int n = 5;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char buf[8192];
    return run_prog(dir ? dir : e.dir, 20000, out ? out : buf, out ? outlen : sizeof buf, argv);
}

#define GIT(dir, ...) git_in((dir), NULL, 0, (char *[]){__VA_ARGS__, NULL})

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

static void take_id(const struct oj_out *o, char id[16])
{
    cr_assert_eq(o->code, 0, "oj run exited %d: %s", o->code, o->err);
    cr_assert(strlen(o->out) == 8 && o->out[0] == 'p', "oj run prints the id: '%s'", o->out);
    memcpy(id, o->out, 7);
    id[7] = '\0';
}

static cJSON *status_json(const char *id)
{
    struct oj_out o = OJ(&e, "pipeline", "status", id, "--json");
    cr_assert_eq(o.code, 0, "oj pipeline status %s: %s", id, o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "not JSON: %s", o.out);
    oj_out_free(&o);
    return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) ? s->valuestring : "";
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(n) ? n->valuedouble : -1;
}

struct want_state {
    const char *id, *state;
};

static bool state_reached(void *arg)
{
    struct want_state *w = arg;
    struct oj_out o = OJ(&e, "pipeline", "status", w->id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    const cJSON *p = j ? cJSON_GetObjectItemCaseSensitive(j, "pipeline") : NULL;
    bool yes = p && strcmp(jstr(p, "state"), w->state) == 0;
    cJSON_Delete(j);
    oj_out_free(&o);
    return yes;
}

static void expect_state(const char *id, const char *state, int timeout_ms)
{
    struct want_state w = {id, state};
    if (!wait_until(state_reached, &w, timeout_ms)) {
        struct oj_out o = OJ(&e, "pipeline", "show", id);
        cr_assert_fail("pipeline %s never became %s:\n%s%s", id, state, o.out, o.err);
    }
}

/* ---- oj run --base ------------------------------------------------------------------ */

/* A branch "feature" with a file main does not have; the project stays on
 * its own branch. */
static void make_feature_branch(void)
{
    cr_assert_eq(GIT(NULL, "checkout", "-q", "-b", "feature"), 0);
    write_text(path_in("feature.txt%s", ""), "only on feature\n");
    cr_assert_eq(GIT(NULL, "add", "feature.txt"), 0);
    cr_assert_eq(GIT(NULL, "commit", "-q", "-m", "feature"), 0);
    cr_assert_eq(GIT(NULL, "checkout", "-q", "-"), 0);
    cr_assert(access(path_in("feature.txt%s", ""), F_OK) != 0, "back on the first branch");
}

Test(review, run_base_starts_the_worktree_from_another_branch, .init = setup, .fini = teardown)
{
    make_feature_branch();
    start_daemon();
    runbook("look", "{'pipelines':{'look':{'phases':[{'name':'look',"
                    "'run':'cat feature.txt > {project}/seen-{id}.txt'}]}}}");
    struct oj_out o = OJ(&e, "run", "look", "--base", "feature");
    char id[16];
    take_id(&o, id);
    oj_out_free(&o);
    expect_state(id, "done", 15000);
    char *seen = read_file(path_in("seen-%s.txt", id));
    cr_expect(seen && strcmp(seen, "only on feature\n") == 0, "the worktree has feature's file: "
                                                              "%s", seen ? seen : "(none)");
    free(seen);
    /* without --base it starts from HEAD, which has no such file */
    o = OJ(&e, "run", "look");
    char id2[16];
    take_id(&o, id2);
    oj_out_free(&o);
    expect_state(id2, "failed", 15000);
}

Test(review, a_bad_base_is_refused_and_nothing_is_made, .init = setup, .fini = teardown)
{
    start_daemon();
    runbook("look", "{'pipelines':{'look':{'phases':[{'name':'look','run':'true'}]}}}");
    struct oj_out o = OJ(&e, "run", "look", "--base", "no-such-branch");
    cr_expect_eq(o.code, 2, "a ref naming no commit is a usage error (exit %d)", o.code);
    cr_expect(strstr(o.err, "no-such-branch") != NULL, "the error names the ref: %s", o.err);
    cr_expect(strchr(o.err, '\n') == o.err + strlen(o.err) - 1, "one line: %s", o.err);
    cr_expect_str_empty(o.out, "no id printed");
    oj_out_free(&o);
    o = OJ(&e, "run", "look", "--base", "--upload-pack=evil");
    cr_expect_eq(o.code, 2);
    cr_expect(strstr(o.err, "cannot start with '-'") != NULL, "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "pipeline", "list");
    cr_expect(strstr(o.out, "no pipelines") != NULL, "no pipeline recorded: %s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "workspace", "list");
    cr_expect(strstr(o.out, "no workspaces") != NULL, "no workspace made: %s", o.out);
    oj_out_free(&o);
    char branches[4096] = "";
    git_in(NULL, branches, sizeof branches, (char *[]){"branch", "--list", "oj/*", NULL});
    cr_expect_str_empty(branches, "no branch made: %s", branches);
}

/* ---- setup and OJ_PORT -------------------------------------------------------------- */

Test(review, setup_runs_in_the_new_worktree_with_its_own_port, .init = setup, .fini = teardown)
{
    write_text(path_in(".env.example%s", ""), "SECRET=1\n");
    start_daemon();
    runbook("web", "{'pipelines':{'web':{"
                   "'setup':'cp {project}/.env.example .env && echo setup-port=$OJ_PORT > "
                   "setup.txt',"
                   "'setup_timeout':'1m',"
                   "'phases':[{'name':'serve','run':'cat .env setup.txt > {project}/seen-{id}.txt"
                   " && echo step-port=$OJ_PORT >> {project}/seen-{id}.txt'},"
                   "{'name':'agent','agent':{'command':'echo agent-port=$OJ_PORT > "
                   "{project}/agent-{id}.txt; exec oj-fake-agent --work',"
                   "'prompt':'serve it'}}]}}}");
    struct oj_out o = OJ(&e, "runbook", "check");
    cr_expect_eq(o.code, 0, "oj runbook check knows setup: %s %s", o.out, o.err);
    oj_out_free(&o);
    char a[16], b[16];
    o = OJ(&e, "run", "web");
    take_id(&o, a);
    oj_out_free(&o);
    o = OJ(&e, "run", "web");
    take_id(&o, b);
    oj_out_free(&o);
    expect_state(a, "done", 30000);
    expect_state(b, "done", 30000);
    int port[2];
    const char *ids[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        cJSON *st = status_json(ids[i]);
        port[i] = (int)jnum(st, "port");
        cJSON_Delete(st);
        cr_expect(port[i] >= 31000 && port[i] < 32000, "port from OJ_PORT_BASE: %d", port[i]);
        char want[256];
        snprintf(want, sizeof want, "SECRET=1\nsetup-port=%d\nstep-port=%d\n", port[i], port[i]);
        char *seen = read_file(path_in("seen-%s.txt", ids[i]));
        cr_expect(seen && strcmp(seen, want) == 0,
                  "setup ran in the worktree before the first phase, both saw OJ_PORT:\n%s\n"
                  "want:\n%s", seen ? seen : "(none)", want);
        free(seen);
        snprintf(want, sizeof want, "agent-port=%d\n", port[i]);
        char *agent = read_file(path_in("agent-%s.txt", ids[i]));
        cr_expect(agent && strcmp(agent, want) == 0, "the agent's session has it too: %s",
                  agent ? agent : "(none)");
        free(agent);
    }
    cr_expect_neq(port[0], port[1], "two live workspaces, two ports");
}

Test(review, a_failing_setup_fails_the_pipeline_with_its_message, .init = setup,
     .fini = teardown)
{
    start_daemon();
    runbook("web", "{'pipelines':{'web':{"
                   "'setup':'echo installing; echo \\'npm ERR! no package.json here\\' >&2; "
                   "exit 3',"
                   "'phases':[{'name':'serve','run':'touch {project}/phase-ran'}]}}}");
    struct oj_out o = OJ(&e, "run", "web");
    char id[16];
    take_id(&o, id);
    oj_out_free(&o);
    expect_state(id, "failed", 15000);
    cJSON *st = status_json(id);
    const char *err = jstr(st, "last_error");
    cr_expect(strstr(err, "setup failed (exit status 3): npm ERR! no package.json here") != NULL,
              "last_error has the setup's last line: %s", err);
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(st, "recovery");
    const cJSON *last = cJSON_GetArrayItem(rec, cJSON_GetArraySize(rec) - 1);
    cr_expect_str_eq(jstr(last, "action"), "setup-failed");
    cr_expect(strstr(jstr(last, "detail"), "oj pipeline resume") != NULL, "says what to do: %s",
              jstr(last, "detail"));
    cJSON_Delete(st);
    cr_expect(access(path_in("phase-ran%s", ""), F_OK) != 0, "the first phase never ran");
    o = OJ(&e, "pipeline", "status", id);
    cr_expect(strstr(o.out, "npm ERR! no package.json here") != NULL, "%s", o.out);
    oj_out_free(&o);
}

/* ---- oj workspace diff and the diff-stat column ---------------------------------------- */

/* A project with a tracked file, and a pipeline whose one step commits a
 * line to it, changes another without committing and leaves a new file
 * untracked: +2 -1 in 2 tracked files, and 1 untracked file of 1 line. */
static void run_change(char id[16], char base[64])
{
    write_text(path_in("notes.txt%s", ""), "one\ntwo\n");
    cr_assert_eq(GIT(NULL, "add", "notes.txt"), 0);
    cr_assert_eq(GIT(NULL, "commit", "-q", "-m", "notes"), 0);
    char head[128] = "";
    git_in(NULL, head, sizeof head, (char *[]){"rev-parse", "HEAD", NULL});
    head[strcspn(head, "\n")] = '\0';
    snprintf(base, 64, "%.63s", head);
    start_daemon();
    runbook("change", "{'pipelines':{'change':{'phases':[{'name':'edit','run':"
                      "'echo committed-line >> notes.txt && git commit -qam edit && "
                      "sed -i s/two/TWO/ notes.txt && echo brand-new > fresh.txt && "
                      "echo uncommitted > other.txt && git add other.txt'}]}}}");
    struct oj_out o = OJ(&e, "run", "change");
    take_id(&o, id);
    oj_out_free(&o);
    expect_state(id, "done", 15000);
}

Test(review, workspace_diff_shows_committed_and_uncommitted_changes, .init = setup,
     .fini = teardown)
{
    char id[16], base[64];
    run_change(id, base);
    struct oj_out o = OJ(&e, "workspace", "diff", id);
    cr_assert_eq(o.code, 0, "oj workspace diff %s: %s", id, o.err);
    cr_expect(strstr(o.out, "+committed-line") != NULL, "committed change: %s", o.out);
    cr_expect(strstr(o.out, "-two\n+TWO") != NULL, "uncommitted change: %s", o.out);
    cr_expect(strstr(o.out, "+uncommitted") != NULL, "staged new file: %s", o.out);
    cr_expect(strstr(o.out, "brand-new") == NULL, "untracked content not in the diff: %s", o.out);
    cr_expect(strstr(o.err, "1 untracked file") && strstr(o.err, "fresh.txt"),
              "untracked files named on stderr: %s", o.err);
    oj_out_free(&o);

    o = OJ(&e, "workspace", "diff", id, "--include-untracked");
    cr_expect_eq(o.code, 0);
    cr_expect(strstr(o.out, "+brand-new") && strstr(o.out, "fresh.txt"), "%s", o.out);
    cr_expect(strstr(o.err, "untracked") == NULL, "%s", o.err);
    oj_out_free(&o);

    o = OJ(&e, "workspace", "diff", id, "--stat");
    cr_expect_eq(o.code, 0);
    cr_expect(strstr(o.out, "notes.txt") && strstr(o.out, "2 files changed"), "%s", o.out);
    oj_out_free(&o);

    /* a change made in the worktree just now shows at once */
    char ws[PATH_MAX];
    snprintf(ws, sizeof ws, "%s/.oj/workspaces/change-%s/other.txt", e.dir, id);
    write_text(ws, "edited by hand\n");
    o = OJ(&e, "workspace", "diff", id);
    cr_expect(strstr(o.out, "+edited by hand") != NULL, "%s", o.out);
    oj_out_free(&o);

    /* named by workspace name, by an id prefix; --json says the base */
    char name[64];
    snprintf(name, sizeof name, "change-%s", id);
    o = OJ(&e, "workspace", "diff", name, "--json");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j, "%s", o.out);
    cr_expect_str_eq(jstr(j, "base_commit"), base);
    cr_expect_str_eq(jstr(j, "name"), name);
    cr_expect(strstr(jstr(j, "diff"), "+committed-line") != NULL);
    cJSON_Delete(j);
    oj_out_free(&o);
    char prefix[8];
    snprintf(prefix, sizeof prefix, "%.4s", id);
    o = OJ(&e, "workspace", "diff", prefix, "--stat");
    cr_expect_eq(o.code, 0, "a unique prefix of the id: %s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "workspace", "diff", "nothing-like-it");
    cr_expect_eq(o.code, 4, "unknown workspace: exit 4");
    cr_expect(strstr(o.err, "nothing-like-it") && strstr(o.err, "oj workspace list"), "%s",
              o.err);
    oj_out_free(&o);
}

struct want_text {
    const char *what, *args[6];
};

static bool output_has(void *arg)
{
    struct want_text *w = arg;
    struct oj_out o = OJ(&e, w->args[0], w->args[1], w->args[2]);
    bool yes = o.code == 0 && strstr(o.out, w->what) != NULL;
    oj_out_free(&o);
    return yes;
}

Test(review, list_and_status_show_the_diff_stat, .init = setup, .fini = teardown)
{
    char id[16], base[64];
    run_change(id, base);
    /* notes.txt +2 -1, other.txt +1, fresh.txt (untracked) +1 */
    struct oj_out o = OJ(&e, "workspace", "list");
    cr_assert_eq(o.code, 0, "%s", o.err);
    cr_expect(strstr(o.out, "CHANGES") != NULL, "%s", o.out);
    cr_expect(strstr(o.out, "+4 -1") != NULL, "the stat column: %s", o.out);
    oj_out_free(&o);
    o = OJ(&e, "workspace", "list", "--json");
    cJSON *j = cJSON_Parse(o.out);
    const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "workspaces"), 0);
    cr_expect_eq(jnum(w, "lines_added"), 4);
    cr_expect_eq(jnum(w, "lines_removed"), 1);
    cr_expect_eq(jnum(w, "files_changed"), 3);
    cr_expect_gt(jnum(w, "diffstat_at_ms"), 0);
    cJSON_Delete(j);
    oj_out_free(&o);

    o = OJ(&e, "pipeline", "status", id);
    cr_expect(strstr(o.out, "+4 -1 in 3 files") != NULL, "status shows it: %s", o.out);
    oj_out_free(&o);
    cJSON *st = status_json(id);
    cr_expect_eq(jnum(st, "lines_added"), 4);
    cr_expect_eq(jnum(st, "lines_removed"), 1);
    cJSON_Delete(st);

    /* an edit in the worktree shows once the last measure is older than 5 s */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.oj/workspaces/change-%s/more.txt", e.dir, id);
    write_text(path, "a\nb\nc\n");
    struct want_text list = {"+7 -1", {"workspace", "list", NULL}};
    cr_expect(wait_until(output_has, &list, 15000), "list measures again");
    struct want_text status = {"+7 -1", {"pipeline", "status", id}};
    cr_expect(wait_until(output_has, &status, 15000), "status measures again");
}

Test(review, a_diff_past_the_bound_is_cut_and_said_so, .init = setup, .fini = teardown)
{
    start_daemon();
    /* 3 MB of 100-byte lines, committed */
    runbook("big", "{'pipelines':{'big':{'phases':[{'name':'write','run':"
                   "'head -c 3000000 /dev/zero | tr \\\\\\\\0 a | fold -w 99 > big.txt && "
                   "git add big.txt && git commit -qm big'}]}}}");
    struct oj_out o = OJ(&e, "run", "big");
    char id[16];
    take_id(&o, id);
    oj_out_free(&o);
    expect_state(id, "done", 20000);
    o = OJ(&e, "workspace", "diff", id);
    cr_expect_eq(o.code, 0, "a cut diff is still a diff: %s", o.err);
    size_t len = strlen(o.out);
    cr_expect(len > 1024 * 1024 && len <= 2 * 1024 * 1024, "cut at the bound: %zu bytes", len);
    cr_expect(len > 0 && o.out[len - 1] == '\n', "at a line end");
    cr_expect(strstr(o.err, "longer than 2 MiB") && strstr(o.err, "git -C"), "%s", o.err);
    oj_out_free(&o);
    o = OJ(&e, "workspace", "diff", id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    cr_assert_not_null(j);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "truncated")));
    cJSON_Delete(j);
    oj_out_free(&o);
    o = OJ(&e, "workspace", "diff", id, "--stat");
    cr_expect(strstr(o.out, "big.txt") != NULL && strstr(o.err, "longer") == NULL, "%s", o.out);
    oj_out_free(&o);
}

static int port_of(const char *id)
{
    cJSON *st = status_json(id);
    int port = (int)jnum(st, "port");
    cJSON_Delete(st);
    return port;
}

Test(review, a_port_survives_a_restart_and_is_freed_by_cleanup, .init = setup, .fini = teardown)
{
    start_daemon();
    runbook("p", "{'pipelines':{'p':{'phases':[{'name':'a','run':'true'}]}}}");
    char a[16], b[16], c[16];
    struct oj_out o = OJ(&e, "run", "p");
    take_id(&o, a);
    oj_out_free(&o);
    o = OJ(&e, "run", "p");
    take_id(&o, b);
    oj_out_free(&o);
    expect_state(a, "done", 15000);
    expect_state(b, "done", 15000);
    cr_expect_eq(port_of(a), 31000);
    cr_expect_eq(port_of(b), 31001);
    o = OJ(&e, "daemon", "stop");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    start_daemon();
    cr_expect_eq(port_of(b), 31001, "kept across a restart");
    /* a's workspace removed: its port is the first free one again */
    char ws[PATH_MAX];
    snprintf(ws, sizeof ws, "%s/.oj/workspaces/p-%s", e.dir, a);
    o = OJ(&e, "workspace", "cleanup", "--stale");
    cr_assert_eq(o.code, 0, "%s", o.err);
    oj_out_free(&o);
    cr_assert(access(ws, F_OK) != 0, "cleanup removed %s", ws);
    o = OJ(&e, "run", "p");
    take_id(&o, c);
    oj_out_free(&o);
    expect_state(c, "done", 15000);
    cr_expect_eq(port_of(c), 31000, "the freed port is used again");
}

Test(review, workspace_diff_names_the_candidates_of_an_ambiguous_prefix, .init = setup,
     .fini = teardown)
{
    start_daemon();
    runbook("p", "{'pipelines':{'p':{'phases':[{'name':'a','run':'true'}]}}}");
    char a[16], b[16];
    struct oj_out o = OJ(&e, "run", "p");
    take_id(&o, a);
    oj_out_free(&o);
    o = OJ(&e, "run", "p");
    take_id(&o, b);
    oj_out_free(&o);
    expect_state(a, "done", 15000);
    expect_state(b, "done", 15000);
    /* "p" is a prefix of both ids and both names */
    o = OJ(&e, "workspace", "diff", "p");
    cr_expect_eq(o.code, 2, "an ambiguous prefix is a usage error (exit %d)", o.code);
    cr_expect(strstr(o.err, "matches 2 workspaces") && strstr(o.err, a) && strstr(o.err, b),
              "both named: %s", o.err);
    oj_out_free(&o);
    /* the exact id wins over being a prefix of a name */
    o = OJ(&e, "workspace", "diff", a, "--json");
    cJSON *j = cJSON_Parse(o.out);
    char want[32];
    snprintf(want, sizeof want, "p-%s", a);
    cr_expect(j && strcmp(jstr(j, "name"), want) == 0, "%s %s", o.out, o.err);
    cJSON_Delete(j);
    oj_out_free(&o);
}
