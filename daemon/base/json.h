/* json.h — small helpers for reading and writing members of cJSON objects,
 * for every layer that keeps records as JSON. Pure: no I/O. */
#ifndef OJ_JSON_H
#define OJ_JSON_H
#include <cjson/cJSON.h>
#include <stdint.h>

/* The number v as an integer, clamped to +-2^53 (JSON numbers are doubles;
 * a value outside that range is not an integer we wrote); 0 when v is NULL or
 * not a number. Converting an out-of-range double to an integer type
 * directly is undefined behaviour, so read numbers through this. Inline, so
 * that the pure rules' codecs use it without calling into this layer. */
static inline int64_t oj_json_number(const cJSON *v)
{
    if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble)
        return 0;
    const double lim = 9007199254740992.0; /* 2^53 */
    if (v->valuedouble >= lim)
        return (int64_t)lim;
    if (v->valuedouble <= -lim)
        return -(int64_t)lim;
    return (int64_t)v->valuedouble;
}

/* The integer member `key` of object o (oj_json_number). */
int64_t oj_json_int(const cJSON *o, const char *key);

/* The string member `key`, "" when absent or not a string. */
const char *oj_json_str(const cJSON *o, const char *key);
/* Sets member `key` (replacing it when present). */
void oj_json_set_str(cJSON *o, const char *key, const char *value);
void oj_json_set_num(cJSON *o, const char *key, double value);
#endif
