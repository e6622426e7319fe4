/* resources.h — figures about the daemon process for `oj status --resources`. */
#ifndef OJ_RESOURCES_H
#define OJ_RESOURCES_H
#include <stdint.h>

/* Resident set size of this process in bytes (0 if unknown). */
uint64_t oj_rss_bytes(void);
#endif
