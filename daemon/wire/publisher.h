/* publisher.h — the daemon's PUB socket (.oj/events.sock): live session
 * output and events, as described in proto/wire.proto (topic + PubFrame).
 * Any thread may publish; nng's PUB drops messages for a slow subscriber,
 * which the sequence numbers and byte offsets let it notice and repair.
 * Every string goes out valid UTF-8, and only the daemon's own user may
 * subscribe (peer.h). */
#ifndef OJ_PUBLISHER_H
#define OJ_PUBLISHER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oj_publisher;

int oj_pub_start(struct oj_publisher **out, const char *sock_path, char *err, size_t errlen);
void oj_pub_stop(struct oj_publisher *p);
/* Closes the listener and listens again (the watchdog's repair). */
int oj_pub_relisten(struct oj_publisher *p);
/* Also publishes on `url` (tls+tcp://, remote.h) with `tls`, as
 * oj_server_listen_remote. 0, or -1 with err. */
struct nng_tls_config;
int oj_pub_listen_remote(struct oj_publisher *p, const char *url, struct nng_tls_config *tls,
                         char *err, size_t errlen);
/* Also publishes on the dashboard's websocket `url`, as oj_server_listen_ws. */
int oj_pub_listen_ws(struct oj_publisher *p, const char *url, char *err, size_t errlen);

/* One chunk of a session's raw output; `offset` is where it starts in the log. */
void oj_pub_chunk(struct oj_publisher *p, const char *session_id, uint64_t seq, uint64_t offset,
                  const void *data, size_t len);
/* An event; its daemon-wide seq is assigned here. */
void oj_pub_event(struct oj_publisher *p, const char *kind, const char *session_id,
                  const char *pipeline_id, const char *message);
/* The same, about a pipeline's phase. */
void oj_pub_phase_event(struct oj_publisher *p, const char *kind, const char *session_id,
                        const char *pipeline_id, const char *phase, const char *message);
/* An event as published, for a tap (strings never NULL, valid for the call). */
struct oj_pub_event_info {
    uint64_t seq;
    int64_t time_ms;
    const char *kind, *pipeline_id, *session_id, *phase, *message;
};
/* Called for every event after it is published, on the publishing thread: it
 * must not block (the project notifier only queues it). */
typedef void (*oj_pub_tap)(void *arg, const struct oj_pub_event_info *e);
/* Sets (tap NULL: clears) the one tap. Any thread; arg must outlive its use. */
void oj_pub_set_tap(struct oj_publisher *p, oj_pub_tap tap, void *arg);

/* A Heartbeat frame on topic "hb/": the watchdog's check that a new
 * subscriber really gets messages (see watchdog.c). */
#define OJ_PUB_HEARTBEAT_TOPIC "hb/"
void oj_pub_heartbeat(struct oj_publisher *p, uint64_t nonce);
/* True when the message body `msg` is the heartbeat with `nonce`. */
bool oj_pub_is_heartbeat(const void *msg, size_t len, uint64_t nonce);
#endif
