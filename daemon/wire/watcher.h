/* watcher.h — a thread that follows every session's output log and publishes
 * what is appended (watcher.c says how). It is handed the log folder and the
 * publisher; what it has published of each log can be asked from any thread,
 * from oj_watcher_new until oj_watcher_free, whether its thread runs or not. */
#ifndef OJ_WATCHER_H
#define OJ_WATCHER_H
#include <stddef.h>
#include <stdint.h>

struct oj_publisher;
struct oj_watcher;

/* A watcher with no thread yet (NULL when out of memory). */
struct oj_watcher *oj_watcher_new(void);
/* Follows the logs in log_dir (kept: must outlive the thread) and publishes
 * their new bytes on pub. 0, or -1 with errno (no thread; nothing to stop). */
int oj_watcher_start(struct oj_watcher *w, const char *log_dir, struct oj_publisher *pub);
/* Ends the thread; what it tracked is forgotten (every position is -1 then). */
void oj_watcher_stop(struct oj_watcher *w);
void oj_watcher_free(struct oj_watcher *w); /* NULL is fine */

/* Any thread: how many bytes of the session's log are published (or
 * skipped: a log present at start is followed from its end); -1 when the
 * watcher has not seen the log (or w is NULL). */
int64_t oj_watcher_position(struct oj_watcher *w, const char *id);
/* The bytes at the end of each log the watcher keeps (the bottom of an
 * agent's output, where a prompt waits). */
#define OJ_WATCHER_TAIL_BYTES 4096
/* Any thread: the last bytes (at most cap) of the session's log that the
 * watcher has read, into buf; *end is the log offset just after them. The
 * count, 0 (and *end 0) when it has not seen the log. */
size_t oj_watcher_tail(struct oj_watcher *w, const char *id, char *buf, size_t cap,
                       uint64_t *end);
/* Any thread: stop tracking a session whose record is gone (archived). */
void oj_watcher_drop(struct oj_watcher *w, const char *id);
#endif
