/* json.c — see json.h. */
#include "json.h"

int64_t oj_json_int(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble)
        return 0;
    const double lim = 9007199254740992.0; /* 2^53 */
    if (v->valuedouble >= lim)
        return (int64_t)lim;
    if (v->valuedouble <= -lim)
        return -(int64_t)lim;
    return (int64_t)v->valuedouble;
}

const char *oj_json_str(const cJSON *o, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) ? s->valuestring : "";
}

void oj_json_set_str(cJSON *o, const char *key, const char *value)
{
    cJSON *n = cJSON_CreateString(value ? value : "");
    if (cJSON_HasObjectItem(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, n);
    else
        cJSON_AddItemToObject(o, key, n);
}

void oj_json_set_num(cJSON *o, const char *key, double value)
{
    cJSON *n = cJSON_CreateNumber(value);
    if (cJSON_HasObjectItem(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, n);
    else
        cJSON_AddItemToObject(o, key, n);
}
