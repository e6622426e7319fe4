/* reply_cache.h — the replies to the most recent requests, by request id.
 *
 * Why: nng's REQ socket sends a request again after a reconnect (and after
 * its resend timer, which oj clients turn off, but third-party clients may
 * not). Running a non-idempotent call twice (a second `oj run`, a second lock
 * release) is the bug the systems before oj kept hitting. So the daemon keeps
 * the encoded reply of each of the last `capacity` requests and answers a
 * repeated id from here without running anything.
 *
 * Each entry also keeps the request's digest (request.h: method and payload),
 * so that the server answers from here only a true repeat, and refuses a
 * different request that reuses a remembered id.
 *
 * Pure data structure: no locking (the server holds its mutex), no I/O.
 * Replies larger than OJ_REPLY_CACHE_MAX_BYTES, and the oldest ones once all
 * together pass OJ_REPLY_CACHE_BUDGET_BYTES, are remembered as "done, reply
 * too large to keep": a repeat of such a request gets a CONFLICT answer rather
 * than a second run. */
#ifndef OJ_REPLY_CACHE_H
#define OJ_REPLY_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OJ_REPLY_CACHE_MAX_BYTES (256u * 1024)
/* All the kept replies together: past it the oldest replies' bytes go (their
 * ids stay, as "done, reply too large to keep"), so that the cache's memory
 * is bounded by this, not by capacity times the largest reply (256 MiB). */
#define OJ_REPLY_CACHE_BUDGET_BYTES (8u * 1024 * 1024)

struct oj_reply_cache;

struct oj_reply_cache *oj_reply_cache_new(size_t capacity);
void oj_reply_cache_free(struct oj_reply_cache *rc);

/* Remembers the reply bytes for `id` (copied) and the digest of the request
 * they answer, evicting the oldest entry when full. Returns 0, or -1 when out
 * of memory (the id is then not remembered). */
int oj_reply_cache_put(struct oj_reply_cache *rc, uint64_t id, uint64_t digest, const void *data,
                       size_t len);

/* Looks `id` up. Returns false when unknown. When known, *digest is the digest
 * of the request it answered, and *data and *len point at the stored copy
 * (valid until the next put), or are NULL/0 when the reply was too large to
 * keep. */
bool oj_reply_cache_get(const struct oj_reply_cache *rc, uint64_t id, uint64_t *digest,
                        const void **data, size_t *len);

size_t oj_reply_cache_count(const struct oj_reply_cache *rc);
/* The bytes of the replies kept (at most OJ_REPLY_CACHE_BUDGET_BYTES). */
size_t oj_reply_cache_bytes(const struct oj_reply_cache *rc);
#endif
