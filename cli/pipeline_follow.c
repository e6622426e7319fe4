/* pipeline_follow.c — see pipeline_follow.h.
 *
 * Gap-free by construction: the daemon hands out the output by cursor (part,
 * offset), so a reader asks for "what comes after what I have" and can never
 * skip a byte. The events socket only says when to ask: a pipeline event of
 * this pipeline, or output of the agent whose part the cursor stands in.
 * Messages that arrive together are answered by one request (coalesced), and
 * without any for a second it asks anyway, so a dropped message (PUB drops
 * for slow readers) costs at most a second, never output. */
#include "pipeline_follow.h"

#include <limits.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "duration.h"
#include "pb_json.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

int oj_exit_for_outcome(const char *state)
{
    if (strcmp(state, "done") == 0)
        return OJ_EXIT_OK;
    if (strcmp(state, "failed") == 0)
        return OJ_EXIT_PIPELINE_FAILED;
    if (strcmp(state, "cancelled") == 0)
        return OJ_EXIT_PIPELINE_CANCELLED;
    if (strcmp(state, "escalated") == 0)
        return OJ_EXIT_NEEDS_HUMAN;
    return -1;
}

/* A subscription to the events socket (ev/), or false with the error said. */
static bool subscribe(struct oj_ctx *ctx, nng_socket *sub)
{
    char url[PATH_MAX + 8];
    snprintf(url, sizeof url, "ipc://%s", ctx->paths.events_sock_path);
    int rv = nng_sub0_open(sub);
    if (rv == 0) {
        nng_socket_set_int(*sub, NNG_OPT_RECVBUF, 8192);
        nng_socket_set_size(*sub, NNG_OPT_RECVMAXSZ, 4u * 1024 * 1024);
        nng_socket_set(*sub, NNG_OPT_SUB_SUBSCRIBE, "ev/", 3);
        rv = nng_dial(*sub, url, NULL, 0);
        if (rv != 0)
            nng_close(*sub);
    }
    if (rv != 0)
        oj_errorf("cannot subscribe to the daemon's events at %s: %s",
                  ctx->paths.events_sock_path, nng_strerror(rv));
    return rv == 0;
}

/* Whether a message concerns pipeline id (its events) or agent sid (its
 * output); anything unreadable counts, to be safe. */
static bool concerns(nng_msg *m, const char *id, const char *sid)
{
    const uint8_t *body = nng_msg_body(m);
    size_t len = nng_msg_len(m);
    if (len >= 4 && memcmp(body, "out/", 4) == 0)
        return true; /* only the agent's output is subscribed to */
    if (len < 3 || memcmp(body, "ev/", 3) != 0)
        return false; /* heartbeats */
    Oj__PubFrame *f = oj__pub_frame__unpack(NULL, len - 3, body + 3);
    if (f == NULL)
        return true;
    bool yes = f->event == NULL || strcmp(f->event->pipeline_id, id) == 0 ||
               (sid[0] && strcmp(f->event->session_id, sid) == 0);
    oj__pub_frame__free_unpacked(f, NULL);
    return yes;
}

/* Waits up to ms for a message that concerns the pipeline, then takes the
 * others that came with it (up to 100 ms more): one request answers them all. */
static void await_news(nng_socket sub, int ms, const char *id, const char *sid)
{
    int64_t until = oj_mono_ms() + ms;
    bool news = false;
    while (!interrupted) {
        int64_t left = (news ? 0 : until - oj_mono_ms());
        if (!news && left <= 0)
            return;
        nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, news ? 100 : (int)(left < 200 ? left : 200));
        nng_msg *m;
        int rv = nng_recvmsg(sub, &m, 0);
        if (rv != 0) {
            if (news || rv != NNG_ETIMEDOUT)
                return;
            continue;
        }
        news = concerns(m, id, sid) || news;
        nng_msg_free(m);
    }
}

struct reader {
    char id[16];      /* the full id, from the first answer */
    uint32_t part;
    uint64_t offset;
    char sid[16];     /* the agent whose part the cursor stands in */
    char state[16];
    bool complete;
    char last_source[16];
    bool started, need_nl;
};

static void print_piece(struct reader *r, const Oj__LogPiece *p)
{
    bool session = strcmp(p->source, "pipeline") != 0;
    if (p->first || strcmp(r->last_source, p->source) != 0) {
        if (r->need_nl)
            putchar('\n');
        if (session)
            printf("==> agent session %s (phase %s) <==\n", oj_esc(p->source), oj_esc(p->phase));
        else if (r->started)
            printf("==> pipeline %s <==\n", oj_esc(r->id));
        r->need_nl = false;
    }
    if (p->data.len) {
        fwrite(p->data.data, 1, p->data.len, stdout);
        r->need_nl = p->data.data[p->data.len - 1] != '\n';
    }
    snprintf(r->last_source, sizeof r->last_source, "%s", p->source);
    r->started = true;
}

/* Asks for everything after the cursor and prints it. Returns an exit code. */
static int fetch(struct oj_client *c, const char *query, struct reader *r, bool json,
                 bool follow)
{
    for (;;) {
        Oj__PipelineLogsRequest req = OJ__PIPELINE_LOGS_REQUEST__INIT;
        req.id = (char *)(r->id[0] ? r->id : query);
        req.part = r->part;
        req.offset = r->offset;
        req.follow = follow;
        Oj__PipelineLogsResponse *resp;
        if (OJ_RPC(c, oj__control__pipeline_logs, &req, &resp) != OJ__STATUS_CODE__OK)
            return oj_call_failed(c);
        snprintf(r->id, sizeof r->id, "%s", resp->pipeline_id);
        snprintf(r->sid, sizeof r->sid, "%s", resp->session_id);
        snprintf(r->state, sizeof r->state, "%s", resp->state);
        r->complete = resp->complete;
        bool moved = resp->part != r->part || resp->offset != r->offset;
        r->part = resp->part;
        r->offset = resp->offset;
        if (json && (resp->n_pieces || !r->started)) { /* at least one object */
            r->started = true;
            cJSON *j = oj_pb_to_json(&resp->base);
            char *s = cJSON_PrintUnformatted(j);
            if (s)
                puts(s);
            cJSON_free(s);
            cJSON_Delete(j);
        } else if (!json) {
            for (size_t i = 0; i < resp->n_pieces; i++)
                print_piece(r, resp->pieces[i]);
        }
        size_t n = resp->n_pieces;
        oj_client_free_reply(resp);
        fflush(stdout);
        if (n == 0 || !moved)
            return OJ_EXIT_OK; /* nothing more now */
    }
}

int oj_pipeline_print_logs(struct oj_ctx *ctx, struct oj_client *c, const char *query,
                           bool follow, bool json, char *state, size_t statelen)
{
    struct reader r = {0};
    nng_socket sub;
    /* Subscribe first, then read: nothing falls between the two. */
    if (follow && !subscribe(ctx, &sub))
        return OJ_EXIT_FAILURE;
    int rc = fetch(c, query, &r, json, follow);
    if (!follow || rc != OJ_EXIT_OK) {
        if (follow)
            nng_close(sub);
        if (r.need_nl && !json)
            putchar('\n');
        if (state)
            snprintf(state, statelen, "%s", r.state);
        return rc;
    }
    interrupted = 0;
    struct sigaction sa = {.sa_handler = on_sigint}, old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    char topic[48] = "";
    while (rc == OJ_EXIT_OK && !r.complete && !interrupted) {
        char want[48] = "";
        if (r.sid[0])
            snprintf(want, sizeof want, "out/%s/", r.sid);
        if (strcmp(want, topic) != 0) { /* listen to the output of the agent at work */
            if (topic[0])
                nng_socket_set(sub, NNG_OPT_SUB_UNSUBSCRIBE, topic, strlen(topic));
            if (want[0])
                nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, want, strlen(want));
            snprintf(topic, sizeof topic, "%s", want);
        }
        await_news(sub, 1000, r.id, r.sid);
        if (!interrupted)
            rc = fetch(c, query, &r, json, true);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    nng_close(sub);
    if (r.need_nl && !json)
        putchar('\n');
    fflush(stdout);
    if (state)
        snprintf(state, statelen, "%s", r.state);
    return rc;
}

static void say_outcome(const Oj__PipelineStatusResponse *s)
{
    const Oj__PipelineSummary *p = s->pipeline;
    printf("%s: %s", oj_esc(p->id), oj_esc(p->state));
    if (strcmp(p->state, "done") != 0 && s->last_error[0])
        printf(": %s", oj_esc(s->last_error));
    if (strcmp(p->state, "escalated") == 0 || strcmp(p->state, "failed") == 0)
        printf(" (look: oj pipeline logs %s; then oj pipeline resume %s)", oj_esc(p->id),
               oj_esc(p->id));
    printf("\n");
}

int oj_pipeline_await(struct oj_ctx *ctx, struct oj_client *c, const char *query,
                     int64_t timeout_ms, bool json)
{
    nng_socket sub;
    if (!subscribe(ctx, &sub))
        return OJ_EXIT_FAILURE;
    int64_t deadline = timeout_ms > 0 ? oj_mono_ms() + timeout_ms : INT64_MAX;
    char id[16] = "";
    int rc;
    for (;;) {
        Oj__PipelineRef ref = OJ__PIPELINE_REF__INIT;
        ref.id = (char *)(id[0] ? id : query);
        Oj__PipelineStatusResponse *s;
        if (OJ_RPC(c, oj__control__pipeline_status, &ref, &s) != OJ__STATUS_CODE__OK) {
            rc = oj_call_failed(c);
            break;
        }
        snprintf(id, sizeof id, "%s", s->pipeline->id);
        rc = oj_exit_for_outcome(s->pipeline->state);
        if (rc >= 0) {
            if (json)
                oj_print_json(&s->base);
            else
                say_outcome(s);
            oj_client_free_reply(s);
            break;
        }
        char st[16];
        snprintf(st, sizeof st, "%s", s->pipeline->state);
        oj_client_free_reply(s);
        int64_t left = deadline - oj_mono_ms();
        if (left <= 0) {
            char t[32];
            oj_duration_format(timeout_ms, t, sizeof t);
            oj_errorf("pipeline %s is still %s after %s; wait again, or see `oj pipeline status "
                      "%s`", id, st, t, id);
            rc = OJ_EXIT_TIMEOUT;
            break;
        }
        /* every pipeline event of it may be its end; ask again after one, or
         * every 2 s at the latest (an event may be dropped) */
        await_news(sub, left < 2000 ? (int)left : 2000, id, "");
    }
    nng_close(sub);
    return rc;
}
