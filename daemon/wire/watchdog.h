/* watchdog.h — a thread that keeps the request and events listeners alive
 * (watchdog.c says why they die). It dials them like a client every
 * interval_ms and has the server or the publisher listen again when a
 * listener stopped accepting. */
#ifndef OJ_WATCHDOG_H
#define OJ_WATCHDOG_H
#include <stdint.h>

struct oj_server;
struct oj_publisher;
struct oj_watchdog;

struct oj_watchdog_opts {
    const char *sock_path, *events_sock_path; /* kept: must outlive the watchdog */
    struct oj_server *server;
    struct oj_publisher *publisher;
    int64_t interval_ms;
};

/* 0 with *out running, or -1 (no thread; nothing to stop). */
int oj_watchdog_start(struct oj_watchdog **out, const struct oj_watchdog_opts *o);
/* Ends the thread and frees w; NULL is fine. */
void oj_watchdog_stop(struct oj_watchdog *w);
#endif
