/* cmd_runbook.c — `oj init` and `oj runbook list|check`: runbooks without a
 * daemon. They load with the daemon's own loader (daemon_main.h), so what
 * these accept is what the daemon accepts. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "daemon_main.h"
#include "duration.h"

/* The file `oj init` writes, in .oj/runbooks/. */
#define STARTER_NAME "build.json"

/* JSON has no comments: members named "//..." are ignored by the loader
 * (docs/runbooks.md). A unit test loads this text and an e2e test runs it. */
const char oj_starter_runbook[] =
    "{\n"
    "  \"//\": \"Starter runbook written by `oj init`. Members named // are comments. Format: "
    "`man oj-runbook`. Check an edit with `oj runbook check`; the daemon reloads it on change.\",\n"
    "  \"pipelines\": {\n"
    "    \"build\": {\n"
    "      \"//\": \"Start it with: oj run build <name> \\\"<what to do>\\\" (inputs in order, or "
    "--name N --prompt P). Each pipeline works in a git worktree of its own, "
    ".oj/workspaces/build-<id>, on the branch oj/build-<id>.\",\n"
    "      \"inputs\": [\"name\", \"prompt\"],\n"
    "      \"phases\": [\n"
    "        {\n"
    "          \"//\": \"An agent phase. Replace oj-fake-agent (a scripted stand-in that ships "
    "with oj) with your coding agent's command line. The prompt is typed into its terminal "
    "and is in the file $OTTER_PROMPT_FILE.\",\n"
    "          \"name\": \"implement\",\n"
    "          \"agent\": {\n"
    "            \"command\": \"oj-fake-agent --work\",\n"
    "            \"prompt\": \"Task {name}: {prompt}. Commit your work on this branch. When you "
    "are finished, run: oj done (or: oj done --error WHY when you cannot do it)\",\n"
    "            \"//idle_timeout\": \"Quiet this long means stuck; then the on_stuck steps in "
    "order: remind it, restart it once, hand it to a human (escalate runs notify).\",\n"
    "            \"idle_timeout\": \"5m\",\n"
    "            \"on_stuck\": [\"nudge\", \"restart\", \"escalate\"]\n"
    "          },\n"
    "          \"timeout\": \"2h\"\n"
    "        },\n"
    "        {\n"
    "          \"//\": \"A shell step in the workspace: put your checks here, e.g. make test. A "
    "non-zero exit fails the pipeline.\",\n"
    "          \"name\": \"check\",\n"
    "          \"run\": \"git log --oneline -3\",\n"
    "          \"timeout\": \"30m\"\n"
    "        },\n"
    "        {\n"
    "          \"//\": \"Merge into the branch checked out in the project, one pipeline at a time "
    "(it holds merge-lock while it runs).\",\n"
    "          \"name\": \"merge\",\n"
    "          \"lock\": \"merge-lock\",\n"
    "          \"run\": \"git -C {project} merge --no-ff --no-edit {branch}\",\n"
    "          \"timeout\": \"5m\"\n"
    "        }\n"
    "      ],\n"
    "      \"//setup\": \"To prepare each new workspace before its first phase, add e.g. "
    "\\\"setup\\\": \\\"cp {project}/.env . && npm ci\\\" (setup_timeout: 10m by default). "
    "$OJ_PORT is the workspace's own port; oj run --base REF starts it from another "
    "branch.\",\n"
    "      \"//notify\": \"Runs when the pipeline escalates (a human is needed), e.g. "
    "notify-send, or curl to a chat webhook; its output goes to the pipeline's log.\",\n"
    "      \"notify\": \"echo pipeline {id} of {pipeline} needs a human in phase {phase}\"\n"
    "    }\n"
    "  },\n"
    "  \"jobs\": {\n"
    "    \"//\": \"Scheduled jobs: a command or a pipeline every interval. Set enabled to true "
    "(or run: oj cron enable cleanup) to remove finished pipelines' workspaces every 6 hours.\",\n"
    "    \"cleanup\": {\n"
    "      \"every\": \"6h\",\n"
    "      \"run\": \"oj workspace cleanup --stale\",\n"
    "      \"enabled\": false\n"
    "    }\n"
    "  }\n"
    "}\n";

/* `path` relative to the project root when it lies under it, for tables. */
static const char *shown(const char *path, const char *root)
{
    size_t n = root ? strlen(root) : 0;
    if (n && strncmp(path, root, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

static int count(const cJSON *o, const char *key)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void print_list(const cJSON *rb, const char *root)
{
    const cJSON *it;
    if (count(rb, "pipelines"))
        printf("%-20s %-28s %-20s %s\n", "PIPELINE", "FILE", "INPUTS", "PHASES");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rb, "pipelines"))
    {
        char inputs[256] = "", phases[1024] = "";
        const cJSON *x;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(it, "inputs"))
        {
            size_t used = strlen(inputs);
            snprintf(inputs + used, sizeof inputs - used, "%s%s", used ? "," : "",
                     x->valuestring);
        }
        /* "implement (agent) > check > merge (merge-lock)" */
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(it, "phases"))
        {
            size_t used = strlen(phases);
            bool agent = strcmp(str(x, "kind"), "agent") == 0;
            const char *lock = str(x, "lock");
            char note[100] = "";
            if (agent || lock[0])
                snprintf(note, sizeof note, " (%s%s%s)", agent ? "agent" : "",
                         agent && lock[0] ? ", " : "", lock);
            snprintf(phases + used, sizeof phases - used, "%s%s%s", used ? " > " : "",
                     str(x, "name"), note);
        }
        printf("%-20s %-28s %-20s %s\n", str(it, "name"), oj_esc(shown(str(it, "file"), root)),
               inputs[0] ? inputs : "-", phases);
    }
    if (count(rb, "jobs"))
        printf("%s%-20s %-28s %-8s %-8s %s\n", count(rb, "pipelines") ? "\n" : "", "JOB", "FILE",
               "EVERY", "ENABLED", "RUNS");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rb, "jobs"))
    {
        char every[32], runs[300];
        oj_duration_format((int64_t)cJSON_GetNumberValue(
                               cJSON_GetObjectItemCaseSensitive(it, "every_ms")),
                           every, sizeof every);
        if (str(it, "pipeline")[0])
            snprintf(runs, sizeof runs, "pipeline %s", str(it, "pipeline"));
        else
            snprintf(runs, sizeof runs, "%s", str(it, "run"));
        printf("%-20s %-28s %-8s %-8s %s\n", str(it, "name"), oj_esc(shown(str(it, "file"), root)),
               every, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "enabled")) ? "yes" : "no",
               oj_esc(runs));
    }
}

/* Loads what list and check look at: the file named on the command line, or
 * the project's .oj/runbooks/. 0 with *rb, or prints why and returns the
 * exit code. */
static int load(struct oj_ctx *ctx, const struct oj_args *a, cJSON **rb, char *dir, size_t len)
{
    char err[2048];
    *rb = NULL;
    dir[0] = '\0';
    if (a->npos > 0) {
        struct stat st;
        if (stat(a->pos[0], &st) != 0) {
            int why = errno;
            oj_errorf("cannot read %s: %s; name a runbook file (.json)", a->pos[0],
                      strerror(why));
            return why == ENOENT ? OJ_EXIT_NOT_FOUND : OJ_EXIT_FAILURE;
        }
        if (oj_daemon_runbooks_offline(NULL, a->pos[0], NULL, rb, err, sizeof err) != 0) {
            oj_errorf("%s", err);
            return OJ_EXIT_USAGE;
        }
        return 0;
    }
    int rc = oj_ctx_project(ctx);
    if (rc != 0)
        return rc;
    snprintf(dir, len, "%s/runbooks", ctx->paths.state_dir);
    if (oj_daemon_runbooks_offline(dir, NULL, NULL, rb, err, sizeof err) != 0) {
        oj_errorf("%s", err);
        return OJ_EXIT_USAGE;
    }
    return 0;
}

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    cJSON *rb;
    char dir[PATH_MAX + 16];
    int rc = load(ctx, a, &rb, dir, sizeof dir);
    if (rc != 0)
        return rc;
    if (oj_args_has(a, "json")) {
        char *s = cJSON_Print(rb);
        if (s)
            puts(s);
        free(s);
    } else if (count(rb, "pipelines") + count(rb, "jobs") == 0) {
        printf("no pipelines or jobs in %s; `oj init` writes a starter runbook\n", oj_esc(dir));
    } else {
        print_list(rb, ctx->have_paths ? ctx->paths.root : NULL);
    }
    cJSON_Delete(rb);
    return OJ_EXIT_OK;
}

static int exec_check(struct oj_ctx *ctx, const struct oj_args *a)
{
    cJSON *rb;
    char dir[PATH_MAX + 16];
    int rc = load(ctx, a, &rb, dir, sizeof dir);
    if (rc != 0)
        return rc;
    int np = count(rb, "pipelines"), nj = count(rb, "jobs");
    printf("%s: ok, %d pipeline%s and %d job%s\n", oj_esc(a->npos ? a->pos[0] : dir), np,
           np == 1 ? "" : "s", nj, nj == 1 ? "" : "s");
    cJSON_Delete(rb);
    return OJ_EXIT_OK;
}

/* Writes the starter runbook, never over an existing file. */
static int write_starter(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t len = sizeof oj_starter_runbook - 1, off = 0;
    while (off < len) {
        ssize_t w = write(fd, oj_starter_runbook + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int keep = errno;
            close(fd);
            unlink(path);
            errno = keep;
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

static int exec_init(struct oj_ctx *ctx, const struct oj_args *a)
{
    (void)a;
    char root[PATH_MAX], err[2048];
    int rc = oj_ctx_new_root(ctx, root, sizeof root);
    if (rc != 0)
        return rc;
    struct oj_paths paths;
    if (oj_paths_init(&paths, root) != 0) {
        oj_errorf("project path %s is too long for a socket even in the fallback directory; set "
                  "XDG_RUNTIME_DIR to a short directory",
                  root);
        return OJ_EXIT_FAILURE;
    }
    char dir[PATH_MAX + 16], path[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/runbooks", paths.state_dir);
    snprintf(path, sizeof path, "%s/" STARTER_NAME, dir);
    struct stat st;
    if (lstat(path, &st) == 0) {
        oj_errorf("%s already exists; oj init never overwrites it: edit it, or move it away and "
                  "run `oj init` again",
                  path);
        return OJ_EXIT_CONFLICT;
    }
    if (oj_paths_prepare(&paths, err, sizeof err) != 0) {
        int why = errno;
        oj_errorf("%s", err);
        return why == EACCES || why == EPERM ? OJ_EXIT_PERMISSION : OJ_EXIT_FAILURE;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        int why = errno;
        oj_errorf("cannot create %s: %s", dir, strerror(why));
        return why == EACCES ? OJ_EXIT_PERMISSION : OJ_EXIT_FAILURE;
    }
    /* The runbooks already there and the starter must load together (a
     * pipeline "build" of their own would break both). */
    cJSON *rb = NULL;
    bool others_load = oj_daemon_runbooks_offline(dir, NULL, NULL, &rb, err, sizeof err) == 0;
    cJSON_Delete(rb);
    rb = NULL;
    if (others_load &&
        oj_daemon_runbooks_offline(dir, path, oj_starter_runbook, &rb, err, sizeof err) != 0) {
        oj_errorf("%s; %s was not written: rename that pipeline or job, or check the others with "
                  "`oj runbook list`",
                  err, path);
        return OJ_EXIT_CONFLICT;
    }
    cJSON_Delete(rb);
    if (write_starter(path) != 0) {
        int why = errno;
        if (why == EEXIST) {
            oj_errorf("%s already exists; oj init never overwrites it: edit it, or move it away "
                      "and run `oj init` again",
                      path);
            return OJ_EXIT_CONFLICT;
        }
        oj_errorf("cannot write %s: %s", path, strerror(why));
        return why == EACCES ? OJ_EXIT_PERMISSION : OJ_EXIT_FAILURE;
    }
    printf("wrote %s: pipeline build (implement > check > merge), job cleanup (disabled)\n"
           "next: put your agent's command in it, `oj runbook check`, `oj daemon start`, then\n"
           "      oj run build <name> \"<what to do>\"\n",
           oj_esc(path));
    if (!others_load)
        fprintf(stderr, "oj: note: the runbooks already in %s do not load: %s\n", oj_esc(dir),
                oj_esc(err));
    char git[PATH_MAX + 8];
    snprintf(git, sizeof git, "%s/.git", root);
    if (access(git, F_OK) != 0)
        fprintf(stderr,
                "oj: note: %s is not a git repository; pipelines work in git worktrees: run "
                "`git init && git commit --allow-empty -m init` there before `oj run`\n",
                oj_esc(root));
    return OJ_EXIT_OK;
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};
static const struct oj_opt none[] = {{0}};

const struct oj_cmd oj_cmd_init = {
    NULL,
    "init",
    "",
    "Write a starter runbook (.oj/runbooks/" STARTER_NAME ")",
    "Writes a commented starter runbook, .oj/runbooks/" STARTER_NAME ", into the project (the\n"
    "nearest directory holding .oj/ or .git, else this one), creating .oj/ if needed. No\n"
    "daemon is needed. Never overwrites: when the file exists it exits 5 and changes nothing;\n"
    "also 5 when the starter's names clash with the runbooks already there.",
    none,
    0,
    0,
    exec_init,
};
const struct oj_cmd oj_cmd_runbook_list = {
    "runbook",
    "list",
    "[file] [--json]",
    "List pipelines and jobs with their files (no daemon)",
    "Loads .oj/runbooks/*.json (or the one file given) with the daemon's own loader, no\n"
    "daemon needed, and lists each pipeline (inputs, phases) and job with its file. A runbook\n"
    "that does not load exits 2 with the loader's error (file, place, problem).",
    json_only,
    0,
    1,
    exec_list,
};
const struct oj_cmd oj_cmd_runbook_check = {
    "runbook",
    "check",
    "[file]",
    "Check that the runbooks load (no daemon)",
    "Loads .oj/runbooks/*.json as the daemon does (or only the file given, on its own), no\n"
    "daemon needed. Exit 0 and one line when they load; exit 2 with the loader's one-line\n"
    "error naming the file, the place in it and the problem when not; 4 when the file given\n"
    "does not exist.",
    none,
    0,
    1,
    exec_check,
};
