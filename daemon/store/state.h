/* state.h — everything the daemon knows, in memory: entities by kind and id.
 *
 * An entity is a JSON object (cJSON) under a kind ("lock", "pipeline",
 * "session", "workspace", "cron") and an id. Every change is one operation,
 * the same object that the WAL stores:
 *
 *   {"type":"put","kind":"lock","id":"merge-lock","value":{...}}   create or replace
 *   {"type":"del","kind":"lock","id":"merge-lock"}                 remove
 *   {"type":"mark","note":"..."}                                   no state change
 *   {"type":"base","snapshot":"<id>","snapshot_seq":N}             no state change; the
 *                      first record of a WAL that rests on that snapshot (wal.c)
 *   {"type":"batch","ops":[op,...]}                                several, all or none
 *
 * Applying operations is pure bookkeeping: no I/O, no clock, so replaying the
 * WAL rebuilds exactly the state that was acknowledged, and the tests need no
 * daemon. Whole-value puts make replay idempotent per entity. */
#ifndef OJ_STATE_H
#define OJ_STATE_H
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

struct oj_state;

struct oj_state *oj_state_new(void);
void oj_state_free(struct oj_state *s);

/* Sequence number of the last operation applied (0 for a new state). */
uint64_t oj_state_seq(const struct oj_state *s);
void oj_state_set_seq(struct oj_state *s, uint64_t seq);

const cJSON *oj_state_get(const struct oj_state *s, const char *kind, const char *id);
size_t oj_state_count(const struct oj_state *s, const char *kind);
/* A number that is different after every put or del of an entity of kind,
 * in this state or any other (0: none ever): whoever keeps something worked
 * out from a kind's entities knows whether it still holds. */
uint64_t oj_state_changed(const struct oj_state *s, const char *kind);
size_t oj_state_total(const struct oj_state *s);

/* Calls fn for every entity of `kind`, in no particular order. fn must not
 * change the state. */
void oj_state_each(const struct oj_state *s, const char *kind,
                   void (*fn)(const char *id, const cJSON *value, void *arg), void *arg);

/* ---- indexes: the few among the many ----
 * A state can keep, for a kind, the ids of the entities a predicate says yes
 * to (the active pipelines among every finished one, the live sessions among
 * the dead), updated by every change, so that a walk over the few does not
 * visit the many. An index only makes walks cheaper: a walk over a predicate
 * that has no index looks at every entity instead, with the same result. */
typedef bool (*oj_state_pred)(const cJSON *value);
#define OJ_STATE_MAX_INDEXES 8
/* Keeps an index of (kind, pred) from now on; the entities there are now go
 * in at once. 0, or -1 when out of memory or room (no index then). */
int oj_state_index(struct oj_state *s, const char *kind, oj_state_pred pred);
/* Makes `to` keep the indexes `from` keeps (a state that replaces another).
 * 0, or -1 when one could not be made (walks over it look at everything). */
int oj_state_index_like(struct oj_state *to, const struct oj_state *from);
/* Calls fn for every entity of `kind` that pred says yes to, in no particular
 * order; fn must not change the state. */
void oj_state_each_where(const struct oj_state *s, const char *kind, oj_state_pred pred,
                         void (*fn)(const char *id, const cJSON *value, void *arg), void *arg);
size_t oj_state_count_where(const struct oj_state *s, const char *kind, oj_state_pred pred);

/* Checks that `op` is well-formed without applying it. 0, or -1 + err. */
int oj_state_check(const cJSON *op, char *err, size_t errlen);

/* Applies `op` as operation number `seq`. Returns 0, or -1 with a reason in
 * err when the operation is malformed (the state is then unchanged). */
int oj_state_apply(struct oj_state *s, uint64_t seq, const cJSON *op, char *err, size_t errlen);

/* The whole state as {"<kind>":{"<id>":value,...},...} (caller frees). */
cJSON *oj_state_to_json(const struct oj_state *s);
/* The same without copying the entities: the document refers to the state's
 * own values (cJSON references), so it costs a node per entity instead of a
 * second copy of everything. For printing at once: free it (cJSON_Delete
 * leaves the state's values alone) before the state changes. */
cJSON *oj_state_to_json_view(const struct oj_state *s);
/* Replaces the contents of s with `json` (as made by oj_state_to_json) at seq. */
int oj_state_load_json(struct oj_state *s, const cJSON *json, uint64_t seq, char *err,
                       size_t errlen);

/* Operation builders (caller frees the result). put takes ownership of value. */
cJSON *oj_op_put(const char *kind, const char *id, cJSON *value);
cJSON *oj_op_del(const char *kind, const char *id);
cJSON *oj_op_mark(const char *note);
cJSON *oj_op_base(const char *snapshot_id, uint64_t snapshot_seq);
cJSON *oj_op_batch(cJSON *ops); /* takes ownership of the array */
#endif
