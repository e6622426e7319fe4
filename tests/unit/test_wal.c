/* WAL records: the exact line format and its checksum. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "crc32.h"
#include "state.h"
#include "wal.h"

Test(wal, crc32_is_zlibs)
{
    cr_expect_eq(oj_crc32("123456789", 9), 0xCBF43926u);
    cr_expect_eq(oj_crc32("", 0), 0u);
}

Test(wal, format_then_parse)
{
    cJSON *op = oj_op_put("lock", "merge-lock", cJSON_Parse("{\"holder\":\"a \\\"quoted\\\" \\u00e9 name\",\"n\":1.5}"));
    size_t len;
    char *line = oj_wal_format(42, 1795880280362, op, &len);
    cr_assert_not_null(line);
    cr_expect_eq(line[len - 1], '\n');
    cr_expect(strncmp(line, "{\"seq\":42,\"time\":1795880280362,\"op\":{", 37) == 0, "%s", line);
    /* The checksum is the last member and covers every byte before it. */
    char want[32];
    snprintf(want, sizeof want, ",\"crc\":\"%08x\"}\n", oj_crc32(line, len - 19));
    cr_expect_str_eq(line + len - 19, want);
    struct oj_wal_record rec;
    char err[256];
    cr_assert_eq(oj_wal_parse_line(line, len - 1, true, &rec, err, sizeof err), 0, "%s", err);
    cr_expect_eq(rec.seq, 42);
    cr_expect_eq(rec.time_ms, 1795880280362);
    cr_expect(cJSON_Compare(rec.op, op, 1), "the op survives byte for byte");
    cJSON_Delete(rec.op);
    free(line);
    cJSON_Delete(op);
}

Test(wal, any_flipped_bit_anywhere_in_the_record_is_caught)
{
    /* seq, time, op and the checksum itself: the CRC covers the whole record. */
    cJSON *op = oj_op_put("lock", "x", cJSON_Parse("{\"holder\":\"abc\",\"n\":12345}"));
    size_t len;
    char *line = oj_wal_format(17, 1795880280362, op, &len);
    int caught = 0, total = 0;
    for (char *p = line; p < line + len - 1; p++) {
        for (int bit = 0; bit < 8; bit++) {
            char saved = *p;
            *p ^= (char)(1 << bit);
            struct oj_wal_record rec;
            char err[256];
            total++;
            if (oj_wal_parse_line(line, len - 1, true, &rec, err, sizeof err) != 0)
                caught++;
            else
                cJSON_Delete(rec.op);
            *p = saved;
        }
    }
    cr_expect_eq(caught, total, "%d of %d single-bit flips went unnoticed", total - caught, total);
    free(line);
    cJSON_Delete(op);
}

Test(wal, version_1_lines_are_still_read)
{
    /* Written before the checksum covered the whole record. */
    const char *body = "{\"type\":\"mark\",\"note\":\"x\"}";
    char line[256];
    snprintf(line, sizeof line, "{\"seq\":3,\"time\":1795880280362,\"crc\":\"%08x\",\"op\":%s}",
             oj_crc32(body, strlen(body)), body);
    struct oj_wal_record rec;
    char err[256];
    cr_assert_eq(oj_wal_parse_line(line, strlen(line), true, &rec, err, sizeof err), 0, "%s", err);
    cr_expect_eq(rec.seq, 3);
    cr_expect(rec.legacy);
    cJSON_Delete(rec.op);
    line[strlen(line) - 4] ^= 1; /* in the op */
    cr_expect_eq(oj_wal_parse_line(line, strlen(line), true, &rec, err, sizeof err), -1);
}

Test(wal, rejects_malformed_lines)
{
    const char *bad[] = {
        "",
        "not json",
        "{\"seq\":1,\"time\":1,\"crc\":\"00000000\"}",
        "{\"seq\":1,\"time\":1,\"crc\":\"00000000\",\"op\":{}}",
        "{\"seq\":0,\"time\":1,\"crc\":\"99bf4f6c\",\"op\":{}}",
        "{\"seq\":1,\"time\":1,\"crc\":\"zzzzzzzz\",\"op\":{}}",
        "{\"seq\":\"1\",\"time\":1,\"crc\":\"00000000\",\"op\":{}}",
        "{\"seq\":1,\"time\":1,\"crc\":\"00000000\",\"op\":{",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        struct oj_wal_record rec;
        char err[256];
        cr_expect_eq(oj_wal_parse_line(bad[i], strlen(bad[i]), true, &rec, err, sizeof err), -1,
                     "accepted: %s", bad[i]);
    }
}

Test(wal, crc32_matches_a_bitwise_reference_at_every_length_and_offset)
{
    /* The table-sliced CRC against the plain bit-by-bit definition, over
     * lengths around the 8-byte steps and unaligned starts. */
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += (len < 40 ? 1 : 37)) {
            uint32_t c = 0xFFFFFFFFu;
            for (size_t i = 0; i < len; i++) {
                c ^= buf[off + i];
                for (int k = 0; k < 8; k++)
                    c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            cr_assert_eq(oj_crc32(buf + off, len), c ^ 0xFFFFFFFFu, "len %zu at %zu", len, off);
            cr_assert_eq(oj_crc32_update(oj_crc32(buf + off, len / 3), buf + off + len / 3,
                                         len - len / 3),
                         c ^ 0xFFFFFFFFu, "continued, len %zu", len);
        }
}
