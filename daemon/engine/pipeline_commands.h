/* pipeline_commands.h — what operators and agents do to a pipeline, on the
 * engine thread: the domain behind `oj pipeline nudge / restart / resume /
 * cancel` and the agents' `oj done` and `oj checkpoint`. rpc_pipeline.c
 * checks the request, resolves the pipeline's id and answers.
 *
 * Each takes the full id of an existing pipeline and returns 0 with the
 * reply's message in msg, or a wire status code (OJ__STATUS_CODE__*) with
 * the reason in msg. */
#ifndef OJ_PIPELINE_COMMANDS_H
#define OJ_PIPELINE_COMMANDS_H
#include <stdbool.h>
#include <stddef.h>

struct oj_daemon;

/* What a command that waits for tmux did, on the engine thread: code 0 with
 * the reply's message, or a wire status code with the reason. d is NULL when
 * the engine ended first: only free arg. */
typedef void (*oj_pipeline_answered)(struct oj_daemon *d, void *arg, int code, const char *msg);
/* Types text into the pipeline's agent (NULL or "": the stuck nudge) and,
 * once tmux has typed it, records the nudge and calls answered. Returns 0
 * when the typing was handed to tmux, else a status code with msg (answered
 * is then not called). */
int oj_pipeline_nudge(struct oj_daemon *d, const char *id, const char *text,
                      oj_pipeline_answered answered, void *arg, char *msg, size_t len);
/* Starts the current phase over: what runs of it is killed, its lock and
 * agent let go; the attempt count carries on. */
int oj_pipeline_restart(struct oj_daemon *d, const char *id, char *msg, size_t len);
/* An escalated or failed pipeline goes on: an escalated agent that still runs
 * keeps running with a fresh recovery chain, else the phase starts again. */
int oj_pipeline_resume(struct oj_daemon *d, const char *id, char *msg, size_t len);
/* Kills what runs, lets go of lock and agent, and ends it cancelled. */
int oj_pipeline_cancel(struct oj_daemon *d, const char *id, char *msg, size_t len);

/* An agent's `oj done` said again (the same session and error as the one
 * recorded): true with the first answer in msg. task is OTTER_TASK, a full
 * id, looked at before any resolving. */
bool oj_pipeline_done_repeat(struct oj_daemon *d, const char *task, const char *session_id,
                             const char *error, char *msg, size_t len);
/* An agent's `oj done` (error "": the phase succeeded). phase and session_id
 * ("" when not known) must be the pipeline's current ones. */
int oj_pipeline_done(struct oj_daemon *d, const char *id, const char *phase,
                     const char *session_id, const char *error, char *msg, size_t len);
/* An agent's `oj checkpoint`: message recorded with the phase. */
int oj_pipeline_checkpoint(struct oj_daemon *d, const char *id, const char *phase,
                           const char *session_id, const char *message, char *msg, size_t len);
#endif
