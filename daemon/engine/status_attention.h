/* status_attention.h — what oj status lists first because it needs a human:
 * escalated and failed pipelines, agents waiting for an answer, locks that
 * are stale or held for long (with who waits for them). Cheap enough for
 * every status call: pipelines come from the state's index of those that
 * need a human, sessions from the index of live ones, locks from a walk
 * made at most once a second or after a lock changed. */
#ifndef OJ_STATUS_ATTENTION_H
#define OJ_STATUS_ATTENTION_H
#include <stddef.h>

#include "daemon.h"

/* Fills out's attention fields (40-45); waits are the pipelines that wait
 * (oj_pipelines_waiting), for the locks' waiters. Free them with
 * oj_status_attention_free. */
void oj_status_attention(struct oj_daemon *d, const Oj__PipelineWait *waits, size_t n_waits,
                         Oj__StatusResponse *out);
void oj_status_attention_free(Oj__StatusResponse *out);
/* Frees what the daemon keeps between calls (at the stop). */
void oj_status_attention_forget(struct oj_daemon *d);
#endif
