/* version.h — the one place oj's version lives (printed by `oj --version`,
 * returned by Ping and Status, so a CLI can tell it talks to an older daemon). */
#ifndef OJ_VERSION_H
#define OJ_VERSION_H
#define OJ_VERSION "0.1.0"
#endif
