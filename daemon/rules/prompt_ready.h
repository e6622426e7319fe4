/* prompt_ready.h — when an agent just started is ready for the first line
 * typed into it (a pipeline phase's prompt). Pure.
 *
 * A terminal echoes what is typed at once, whether or not the program reads
 * yet: a prompt typed while the agent still printed its greeting showed in
 * the middle of it ("build widgetfake agent ready ..."), and its Enter on a
 * line of its own after. So the prompt waits until the agent has printed
 * something and then been quiet for a moment, as a person would before
 * typing; an agent that prints nothing at all before its first line gets it
 * after OJ_PROMPT_WAIT_MAX_MS. */
#ifndef OJ_PROMPT_READY_H
#define OJ_PROMPT_READY_H
#include <stdbool.h>
#include <stdint.h>

#define OJ_PROMPT_SETTLE_MS 300    /* quiet this long after output: ready */
#define OJ_PROMPT_WAIT_MAX_MS 10000 /* waited this long since the start: type anyway */

/* out_bytes: the agent's output so far; quiet_ms: since its output last
 * grew; waited_ms: since it started. */
bool oj_prompt_ready(uint64_t out_bytes, int64_t quiet_ms, int64_t waited_ms);
#endif
