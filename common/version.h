/* version.h — the one place oj's version lives (printed by `oj --version`,
 * returned by Ping and Status, so a CLI can tell it talks to an older daemon). */
#ifndef OJ_VERSION_H
#define OJ_VERSION_H
#define OJ_VERSION "0.1.0"
/* The protocol's version: grows when the .proto files change incompatibly (a field's
 * meaning, an rpc removed). Adding rpcs or fields does not change it. */
#define OJ_PROTOCOL_VERSION 1
#endif
