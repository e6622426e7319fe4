/* rpc_table.h — every rpc group of oj.Control, registered in one place, as
 * cli/cmd_table.c lists every command. daemon_main.c fills the service table
 * with it before the engine starts; the engine then runs whatever handler the
 * table holds and knows none by name. */
#ifndef OJ_RPC_TABLE_H
#define OJ_RPC_TABLE_H
#include "oj.pb-c.h"

/* Initializes svc and has every group fill in its handlers; an rpc no group
 * handles answers NOT_IMPLEMENTED. */
void oj_rpc_register_all(Oj__Control_Service *svc);

/* The groups, one file each (rpc_<group>.c). */
void oj_rpc_register_daemon(Oj__Control_Service *svc);
void oj_rpc_register_lock(Oj__Control_Service *svc);
void oj_rpc_register_maintenance(Oj__Control_Service *svc);
void oj_rpc_register_session(Oj__Control_Service *svc);
void oj_rpc_register_pipeline(Oj__Control_Service *svc);
void oj_rpc_register_workspace(Oj__Control_Service *svc);
void oj_rpc_register_cron(Oj__Control_Service *svc);
#endif
