/* --json prints replies with the field names of proto/oj.proto. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdlib.h>

#include "oj.pb-c.h"
#include "pb_json.h"
#include "wire.pb-c.h"

Test(pb_json, field_names_and_types_follow_the_proto)
{
    Oj__StatusResponse s = OJ__STATUS_RESPONSE__INIT;
    s.version = "1.2.3";
    s.pid = 99;
    s.max_sessions = 10;
    s.draining = true;
    s.rss_bytes = (1ULL << 53) + 1; /* too big for a double: must become a string */
    s.newest_snapshot_age_ms = -1;
    cJSON *j = oj_pb_to_json(&s.base);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "version")->valuestring, "1.2.3");
    cr_expect_eq(cJSON_GetObjectItem(j, "pid")->valueint, 99);
    cr_expect_eq(cJSON_GetObjectItem(j, "max_sessions")->valueint, 10);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "draining")));
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(j, "rss_bytes")));
    cr_expect_str_eq(cJSON_GetObjectItem(j, "rss_bytes")->valuestring, "9007199254740993");
    cr_expect_eq(cJSON_GetObjectItem(j, "newest_snapshot_age_ms")->valuedouble, -1);
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(j, "project_root")), "unset strings are \"\"");
    cJSON_Delete(j);
}

Test(pb_json, repeated_and_nested_messages_and_enums)
{
    Oj__LockInfo a = OJ__LOCK_INFO__INIT, b = OJ__LOCK_INFO__INIT;
    a.name = "merge-lock";
    a.held = true;
    b.name = "other";
    Oj__LockInfo *locks[] = {&a, &b};
    Oj__LockListResponse l = OJ__LOCK_LIST_RESPONSE__INIT;
    l.n_locks = 2;
    l.locks = locks;
    cJSON *j = oj_pb_to_json(&l.base);
    cJSON *arr = cJSON_GetObjectItem(j, "locks");
    cr_assert(cJSON_IsArray(arr));
    cr_assert_eq(cJSON_GetArraySize(arr), 2);
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "name")->valuestring,
                     "merge-lock");
    cJSON_Delete(j);

    Oj__ReplyFrame r = OJ__REPLY_FRAME__INIT;
    r.status = OJ__STATUS_CODE__NOT_FOUND;
    r.message = "";
    j = oj_pb_to_json(&r.base);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "status")->valuestring, "NOT_FOUND");
    cJSON_Delete(j);
}
