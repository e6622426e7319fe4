/* notifier.h — the project notifier (.oj/config.json "notifier"): a command
 * run for each event of the chosen kinds, with the event as JSON on stdin
 * and in OJ_EVENT_* variables.
 *
 * Whoever publishes an event (the engine, any thread) only hands it over: it
 * is copied into a bounded queue and oj_notifier_event returns at once. The
 * notifier's own thread runs the commands one at a time, in order, each
 * through `sh -c` with a time limit (subprocess.h: past it the command's
 * process group is killed), in the project root, with the daemon's
 * environment and the OJ_EVENT_* variables over it. A failure (an
 * exit status other than 0, a time-out, a command that cannot run) is a
 * warning in the daemon log with its last line of output. When the queue is
 * full the new event is dropped and counted: the first drop of a spell is
 * logged at once, and how many were dropped once the queue has room again. */
#ifndef OJ_NOTIFIER_H
#define OJ_NOTIFIER_H
#include <stddef.h>
#include <stdint.h>

/* Events waiting for their run at most; more are dropped (and counted). */
#define OJ_NOTIFIER_QUEUE_MAX 64

struct oj_notifier;

struct oj_notifier_opts {
    const char *command;          /* a shell command line */
    const char *const *kinds;     /* event kinds or prefixes ending in '.' (event_kind.h) */
    size_t n_kinds;
    int64_t timeout_ms;           /* each run's time limit */
    const char *cwd;              /* where it runs: the project root (OJ_PROJECT) */
    const char *tmp_dir;          /* where each event's JSON file is written for stdin */
    size_t queue_max;             /* 0: OJ_NOTIFIER_QUEUE_MAX */
};

/* Starts the notifier's thread; NULL when out of memory or no thread could
 * be started (errno). Copies what it needs of o. */
struct oj_notifier *oj_notifier_new(const struct oj_notifier_opts *o);

/* One event (what oj.Event holds). Any thread; never waits for a command. */
struct oj_notifier_event {
    uint64_t seq;
    int64_t time_ms;
    const char *kind, *pipeline_id, *session_id, *phase, *message;
};
void oj_notifier_event(struct oj_notifier *n, const struct oj_notifier_event *e);

/* Counts since the start: events run (whatever their outcome), failed, and
 * dropped because the queue was full. Any thread. */
struct oj_notifier_counts {
    uint64_t run, failed, dropped;
};
struct oj_notifier_counts oj_notifier_counts(struct oj_notifier *n);

/* Stops taking events, waits up to wait_ms for the run in progress (the
 * events still queued are dropped, counted and logged), then frees n. A run
 * that outlasts the wait is left to its time limit; the thread frees n when
 * it ends. */
void oj_notifier_free(struct oj_notifier *n, int64_t wait_ms);
#endif
