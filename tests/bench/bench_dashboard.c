/* bench_dashboard.c — the "dashboard" figures of `make bench`: what the web page costs.
 *
 *   the bundle: the bytes a browser fetches for the page (index.html, app.js, style.css
 *     and the vendored protobufjs and xterm.js files the daemon serves under /vendor/),
 *     as they are and gzip'ed (zlib, level 6, as `gzip` would), and the two .proto files
 *     the page loads at start;
 *   first paint with 100 pipelines: a daemon with 100 finished pipelines (written straight
 *     into its WAL) serves the page (`oj dashboard`); a headless Chromium
 *     (tests/bench/dashboard_paint.py, cache off) loads it several times. Medians, in ms
 *     from the start of the navigation, of the frame after #pipelines holds its 100 rows
 *     and after every row has its details, against the floor: the page's own files loaded
 *     and run (DOMContentLoaded), which is what the browser costs before oj's part starts.
 * Without Chromium the paint is skipped (said so); scripts/install-deps.sh installs it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "bench.h"
#include "bench_util.h"
#include "clock.h"

#define PIPELINES 100
#define PAINT_RUNS "7"

static bool dash_fail(const char *what, const char *detail)
{
    fprintf(stderr, "oj-bench: dashboard: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    return false;
}

/* The page's files, as the daemon maps them (docs/architecture.md, daemon/dashboard/). */
static const char *const BUNDLE[] = {
    "daemon/dashboard/index.html",
    "daemon/dashboard/app.js",
    "daemon/dashboard/style.css",
    "daemon/dashboard/node_modules/protobufjs/dist/protobuf.min.js",
    "daemon/dashboard/node_modules/@xterm/xterm/lib/xterm.js",
    "daemon/dashboard/node_modules/@xterm/xterm/css/xterm.css",
};
static const char *const PROTOS[] = {"proto/wire.proto", "proto/oj.proto"};

/* Size of a file and of its gzip'ed form; false when it cannot be read. */
static bool sizes(const char *path, size_t *raw, size_t *gz)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return dash_fail(path, strerror(errno));
    size_t cap = 1 << 20, len = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (buf == NULL)
        return dash_fail("out of memory", NULL);
    z_stream z = {0};
    unsigned char *out = NULL;
    bool ok = deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    if (ok) {
        uLong bound = deflateBound(&z, (uLong)len);
        out = malloc(bound);
        z.next_in = buf;
        z.avail_in = (uInt)len;
        z.next_out = out;
        z.avail_out = (uInt)bound;
        ok = out && deflate(&z, Z_FINISH) == Z_STREAM_END;
        *gz = z.total_out;
        deflateEnd(&z);
    }
    *raw = len;
    free(out);
    free(buf);
    return ok || dash_fail("gzip", path);
}

static bool bundle_report(void)
{
    size_t raw_sum = 0, gz_sum = 0, raw, gz;
    printf("\nDashboard bundle: what a browser fetches for the page (gzip -6 by zlib)\n");
    for (size_t i = 0; i < sizeof BUNDLE / sizeof *BUNDLE; i++) {
        if (!sizes(BUNDLE[i], &raw, &gz))
            return dash_fail("run scripts/install-deps.sh (npm ci) first", NULL);
        printf("  %-62s %8zu B  %7zu B gz\n", BUNDLE[i] + strlen("daemon/dashboard/"), raw, gz);
        raw_sum += raw;
        gz_sum += gz;
    }
    printf("  %-62s %8zu B  %7zu B gz\n", "bundle (page + vendor)", raw_sum, gz_sum);
    size_t praw = 0, pgz = 0;
    for (size_t i = 0; i < sizeof PROTOS / sizeof *PROTOS; i++) {
        if (!sizes(PROTOS[i], &raw, &gz))
            return false;
        praw += raw;
        pgz += gz;
    }
    printf("  %-62s %8zu B  %7zu B gz\n", "proto/*.proto (loaded at start)", praw, pgz);
    return true;
}

/* The value after "<key> " in the script's output, -1 when missing. */
static double value_of(const char *out, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
            return atof(p + klen + 1);
    return -1;
}

static bool paint_report(void)
{
    printf("\nDashboard first paint, %d pipelines (headless Chromium, cache off, median of "
           "%s loads)\n", PIPELINES, PAINT_RUNS);
    if (access("/usr/bin/chromium", X_OK) != 0 || access("/usr/bin/chromedriver", X_OK) != 0) {
        printf("  skipped: no /usr/bin/chromium or /usr/bin/chromedriver "
               "(scripts/install-deps.sh installs them)\n");
        return true;
    }
    char assets[PATH_MAX], env_dir[PATH_MAX + 32];
    if (realpath("daemon/dashboard", assets) == NULL)
        return dash_fail("daemon/dashboard", strerror(errno));
    snprintf(env_dir, sizeof env_dir, "OJ_DASHBOARD_DIR=%s", assets);
    char *envp[] = {env_dir, NULL};

    struct oj_env e;
    env_setup(&e, false);
    char root[PATH_MAX];
    bool ok = realpath(e.dir, root) != NULL;
    struct walw w;
    ok = ok && walw_open(&w, root);
    int64_t now = oj_wall_ms();
    for (int i = 0; ok && i < PIPELINES; i++) {
        char id[16];
        bench_session_id(i, id);
        ok = walw_put(&w, "session", id, bench_dead_session(root, i, now));
        bench_pipeline_id(i, id);
        ok = ok && walw_put(&w, "pipeline", id, bench_finished_pipeline(root, i, 0, now));
    }
    ok = walw_close(&w) && ok;
    if (!ok)
        dash_fail("cannot write the WAL", root);
    ok = ok && (bench_daemon_start(&e, envp) == 0 || dash_fail("oj daemon start failed", root));

    char url[256] = "", out[4096] = "";
    if (ok) {
        struct oj_out o = oj_run_in(&e, NULL, envp, "dashboard", (char *)NULL);
        const char *u = o.code == 0 ? strstr(o.out, "http://") : NULL;
        if (u)
            snprintf(url, sizeof url, "%.*s", (int)strcspn(u, " \t\r\n"), u);
        else
            ok = dash_fail("oj dashboard printed no URL", o.err);
        oj_out_free(&o);
    }
    if (ok) {
        char rows[16];
        snprintf(rows, sizeof rows, "%d", PIPELINES);
        char *py[] = {"/usr/bin/python3", "tests/bench/dashboard_paint.py", "--url", url,
                      "--rows", rows, "--runs", PAINT_RUNS, NULL};
        int rc = run_prog(NULL, 300000, out, sizeof out, py);
        if (rc != 0)
            ok = dash_fail("dashboard_paint.py failed", out);
    }
    ok = env_teardown(&e) && ok;
    if (!ok)
        return false;
    double dcl = value_of(out, "dcl_ms"), rows = value_of(out, "rows_ms"),
           full = value_of(out, "full_ms");
    if (dcl <= 0 || rows <= 0 || full <= 0)
        return dash_fail("dashboard_paint.py printed no times", out);
    printf("  %-44s %8.1f ms\n", "page files loaded and run (DOMContentLoaded)", dcl);
    printf("  %-44s %8.1f ms\n", "100 rows in #pipelines (PipelineList)", rows);
    printf("  %-44s %8.1f ms\n", "every row's details (100 PipelineStatus)", full);
    printf("ratio: dashboard rows/page-loaded = %.2fx\n", rows / dcl);
    printf("ratio: dashboard details/page-loaded = %.2fx\n", full / dcl);
    return true;
}

bool bench_dashboard_report(void)
{
    bool ok = bundle_report();
    fflush(stdout);
    return paint_report() && ok;
}
