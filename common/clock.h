/* clock.h — wall-clock and monotonic milliseconds. Wall time is for records a
 * person reads (started_at, WAL timestamps); monotonic time is for every
 * timeout and deadline, so a clock step never fires or stalls one. */
#ifndef OJ_CLOCK_H
#define OJ_CLOCK_H
#include <stdint.h>
#include <time.h>

static inline int64_t oj_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t oj_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t oj_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
/* The CLOCK_REALTIME instant `ms` from now, for pthread_cond_timedwait
 * (whose default clock is the wall clock). */
static inline struct timespec oj_deadline_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ms < 0)
        ms = 0;
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}
#endif
