/* rpc.h — what every rpc handler shares: the one way a handler fails.
 *
 * A handler answers by calling its closure `done` once: with the reply, or
 * with NULL after the call was marked failed. Failing is one statement, the
 * way tmux's commands end with `cmdq_error(...); return CMD_RETURN_ERROR;`:
 *
 *     if (bad)
 *         OJ_FAIL_RETURN(call, done, OJ__STATUS_CODE__INVALID_ARGUMENT, "%s", bad);
 *
 * sets the status and a one-line message (what was wrong, what to do),
 * answers with no payload and returns from the handler. OJ_FAIL does the
 * same without the return (in an if/else chain). When a helper (a resolver)
 * has already marked the call failed, OJ_FAILED_RETURN answers and returns. */
#ifndef OJ_RPC_H
#define OJ_RPC_H
#include "oj.pb-c.h"
#include "server.h"

#define OJ_FAIL_RETURN(call, done, status, ...)                                                    \
    do {                                                                                          \
        oj_call_fail((call), (status), __VA_ARGS__);                                              \
        (done)(NULL, (call));                                                                     \
        return;                                                                                   \
    } while (0)

#define OJ_FAIL(call, done, status, ...)                                                            \
    do {                                                                                          \
        oj_call_fail((call), (status), __VA_ARGS__);                                              \
        (done)(NULL, (call));                                                                     \
    } while (0)

#define OJ_FAILED_RETURN(call, done)                                                               \
    do {                                                                                          \
        (done)(NULL, (call));                                                                     \
        return;                                                                                   \
    } while (0)

/* The answer of every command that acts on one thing: its id and one line
 * saying what was done (ActionResponse). */
static inline void oj_reply_action(void *call, Oj__ActionResponse_Closure done, const char *id,
                                   const char *message)
{
    Oj__ActionResponse out = OJ__ACTION_RESPONSE__INIT;
    out.id = (char *)id;
    out.message = (char *)message;
    done(&out, call);
}
#endif
