/* json.c — see json.h. */
#include "json.h"

int64_t oj_json_int(const cJSON *o, const char *key)
{
    return oj_json_number(cJSON_GetObjectItemCaseSensitive(o, key));
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
