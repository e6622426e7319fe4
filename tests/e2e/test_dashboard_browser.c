/* The dashboard in a real browser: the real daemon serves it (`oj dashboard`), a headless
 * Chromium driven by tests/e2e/browser/dashboard.py (Debian's chromium, chromedriver and
 * python3-selenium, installed by scripts/install-deps.sh) loads it with the token, watches
 * a pipeline started by `oj run` appear and change phase, reads the fake agent's output
 * in the terminal view, nudges the agent from the page, and is refused without the token.
 * The script's screenshot is copied to build/dashboard-screenshot.png. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/harness.h"

#define CHROMIUM "/usr/bin/chromium"
#define CHROMEDRIVER "/usr/bin/chromedriver"
#define SCRIPT "tests/e2e/browser/dashboard.py"
#define NUDGE "dashboard says hello"

static struct oj_env e;
static char dash_env[PATH_MAX + 32]; /* OJ_DASHBOARD_DIR=<this tree's daemon/dashboard> */

static void setup(void) { env_setup(&e, true); }
static void teardown(void) { cr_expect(env_teardown(&e), "sanitizer report in the daemon log"); }

/* The value after "<key> " on a line of the script's output, copied into v. */
static bool script_value(const char *out, const char *key, char *v, size_t vlen)
{
    size_t klen = strlen(key);
    for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
            size_t n = strcspn(p + klen + 1, "\n");
            snprintf(v, vlen, "%.*s", (int)(n < vlen ? n : vlen - 1), p + klen + 1);
            return true;
        }
    }
    return false;
}

struct file_has {
    const char *path, *text;
};
static bool file_has(void *arg)
{
    struct file_has *f = arg;
    char *s = read_file(f->path);
    bool ok = s && strstr(s, f->text);
    free(s);
    return ok;
}

static bool copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    bool ok = in && out;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    return ok;
}

Test(dashboard_browser, a_browser_watches_a_pipeline_and_nudges_its_agent, .init = setup,
     .fini = teardown, .timeout = 240)
{
    if (access(CHROMIUM, X_OK) != 0 || access(CHROMEDRIVER, X_OK) != 0)
        cr_skip_test("no %s or %s: run scripts/install-deps.sh (Debian's chromium and "
                     "chromium-driver)", CHROMIUM, CHROMEDRIVER);
    char assets[PATH_MAX];
    cr_assert_not_null(realpath("daemon/dashboard", assets), "daemon/dashboard: %s",
                       strerror(errno));
    snprintf(dash_env, sizeof dash_env, "OJ_DASHBOARD_DIR=%s", assets);
    char *envp[] = {dash_env, NULL};

    struct oj_out o = oj_run_in(&e, NULL, envp, "daemon", "start", (char *)NULL);
    cr_assert_eq(o.code, 0, "oj daemon start: %s", o.err);
    oj_out_free(&o);
    /* prep waits for the browser to have seen it (the script creates `go`), then the
     * agent phase starts the fake agent. */
    char runbook[1024];
    snprintf(runbook, sizeof runbook,
             "{\"pipelines\": {\"web\": {\"inputs\": [], \"phases\": ["
             "{\"name\": \"prep\", \"run\": \"until [ -e %s/go ]; do sleep 0.05; done\"},"
             "{\"name\": \"talk\", \"agent\": {\"command\": \"oj-fake-agent\","
             " \"prompt\": \"hello agent\", \"idle_timeout\": \"10m\"}}]}}}\n",
             e.dir);
    cr_assert_eq(env_write_runbook(&e, "web", runbook), 0, "runbook: %s", strerror(errno));

    o = oj_run_in(&e, NULL, envp, "dashboard", (char *)NULL);
    cr_assert_eq(o.code, 0, "oj dashboard (%d): %s%s", o.code, o.out, o.err);
    const char *u = strstr(o.out, "http://127.0.0.1:");
    cr_assert_not_null(u, "oj dashboard prints no http://127.0.0.1 URL: %s", o.out);
    char url[256];
    snprintf(url, sizeof url, "%.*s", (int)strcspn(u, " \t\r\n"), u);
    oj_out_free(&o);
    cr_assert_not_null(strstr(url, "/?token="), "the URL carries the token: %s", url);

    char go[200], out_dir[200], script_out[16384];
    snprintf(go, sizeof go, "%s/go", e.dir);
    snprintf(out_dir, sizeof out_dir, "%s", e.dir);
    char *py[] = {"/usr/bin/python3", SCRIPT, "--url", url, "--oj", e.oj, "--project", e.dir,
                  "--pipeline", "web", "--first-phase", "prep", "--agent-phase", "talk",
                  "--go", go, "--nudge", NUDGE, "--out", out_dir, "--within-ms", "1000",
                  NULL};
    int rc = run_prog(NULL, 180000, script_out, sizeof script_out, py);

    char shot[PATH_MAX];
    snprintf(shot, sizeof shot, "%s/dashboard.png", e.dir);
    if (access(shot, R_OK) == 0)
        cr_expect(copy_file(shot, "build/dashboard-screenshot.png"),
                  "cannot copy the screenshot to build/dashboard-screenshot.png");
    cr_assert_eq(rc, 0, "the browser script failed (exit %d):\n%s", rc, script_out);

    /* The nudge the page sent is what the agent read (it answers "got: <line>"). */
    char sid[64], log[PATH_MAX];
    cr_assert(script_value(script_out, "session", sid, sizeof sid), "%s", script_out);
    snprintf(log, sizeof log, "%s/.oj/logs/sessions/%s.log", e.dir, sid);
    struct file_has nudged = {log, "got: " NUDGE};
    cr_expect(wait_until(file_has, &nudged, 5000), "the nudge is not in %s", log);
    /* The refused requests are in the daemon's log. */
    char dlog[PATH_MAX];
    snprintf(dlog, sizeof dlog, "%s/.oj/logs/daemon.log", e.dir);
    struct file_has refused = {dlog, "(401)"};
    cr_expect(wait_until(file_has, &refused, 5000), "no refusal (401) in %s", dlog);
}
