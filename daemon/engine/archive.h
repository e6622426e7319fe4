/* archive.h — finished pipelines and ended sessions leave the live state for
 * a file under .oj/archive/, asked for by `oj maintenance archive` or, past
 * OJ_RETAIN_FINISHED, by the daemon itself on its tick (so that the live
 * state, its snapshots and every list stay a multiple of the live work, not of
 * the history).
 *
 * Three steps so the engine never waits for the disk: on the engine thread,
 * pick what is old enough (rules: oj_pipeline_archivable,
 * oj_session_archivable); on a thread of its own, write and fsync the archive
 * file; back on the engine thread, remove from the live state, in one batch,
 * the records still exactly as archived (one changed meanwhile, e.g. resumed,
 * stays live and its copy in the file is a spare, as after a crash between
 * the file and the journal). Format: docs/storage.md. */
#ifndef OJ_ARCHIVE_H
#define OJ_ARCHIVE_H
#include <stdint.h>

#include "daemon.h"

struct oj_archive_result {
    unsigned pipelines, sessions; /* taken out of the live state */
    char path[4500];              /* the archive file; empty when nothing was old enough */
};

/* Called on the engine thread when the archive is done (rc 0) or failed (rc
 * -1, err says why); with d NULL when the engine ended first (free only). */
typedef void (*oj_archive_done_fn)(struct oj_daemon *d, int rc, const struct oj_archive_result *r,
                                   const char *err, void *arg);

/* Who asks: the operator (oj maintenance archive: every finished pipeline),
 * or retention (the tick: a failed pipeline stays for a human to resume). */
enum oj_archive_by { OJ_ARCHIVE_ASKED, OJ_ARCHIVE_RETENTION };

/* Archives what finished more than older_than_ms (>= 0) ago. done may run
 * before this returns (nothing to archive, or no thread). Engine thread. */
void oj_archive_start(struct oj_daemon *d, enum oj_archive_by by, int64_t older_than_ms,
                      oj_archive_done_fn done, void *arg);

/* From the tick: archives on its own, every minute, what finished more than
 * OJ_RETAIN_FINISHED ago (not when 0), one archive at a time. Engine thread. */
void oj_archive_tick(struct oj_daemon *d);
#endif
