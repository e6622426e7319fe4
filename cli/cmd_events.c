/* cmd_events.c — `oj events --follow`: the daemon's events (sessions started,
 * ended, stuck; pipelines later) as they happen, over pub/sub. */
#include <limits.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "event_kind.h"
#include "pb_json.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void print_event(const Oj__Event *ev, bool json)
{
    if (json) {
        cJSON *j = oj_pb_to_json(&ev->base);
        char *s = cJSON_PrintUnformatted(j);
        if (s)
            puts(s);
        cJSON_free(s);
        cJSON_Delete(j);
    } else {
        time_t t = (time_t)(ev->time_ms / 1000);
        struct tm tm;
        char when[32];
        localtime_r(&t, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
        printf("%s %-18s %s%s%s%s\n", when, oj_esc(ev->kind), ev->session_id[0] ? "session " : "",
               oj_esc(ev->session_id), ev->pipeline_id[0] ? " pipeline " : "",
               oj_esc(ev->pipeline_id));
        if (ev->message[0])
            printf("         %s\n", oj_esc(ev->message));
    }
    fflush(stdout);
}

static int exec_events(struct oj_ctx *ctx, const struct oj_args *a)
{
    if (!oj_args_has(a, "follow")) {
        oj_errorf("the daemon keeps no event history yet; use `oj events --follow` to watch them "
                  "live");
        return OJ_EXIT_USAGE;
    }
    const char *kinds[OJ_MAX_NAMED];
    int nkinds = oj_args_all(a, "kind", kinds, OJ_MAX_NAMED);
    for (int i = 0; i < nkinds; i++) {
        const char *bad = oj_event_kind_problem(kinds[i]);
        if (bad) {
            oj_errorf("--kind '%s': %s", kinds[i], bad);
            return OJ_EXIT_USAGE;
        }
    }
    struct oj_client *c;
    int rc = oj_ctx_connect(ctx, &c); /* says clearly when no daemon runs */
    if (rc != 0)
        return rc;
    oj_client_close(c);
    nng_socket sub;
    char where[PATH_MAX + 8] = "";
    int rv = nng_sub0_open(&sub);
    if (rv == 0) {
        nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 200);
        nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "ev/", 3);
        rv = oj_ctx_events_dial(ctx, sub, where, sizeof where); /* local, or --remote */
        if (rv != 0)
            nng_close(sub);
    }
    if (rv != 0) {
        oj_errorf("cannot subscribe to the daemon's events at %s: %s", where, nng_strerror(rv));
        return OJ_EXIT_FAILURE;
    }
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigaction(SIGINT, &sa, &old);
    sigaction(SIGTERM, &sa, NULL);
    bool json = oj_args_has(a, "json");
    while (!interrupted) {
        nng_msg *m;
        rv = nng_recvmsg(sub, &m, 0);
        if (rv == NNG_ETIMEDOUT)
            continue;
        if (rv != 0)
            break;
        Oj__PubFrame *f = nng_msg_len(m) > 3
                              ? oj__pub_frame__unpack(NULL, nng_msg_len(m) - 3,
                                                      (uint8_t *)nng_msg_body(m) + 3)
                              : NULL;
        nng_msg_free(m);
        if (f && f->event && oj_event_kind_any(kinds, (size_t)nkinds, f->event->kind))
            print_event(f->event, json);
        if (f)
            oj__pub_frame__free_unpacked(f, NULL);
    }
    sigaction(SIGINT, &old, NULL);
    nng_close(sub);
    return OJ_EXIT_OK;
}

static const struct oj_opt events_opts[] = {
    {"follow", false, NULL, "print events as they happen until Ctrl-C"},
    {"json", false, NULL, "one JSON object per line (fields of oj.Event in proto/wire.proto)"},
    {"kind", true, "K", "only events of kind K (repeatable; \"session.\" = every session event)"},
    {0},
};

const struct oj_cmd oj_cmd_events = {
    NULL, "events", "--follow [--json] [--kind K]...", "Watch the daemon's events live",
    "Session started/ended/stuck/needs_input, pipeline and cron events (kinds: docs/protocol.md).\n"
    "--kind picks kinds: the exact kind (pipeline.escalated) or a prefix ending in '.'\n"
    "(session.); give it again for more. Ctrl-C ends it (exit 0).",
    events_opts, 0, 0, exec_events,
};
