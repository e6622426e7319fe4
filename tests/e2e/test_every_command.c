/* Every command of docs/cli.md, read and write, against one fresh daemon: first
 * on empty state, then with one of each thing (a lock, a session, a pipeline
 * from a runbook with its workspace, a cron job, a snapshot). Each must exit
 * with the documented code it is expected to, print a one-line error when it
 * fails, and leave the same daemon alive; env_teardown then checks the daemon
 * log for sanitizer reports. scripts/run-tests.sh runs this against the
 * ASan+UBSan build too, so a handler with undefined behaviour on an empty (or
 * a full) list shows up here. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/harness.h"

static struct oj_env e;

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

/* One command: its words ("{P}" becomes the pipeline's id) and the exit code
 * docs/cli.md gives for it in that state. */
struct cmd {
    int code;
    const char *argv[10];
};

static char pipeline_id[16] = "p000000";
static pid_t daemon_pid;

static void run_one(const struct cmd *c, const char *state, char *const envp[])
{
    char *argv[16];
    char line[512] = "";
    int n = 0;
    for (int i = 0; c->argv[i]; i++) {
        argv[n++] = strcmp(c->argv[i], "{P}") == 0 ? pipeline_id : (char *)c->argv[i];
        snprintf(line + strlen(line), sizeof line - strlen(line), " %s", argv[n - 1]);
    }
    struct oj_out o = oj_run_in(&e, NULL, envp, argv[0], n > 1 ? argv[1] : NULL,
                                n > 2 ? argv[2] : NULL, n > 3 ? argv[3] : NULL,
                                n > 4 ? argv[4] : NULL, n > 5 ? argv[5] : NULL,
                                n > 6 ? argv[6] : NULL, n > 7 ? argv[7] : NULL, (char *)NULL);
    cr_expect_eq(o.code, c->code, "%s state: `oj%s` exited %d, documented %d; stderr: %s", state,
                 line, o.code, c->code, o.err);
    cr_expect_lt(o.code, 13, "`oj%s`: exit %d is no documented code (a crash?)", line, o.code);
    if (o.code != 0 && o.code < 10) { /* 10-12: a pipeline's outcome, said on stdout */
        const char *nl = strchr(o.err, '\n');
        cr_expect(strncmp(o.err, "oj: ", 4) == 0 && nl && nl[1] == '\0',
                  "`oj%s`: the error must be one line starting 'oj: ': %s", line, o.err);
    }
    cr_expect_eq(env_daemon_pid(&e), daemon_pid, "the daemon died or changed after `oj%s`",
                 line);
    oj_out_free(&o);
}

static void run_all(const struct cmd *cmds, size_t n, const char *state, char *const envp[])
{
    for (size_t i = 0; i < n; i++)
        run_one(&cmds[i], state, envp);
}

/* What every read command does with nothing there, and every write command
 * on names that do not exist. */
static const struct cmd on_empty[] = {
    {0, {"status"}},
    {0, {"status", "--verbose"}},
    {0, {"status", "--resources", "--json"}},
    {0, {"daemon", "start"}}, /* already running */
    {0, {"pipeline", "list"}},
    {0, {"pipeline", "list", "--active", "--json"}},
    {0, {"pipeline", "list", "--all"}},
    {4, {"pipeline", "status", "p0a0b0c"}},
    {4, {"pipeline", "show", "p0a0b0c", "--json"}},
    {4, {"pipeline", "nudge", "p0a0b0c"}},
    {4, {"pipeline", "restart", "p0a0b0c"}},
    {4, {"pipeline", "resume", "p0a0b0c"}},
    {4, {"pipeline", "cancel", "p0a0b0c"}},
    {4, {"pipeline", "logs", "p0a0b0c"}},
    {4, {"pipeline", "logs", "p0a0b0c", "-f"}},
    {4, {"pipeline", "wait", "p0a0b0c"}},
    {2, {"pipeline", "list", "--watch"}}, /* stdout is no terminal */
    {2, {"status", "--watch"}},
    {0, {"daemon", "logs"}},
    {0, {"daemon", "logs", "-n", "3"}},
    {4, {"run", "nosuch"}}, /* no runbook defines it */
    {0, {"session", "list"}},
    {0, {"session", "list", "--json"}},
    {4, {"session", "show", "nosuch"}},
    {4, {"session", "capture", "nosuch"}},
    {4, {"session", "capture", "nosuch", "--follow"}},
    {4, {"session", "send", "nosuch", "hi"}},
    {4, {"session", "nudge", "nosuch"}},
    {4, {"session", "kill", "nosuch"}},
    {4, {"attach", "nosuch"}},
    {4, {"attach", "p0a0b0c", "--read-only"}},
    {0, {"workspace", "list"}},
    {0, {"workspace", "list", "--json"}},
    {0, {"workspace", "cleanup", "--stale", "--dry-run"}},
    {0, {"workspace", "cleanup", "--stale", "--json"}},
    {0, {"lock", "list"}},
    {0, {"lock", "list", "--stale", "--json"}},
    {0, {"lock", "status", "free-one"}},
    {0, {"lock", "release", "free-one", "--force"}}, /* free afterwards, as asked */
    {0, {"maintenance", "compact"}},
    {0, {"maintenance", "archive", "--older-than", "1s", "--json"}},
    {0, {"maintenance", "snapshots"}},
    {0, {"maintenance", "snapshots", "--json"}},
    {4, {"maintenance", "restore-snapshot", "--id", "1-19700101T000000Z"}},
    {0, {"cron", "list"}},
    {0, {"cron", "list", "--json"}},
    {4, {"cron", "run", "nosuch"}},
    {4, {"cron", "enable", "nosuch"}},
    {0, {"runbook", "list"}}, /* no runbooks yet */
    {0, {"runbook", "check"}},
    {4, {"runbook", "check", "nosuch.json"}},
    {4, {"cron", "disable", "nosuch"}},
    {2, {"events"}}, /* only --follow: there is no event history */
    {4, {"done"}},                /* the pipeline of OTTER_TASK does not exist */
    {4, {"checkpoint", "hello"}}, /* nor for a checkpoint */
    {4, {"ask", "anyone there?"}}, /* OJ_SESSION_ID names no session */
    {2, {"events", "--follow", "--kind", "Pipeline.Done"}},
};

/* With one of each thing. Order matters: the destructive ones come last. */
static const struct cmd on_full[] = {
    {0, {"status"}},
    {0, {"status", "--verbose", "--json"}},
    {0, {"pipeline", "list"}},
    {0, {"pipeline", "list", "--all", "--json"}},
    {0, {"pipeline", "status", "{P}"}},
    {0, {"pipeline", "show", "{P}"}},
    {0, {"pipeline", "show", "{P}", "--json"}},
    {0, {"pipeline", "logs", "{P}"}},
    {0, {"pipeline", "logs", "{P}", "--json"}},
    {7, {"pipeline", "wait", "{P}", "--timeout", "1s"}}, /* it is running */
    {0, {"pipeline", "nudge", "{P}", "carry on"}},
    {5, {"pipeline", "resume", "{P}"}}, /* it is running */
    {2, {"run", "walk"}},               /* an input is missing */
    {0, {"session", "list"}},
    {0, {"session", "show", "agent-1"}},
    {0, {"session", "show", "agent-1", "--json"}},
    {0, {"session", "capture", "agent-1"}},
    {0, {"session", "capture", "agent-1", "--tail", "3"}},
    {0, {"session", "send", "agent-1", "hello"}},
    {0, {"session", "send", "agent-1", "--interrupt"}},
    {0, {"session", "nudge", "agent-1"}},
    {2, {"attach", "agent-1"}},   /* no terminal here (test_attach.c has one) */
    {2, {"attach", "{P}", "--read-only"}},
    {0, {"workspace", "list"}},
    {0, {"workspace", "cleanup", "--stale", "--dry-run"}},
    {0, {"lock", "list"}},
    {0, {"lock", "status", "held-one"}},
    {0, {"lock", "status", "held-one", "--json"}},
    {5, {"lock", "acquire", "held-one", "--holder", "someone-else"}},
    {5, {"lock", "release", "held-one", "--holder", "someone-else"}},
    {0, {"cron", "list"}},
    {0, {"cron", "disable", "tick"}},
    {0, {"cron", "enable", "tick"}},
    {0, {"runbook", "list", "--json"}},
    {0, {"runbook", "check", ".oj/runbooks/walk.json"}},
    {0, {"init"}}, /* a starter next to walk.json, then never over it */
    {5, {"init"}},
    {0, {"cron", "run", "tick"}},
    {0, {"maintenance", "snapshot", "--json"}},
    {0, {"maintenance", "compact", "--json"}},
    {5, {"done"}},                /* OTTER_SESSION is not the phase's agent */
    {5, {"checkpoint", "hello"}},
    {4, {"ask", "anyone there?"}},
    {0, {"maintenance", "snapshots", "--json"}},
    {0, {"maintenance", "restore-snapshot", "--latest"}},
    {0, {"pipeline", "restart", "{P}"}},
    {0, {"pipeline", "cancel", "{P}"}},
    {5, {"pipeline", "cancel", "{P}"}}, /* already finished */
    {11, {"pipeline", "wait", "{P}"}},     /* its outcome: cancelled */
    {0, {"pipeline", "logs", "{P}", "-f"}}, /* finished: ends once all is printed */
    {0, {"daemon", "logs", "-n", "5"}},
    {0, {"maintenance", "archive", "--older-than", "1s"}},
    {0, {"lock", "release", "held-one", "--holder", "me"}},
    {0, {"session", "kill", "agent-1"}},
    {0, {"session", "capture", "agent-1", "--follow"}}, /* a dead session: the last screen */
    {5, {"attach", "agent-1"}},   /* dead */
    {0, {"workspace", "cleanup", "--stale"}},
};

static bool pipeline_in_agent_step(void *arg)
{
    (void)arg;
    struct oj_out o = OJ(&e, "pipeline", "status", pipeline_id, "--json");
    cJSON *j = cJSON_Parse(o.out);
    const cJSON *s = cJSON_GetObjectItem(j, "step");
    bool yes = cJSON_IsString(s) && strcmp(s->valuestring, "agent") == 0;
    cJSON_Delete(j);
    oj_out_free(&o);
    return yes;
}

static void must(struct oj_out o, const char *what)
{
    cr_assert_eq(o.code, 0, "%s (%d): %s", what, o.code, o.err);
    oj_out_free(&o);
}

Test(every_command, runs_on_empty_and_full_state_without_harm, .init = setup, .fini = teardown,
     .timeout = 120)
{
    must(OJ(&e, "daemon", "start"), "oj daemon start");
    daemon_pid = env_daemon_pid(&e);
    cr_assert_gt(daemon_pid, 0);
    char *agent_env[] = {"OTTER_TASK=p0a0b0c", "OTTER_PHASE=work", "OJ_SESSION_ID=s0a0b0c", NULL};
    run_all(on_empty, sizeof on_empty / sizeof on_empty[0], "empty", agent_env);

    /* `oj events --follow` until Ctrl-C. */
    pid_t ev = oj_spawn_bg(&e, NULL, NULL, (char *[]){"events", "--follow", NULL});

    /* One of each thing. */
    const char *walk = "{\"pipelines\": {\"walk\": {\"inputs\": [\"name\"], \"phases\": "
                       "[{\"name\": \"work\", \"agent\": {\"command\": \"oj-fake-agent\","
                       " \"prompt\": \"task {name}\", \"idle_timeout\": \"1h\"}}]}},"
                       " \"jobs\": {\"tick\": {\"every\": \"1h\", \"run\": \"true\"}}}";
    cr_assert_eq(env_write_runbook(&e, "walk", walk), 0);
    must(OJ(&e, "lock", "acquire", "held-one", "--holder", "me"), "oj lock acquire");
    must(OJ(&e, "session", "start", "--name", "agent-1", "--", "oj-fake-agent"), "oj session start");
    struct oj_out r = OJ(&e, "run", "walk", "one");
    cr_assert_eq(r.code, 0, "oj run walk: %s", r.err);
    cr_assert_eq(sscanf(r.out, "%15s", pipeline_id), 1);
    oj_out_free(&r);
    cr_assert(wait_until(pipeline_in_agent_step, NULL, 30000), "pipeline %s never ran its agent",
              pipeline_id);
    must(OJ(&e, "maintenance", "snapshot"), "oj maintenance snapshot");
    char task[32];
    snprintf(task, sizeof task, "OTTER_TASK=%s", pipeline_id);
    char *full_env[] = {task, "OTTER_PHASE=work", "OJ_SESSION_ID=s0a0b0c", NULL};
    run_all(on_full, sizeof on_full / sizeof on_full[0], "full", full_env);

    kill(ev, SIGINT);
    cr_expect_eq(child_wait_exit(ev, 10000), 0, "oj events --follow must end cleanly on Ctrl-C");

    /* And the way out. */
    struct oj_out s = OJ(&e, "daemon", "stop");
    cr_expect_eq(s.code, 0, "%s", s.err);
    oj_out_free(&s);
    s = OJ(&e, "status");
    cr_expect_eq(s.code, 3, "%s", s.err);
    oj_out_free(&s);
}
