/* progress.h — "still working: <what> (<elapsed>)" while a long operation
 * runs (a compaction, a restore, a start-up that replays a big WAL), so that
 * an operator at a terminal knows oj has not hung. Shown on stderr, refreshed
 * in place, only when stderr is a terminal and only once the operation has
 * taken over a second; piped or redirected output never gets it. The line is
 * wiped when the operation ends, before its result is printed. */
#ifndef OJ_PROGRESS_H
#define OJ_PROGRESS_H

struct oj_progress;

/* Starts the clock for `what` ("compacting the WAL"; copied). Returns NULL
 * when stderr is no terminal (or no thread could be made): nothing is shown
 * then, and oj_progress_stop(NULL) does nothing. */
struct oj_progress *oj_progress_start(const char *what);

/* Ends it: wipes the line if one was shown, frees p. */
void oj_progress_stop(struct oj_progress *p);
#endif
