/* cmd_table.c — every command oj knows, in the order `oj --help` lists them.
 * A command is defined in the file of its group; this table only names it. */
#include "cmd.h"

#define X(name) extern const struct oj_cmd name;
#define OJ_COMMANDS                                                                                \
    X(oj_cmd_init)                                                                                 \
    X(oj_cmd_status)                                                                               \
    X(oj_cmd_daemon_start)                                                                         \
    X(oj_cmd_daemon_stop)                                                                          \
    X(oj_cmd_daemon_logs)                                                                          \
    X(oj_cmd_run)                                                                                  \
    X(oj_cmd_pipeline_list)                                                                        \
    X(oj_cmd_pipeline_status)                                                                      \
    X(oj_cmd_pipeline_show)                                                                        \
    X(oj_cmd_pipeline_nudge)                                                                       \
    X(oj_cmd_pipeline_restart)                                                                     \
    X(oj_cmd_pipeline_resume)                                                                      \
    X(oj_cmd_pipeline_cancel)                                                                      \
    X(oj_cmd_pipeline_logs)                                                                        \
    X(oj_cmd_pipeline_wait)                                                                        \
    X(oj_cmd_session_list)                                                                         \
    X(oj_cmd_session_show)                                                                         \
    X(oj_cmd_session_capture)                                                                      \
    X(oj_cmd_session_send)                                                                         \
    X(oj_cmd_session_nudge)                                                                        \
    X(oj_cmd_session_kill)                                                                         \
    X(oj_cmd_session_start)                                                                        \
    X(oj_cmd_attach)                                                                               \
    X(oj_cmd_workspace_list)                                                                       \
    X(oj_cmd_workspace_cleanup)                                                                    \
    X(oj_cmd_workspace_diff)                                                                       \
    X(oj_cmd_lock_list)                                                                            \
    X(oj_cmd_lock_status)                                                                          \
    X(oj_cmd_lock_acquire)                                                                         \
    X(oj_cmd_lock_release)                                                                         \
    X(oj_cmd_maintenance_compact)                                                                  \
    X(oj_cmd_maintenance_snapshot)                                                                 \
    X(oj_cmd_maintenance_snapshots)                                                                \
    X(oj_cmd_maintenance_restore_snapshot)                                                         \
    X(oj_cmd_maintenance_archive)                                                                  \
    X(oj_cmd_cron_list)                                                                            \
    X(oj_cmd_cron_run)                                                                             \
    X(oj_cmd_cron_enable)                                                                          \
    X(oj_cmd_cron_disable)                                                                         \
    X(oj_cmd_runbook_list)                                                                         \
    X(oj_cmd_runbook_check)                                                                        \
    X(oj_cmd_remote_init)                                                                          \
    X(oj_cmd_events)                                                                               \
    X(oj_cmd_dashboard)                                                                            \
    X(oj_cmd_done)                                                                                 \
    X(oj_cmd_checkpoint)                                                                           \
    X(oj_cmd_ask)                                                                                  \
    X(oj_cmd_help)                                                                                 \
    X(oj_cmd_version)                                                                              \
    X(oj_cmd_completion)                                                                           \
    X(oj_cmd_complete)

OJ_COMMANDS
#undef X

#define X(name) &name,
const struct oj_cmd *const oj_cmd_table[] = {OJ_COMMANDS NULL};
#undef X

const struct oj_group oj_groups[] = {
    {"daemon", "start and stop the daemon, read its log"},
    {"pipeline", "watch and steer pipelines"},
    {"session", "agents running in tmux"},
    {"workspace", "git worktrees of pipelines"},
    {"lock", "shared locks such as merge-lock"},
    {"maintenance", "WAL compaction, snapshots, restore, archive"},
    {"cron", "scheduled jobs"},
    {"runbook", "list and check runbooks, no daemon needed"},
    {"remote", "certificates for remote access (oj --remote)"},
    {NULL, NULL},
};
