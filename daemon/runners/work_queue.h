/* work_queue.h — functions run off the caller's thread, so that whoever hands
 * them over (the engine) never waits for a subprocess or the disk.
 *
 * A queue runs its functions one at a time, in the order they were pushed,
 * on a thread of its own: what is pushed later sees what was pushed earlier
 * done (a tmux pane is typed into only after it was made). Each push gets a
 * ticket, the queue's count of pushes: a function with a smaller ticket ran
 * first. oj_work_alone runs one function on a detached thread of its own, for
 * work that needs no order (git, which keeps its own lock, and restores).
 *
 * The queue knows nothing of who receives a result: the function itself
 * hands it on (the engine's side posts it to the engine, engine_work.h). */
#ifndef OJ_WORK_QUEUE_H
#define OJ_WORK_QUEUE_H
#include <stdint.h>

struct oj_work_queue;

/* A new queue and its thread (`name` shows in logs); NULL when no thread. */
struct oj_work_queue *oj_work_queue_new(const char *name);
/* Appends fn(arg): its ticket (1, 2, …), or 0 when out of memory (fn never
 * runs and arg stays the caller's). Any thread. */
uint64_t oj_work_queue_push(struct oj_work_queue *q, void (*fn)(void *arg), void *arg);
/* Runs what is queued, ends the thread and frees q. NULL is fine. */
void oj_work_queue_free(struct oj_work_queue *q);

/* Runs fn(arg) on a detached thread of its own: 0, or -1 when no thread could
 * start (fn never runs and arg stays the caller's). */
int oj_work_alone(void (*fn)(void *arg), void *arg);
#endif
