/* cmd_status.c — `oj status`: the one-screen health summary. */
#include <stdio.h>

#include "cli.h"
#include "clock.h"
#include "duration.h"
#include "watch.h"

static void ago(int64_t since_ms, char *buf, size_t len)
{
    oj_duration_format(oj_wall_ms() - since_ms, buf, len);
}

/* What needs a human, before the counts: each section only when it has
 * something. */
static void print_attention(const Oj__StatusResponse *s)
{
    if (s->runbook_error[0])
        printf("runbooks:   NOT LOADED: %s\n", oj_esc(s->runbook_error));
    if (s->n_attention) {
        printf("needs a human:\n");
        for (size_t i = 0; i < s->n_attention; i++) {
            const Oj__PipelineAttention *a = s->attention[i];
            char t[32];
            ago(a->since_ms, t, sizeof t);
            printf("  %-9s pipeline %s (%s) in phase %s, %s ago%s%s\n", oj_esc(a->state),
                   oj_esc(a->pipeline_id), oj_esc(a->name), oj_esc(a->phase), t,
                   a->last_error[0] ? ": " : "", oj_esc(a->last_error));
            printf("            next: %s\n", oj_esc(a->next));
        }
        if (s->attention_more)
            printf("  ... and %u more escalated or failed: oj pipeline list\n", s->attention_more);
    }
    if (s->n_needs_input) {
        printf("agents waiting for an answer:\n");
        for (size_t i = 0; i < s->n_needs_input; i++) {
            const Oj__SessionAttention *a = s->needs_input[i];
            char t[32];
            oj_duration_format(a->idle_ms, t, sizeof t);
            printf("  session %s (%s)", oj_esc(a->session_id), oj_esc(a->name));
            if (a->pipeline_id[0])
                printf(" of pipeline %s, phase %s", oj_esc(a->pipeline_id), oj_esc(a->phase));
            printf(", quiet %s\n", t);
            if (a->prompt[0])
                printf("            asks: %s\n", oj_esc(a->prompt));
            printf("            next: %s\n", oj_esc(a->next));
        }
    }
    if (s->n_stale_locks) {
        printf("locks to look at:\n");
        for (size_t i = 0; i < s->n_stale_locks; i++) {
            const Oj__LockAttention *a = s->stale_locks[i];
            printf("  %s held by %s, %s", oj_esc(a->name), oj_esc(a->holder), oj_esc(a->why));
            for (size_t j = 0; j < a->n_waiters; j++)
                printf("%s%s", j ? ", " : "; waiting: ", oj_esc(a->waiters[j]));
            printf("\n            next: %s\n", oj_esc(a->next));
        }
        if (s->stale_locks_more)
            printf("  ... and %u more stale or held long: oj lock list\n", s->stale_locks_more);
    }
}

static void print_status(const Oj__StatusResponse *s, bool verbose, bool resources)
{
    char up[32], buf[32];
    oj_duration_format(s->uptime_ms, up, sizeof up);
    printf("oj %s: daemon running (pid %d, up %s)%s\n", oj_esc(s->version), s->pid, up,
           s->draining ? " - stopping" : "");
    print_attention(s);
    printf("pipelines:  %u active", s->active_pipelines);
    if (s->escalated_pipelines)
        printf(" (%u escalated)", s->escalated_pipelines);
    if (s->failed_pipelines)
        printf(", %u failed", s->failed_pipelines);
    printf("\n");
    printf("sessions:   %u active / %u max", s->active_sessions, s->max_sessions);
    if (s->queued_sessions)
        printf(" (%u waiting for a slot)", s->queued_sessions);
    printf("\n");
    for (size_t i = 0; i < s->n_waiting; i++) {
        const Oj__PipelineWait *w = s->waiting[i];
        char since[32];
        oj_duration_format(oj_wall_ms() - w->since_ms, since, sizeof since);
        if (w->lock[0])
            printf("  waiting:  pipeline %s (phase %s) for lock %s, held by %s, for %s\n",
                   oj_esc(w->pipeline_id), oj_esc(w->phase), oj_esc(w->lock),
                   w->holder[0] ? oj_esc(w->holder) : "nobody now", since);
        else
            printf("  waiting:  pipeline %s (phase %s) for a session slot, for %s\n",
                   oj_esc(w->pipeline_id), oj_esc(w->phase), since);
    }
    if (resources || verbose) {
        oj_fmt_bytes(s->rss_bytes, buf, sizeof buf);
        printf("memory:     %s RSS\n", buf);
        oj_fmt_bytes(s->wal_bytes, buf, sizeof buf);
        char walcap[48] = "never compacted";
        if (s->compact_bytes > 0) {
            char c[32];
            oj_fmt_bytes(s->compact_bytes, c, sizeof c);
            snprintf(walcap, sizeof walcap, "compacted past %s", c);
        }
        printf("wal:        %s (%s), %llu records since the last snapshot\n", buf, walcap,
               (unsigned long long)s->wal_records_since_snapshot);
        if (s->snapshot_count) {
            oj_duration_format(s->newest_snapshot_age_ms, up, sizeof up);
            printf("snapshots:  %u of %u kept (newest %s old)\n", s->snapshot_count,
                   s->snapshot_keep, up);
        } else {
            printf("snapshots:  none\n");
        }
        printf("records:    %u session(s), %u pipeline(s) in the live state\n",
               s->session_records, s->pipeline_records);
        char cap[32];
        oj_fmt_bytes(s->reply_cache_bytes, buf, sizeof buf);
        oj_fmt_bytes(s->reply_cache_budget, cap, sizeof cap);
        printf("replies:    %u kept for de-duplication, %s of %s\n", s->reply_cache_entries, buf,
               cap);
        oj_fmt_bytes(s->history_bytes, buf, sizeof buf);
        char keep[32] = "forever";
        if (s->retain_history_ms > 0)
            oj_duration_format(s->retain_history_ms, keep, sizeof keep);
        if (s->history_max_bytes > 0)
            oj_fmt_bytes(s->history_max_bytes, cap, sizeof cap);
        printf("history:    %s in %llu file(s) of %s, kept %s (%llu removed since the start)\n",
               buf, (unsigned long long)s->history_files,
               s->history_max_bytes > 0 ? cap : "no cap", keep,
               (unsigned long long)s->history_removed_files);
        printf("tick:       %.1f ms last, %.1f ms the longest of the last minute\n",
               (double)s->tick_last_us / 1000, (double)s->tick_max_us / 1000);
    }
    if (verbose) {
        printf("project:    %s\n", oj_esc(s->project_root));
        printf("state dir:  %s\n", oj_esc(s->state_dir));
        printf("socket:     %s\n", oj_esc(s->socket_path));
        printf("events:     %s\n", oj_esc(s->events_socket_path));
        printf("log:        %s (level %s)\n", oj_esc(s->log_path), oj_esc(s->log_level));
        printf("requests:   %llu served, %u in flight\n", (unsigned long long)s->requests_served,
               s->requests_in_flight);
        printf("listener:   %u restart(s) by the watchdog\n", s->listener_restarts);
        if (s->n_settings)
            printf("settings:   (flag > environment > project > user > default)\n");
        for (size_t i = 0; i < s->n_settings; i++)
            printf("  %-18s %-8s %s\n", oj_esc(s->settings[i]->key), oj_esc(s->settings[i]->value),
                   oj_esc(s->settings[i]->source));
    }
}

struct status_args {
    bool verbose, resources, json;
};

static int show_status(struct oj_client *c, void *arg)
{
    const struct status_args *sa = arg;
    Oj__StatusRequest req = OJ__STATUS_REQUEST__INIT;
    req.verbose = sa->verbose;
    req.resources = sa->resources;
    Oj__StatusResponse *resp;
    if (OJ_RPC(c, oj__control__status, &req, &resp) != OJ__STATUS_CODE__OK)
        return oj_call_failed(c);
    if (sa->json)
        oj_print_json(&resp->base);
    else
        print_status(resp, req.verbose, req.resources);
    oj_client_free_reply(resp);
    return OJ_EXIT_OK;
}

static int exec_status(struct oj_ctx *ctx, const struct oj_args *a)
{
    struct status_args sa = {oj_args_has(a, "verbose"), oj_args_has(a, "resources"),
                             oj_args_has(a, "json")};
    if (oj_args_has(a, "watch") && sa.json) {
        oj_errorf("--watch redraws a screen and --json prints one object; pick one");
        return OJ_EXIT_USAGE;
    }
    struct oj_client *c;
    int rc = oj_ctx_connect(ctx, &c);
    if (rc != 0)
        return rc;
    rc = oj_args_has(a, "watch") ? oj_watch(ctx, c, "oj status", show_status, &sa)
                                 : show_status(c, &sa);
    oj_client_close(c);
    return rc;
}

static const struct oj_opt status_opts[] = {
    {"verbose", false, NULL, "add diagnostics: paths, log, request counters, storage"},
    {"resources", false, NULL, "show sessions against the limit, memory (RSS) and WAL size"},
    {"watch", false, NULL, "redraw on a terminal whenever something happens; Ctrl-C leaves"},
    OJ_OPT_JSON,
    {0},
};

const struct oj_cmd oj_cmd_status = {
    NULL, "status", "[--verbose] [--resources] [--watch] [--json]",
    "What needs a human, then the daemon's health",
    "First what needs a human, each part only when it has something: a runbook that does\n"
    "not load, escalated and failed pipelines (with their last error and the command to run\n"
    "next), agents waiting for an answer (state needs_input), locks that are stale or held\n"
    "longer than OJ_LOCK_HELD_LONG (default 30m) and who waits for them; then the counts.\n"
    "--watch redraws it in place on a terminal whenever the daemon publishes an event (and\n"
    "every 5 s for the ages); refused (exit 2) when stdout is not a terminal. Ctrl-C: exit 0.\n"
    "Exit status 0 when the daemon answers, 3 when no daemon runs for this project, 9 when\n"
    "the project's .oj/ (and its daemon) belongs to another user.",
    status_opts, 0, 0, exec_status,
};
