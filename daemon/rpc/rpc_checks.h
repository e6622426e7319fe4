/* rpc_checks.h — what the request reader (request.h) needs to know of each
 * rpc, handed to the server as data: whether it changes nothing (read-only:
 * its id and reply are not remembered) and its stateless check (what is
 * wrong with a request whatever the daemon's state: an empty command, a
 * negative timeout, a bad lock name). Every rpc of oj.Control is listed once
 * (a unit test holds the table to the service and to docs/protocol.md); the
 * handlers check only what needs the state. */
#ifndef OJ_RPC_CHECKS_H
#define OJ_RPC_CHECKS_H
#include "request.h"

/* Ends with an entry whose name is NULL. */
extern const struct oj_rpc_entry oj_rpc_checks[];
#endif
