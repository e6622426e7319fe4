/* rpc_table.c — see rpc_table.h. A new group is one line here. */
#include "rpc_table.h"

#include <stddef.h>

static void (*const groups[])(Oj__Control_Service *svc) = {
    oj_rpc_register_daemon,   oj_rpc_register_lock,     oj_rpc_register_maintenance,
    oj_rpc_register_session,  oj_rpc_register_pipeline, oj_rpc_register_workspace,
    oj_rpc_register_cron,
};

void oj_rpc_register_all(Oj__Control_Service *svc)
{
    oj__control__init(svc, NULL);
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        groups[i](svc);
}
