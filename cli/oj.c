/* oj.c — the `oj` program. All of it lives in oj_main() so tests can run it. */
#include "cli.h"

int main(int argc, char **argv) { return oj_main(argc, argv); }
