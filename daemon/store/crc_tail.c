/* crc_tail.c — see crc_tail.h. */
#include "crc_tail.h"

#include <stdio.h>
#include <string.h>

#include "crc32.h"

bool oj_crc_hex8(const char *p, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < 8; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        x = x << 4 | (uint32_t)d;
    }
    *v = x;
    return true;
}

int oj_crc_tail_check(const char *text, size_t len, uint32_t *want, uint32_t *got)
{
    if (len <= OJ_CRC_TAIL_LEN ||
        memcmp(text + len - OJ_CRC_TAIL_LEN, OJ_CRC_KEY, sizeof OJ_CRC_KEY - 1) != 0 ||
        text[len - 2] != '"' || text[len - 1] != '}' || !oj_crc_hex8(text + len - 10, want))
        return -1;
    *got = oj_crc32(text, len - OJ_CRC_TAIL_LEN);
    return *want == *got;
}

size_t oj_crc_tail_format(char *buf, uint32_t crc)
{
    return (size_t)snprintf(buf, OJ_CRC_TAIL_LEN + 2, OJ_CRC_KEY "%08x\"}\n", crc);
}
