/* store_jobs.h — the store's long operations, a snapshot and a compaction
 * (asked for, or due after so many records or bytes), off the engine thread:
 * the engine holds writes (daemon.h), the snapshot is written on a thread of
 * its own at a lower priority (engine_work.h), and the engine makes it the
 * live one when it is on disk. Read-only requests are answered meanwhile;
 * every other request waits, in order, for the end. (A restore does the same
 * in rpc_maintenance.c.) */
#ifndef OJ_STORE_JOBS_H
#define OJ_STORE_JOBS_H
#include "daemon.h"
#include "store.h"

/* Called on the engine thread when the snapshot or compaction is done or
 * failed (rc 0, or -1 with err), with writes released. */
typedef void (*oj_maintain_done)(struct oj_daemon *d, int rc, const struct oj_compact_result *r,
                                 const char *err, void *arg);

/* Starts a snapshot or compaction (kind) that ends in done(…, arg). Engine
 * thread; writes must not be held. */
void oj_maintain(struct oj_daemon *d, enum oj_maint_kind kind, oj_maintain_done done, void *arg);

/* The store's opts.maint_due (arg: the daemon): an automatic snapshot or
 * compaction fell due inside a commit; it starts once the running handler
 * or job is over. Engine thread. */
void oj_maintain_when_due(void *arg);
#endif
