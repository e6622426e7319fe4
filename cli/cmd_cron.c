/* cmd_cron.c — `oj cron …`: scheduled jobs from the runbooks (rpc_cron.c on
 * the daemon side). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "duration.h"

static void human_list(const void *m)
{
    const Oj__CronListResponse *r = m;
    if (r->n_jobs == 0) {
        printf("no scheduled jobs (define them under \"jobs\" in .oj/runbooks/*.json)\n");
        return;
    }
    printf("%-20s %-8s %-8s %-10s %-10s %s\n", "NAME", "EVERY", "ENABLED", "LAST RUN", "NEXT IN",
           "TARGET");
    for (size_t i = 0; i < r->n_jobs; i++) {
        const Oj__CronInfo *j = r->jobs[i];
        char every[32], last[40] = "never", next[32];
        oj_duration_format(j->interval_ms, every, sizeof every);
        if (j->last_run_ms) {
            oj_duration_format(oj_wall_ms() - j->last_run_ms, last, sizeof last - 4);
            snprintf(last + strlen(last), 5, " ago");
        }
        int64_t in = j->next_run_ms - oj_wall_ms();
        oj_duration_format(in > 0 ? in : 0, next, sizeof next);
        printf("%-20s %-8s %-8s %-10s %-10s %s\n", oj_esc(j->name), every,
               j->enabled ? "yes" : "no", last, j->enabled ? next : "-", oj_esc(j->target));
        if (j->last_result[0])
            printf("%-20s last: %s\n", "", oj_esc(j->last_result));
    }
}

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__CronListRequest req = OJ__CRON_LIST_REQUEST__INIT;
    WITH_CLIENT(ctx, c, (oj__control__cron_list(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, human_list)));
}

static int exec_run(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__CronRef req = OJ__CRON_REF__INIT;
    req.name = a->pos[0];
    WITH_CLIENT(ctx, c, (oj__control__cron_run(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, oj_print_action)));
}

static int set_enabled(struct oj_ctx *ctx, const struct oj_args *a, bool on)
{
    Oj__CronSetEnabledRequest req = OJ__CRON_SET_ENABLED_REQUEST__INIT;
    req.name = a->pos[0];
    req.enabled = on;
    WITH_CLIENT(ctx, c, (oj__control__cron_set_enabled(oj_client_service(c), &req, NULL, NULL),
                         oj_print_reply(c, a, oj_print_action)));
}

static int exec_enable(struct oj_ctx *ctx, const struct oj_args *a)
{
    return set_enabled(ctx, a, true);
}
static int exec_disable(struct oj_ctx *ctx, const struct oj_args *a)
{
    return set_enabled(ctx, a, false);
}

static const struct oj_opt json_only[] = {OJ_OPT_JSON, {0}};

const struct oj_cmd oj_cmd_cron_list = {
    "cron", "list", "[--json]", "List scheduled jobs", NULL, json_only, 0, 0, exec_list,
};
const struct oj_cmd oj_cmd_cron_run = {
    "cron", "run", "<name>", "Run a scheduled job now", NULL, json_only, 1, 1, exec_run,
};
const struct oj_cmd oj_cmd_cron_enable = {
    "cron", "enable", "<name>", "Enable a scheduled job", NULL, json_only, 1, 1, exec_enable,
};
const struct oj_cmd oj_cmd_cron_disable = {
    "cron", "disable", "<name>", "Disable a scheduled job", NULL, json_only, 1, 1, exec_disable,
};
