/* cmd_cron.c — `oj cron …`: scheduled jobs from the runbooks. The daemon side
 * arrives with the pipelines work; until then these answer "not implemented
 * yet" (exit 6). */
#include "cli.h"

static int exec_list(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__CronListRequest req = OJ__CRON_LIST_REQUEST__INIT;
    OJ_CALL_AND_PRINT(ctx, oj__control__cron_list, &req, a);
}

static int exec_run(struct oj_ctx *ctx, const struct oj_args *a)
{
    Oj__CronRef req = OJ__CRON_REF__INIT;
    req.name = a->pos[0];
    OJ_CALL_AND_PRINT(ctx, oj__control__cron_run, &req, a);
}

static int set_enabled(struct oj_ctx *ctx, const struct oj_args *a, bool on)
{
    Oj__CronSetEnabledRequest req = OJ__CRON_SET_ENABLED_REQUEST__INIT;
    req.name = a->pos[0];
    req.enabled = on;
    OJ_CALL_AND_PRINT(ctx, oj__control__cron_set_enabled, &req, a);
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
