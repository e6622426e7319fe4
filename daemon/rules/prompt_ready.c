/* prompt_ready.c — see prompt_ready.h. */
#include "prompt_ready.h"

bool oj_prompt_ready(uint64_t out_bytes, int64_t quiet_ms, int64_t waited_ms)
{
    if (waited_ms >= OJ_PROMPT_WAIT_MAX_MS)
        return true;
    return out_bytes > 0 && quiet_ms >= OJ_PROMPT_SETTLE_MS;
}
