#!/usr/bin/env bash
# bench.sh — prints the benchmark report (`make bench`): the request path
# (a Status call against a bare nng echo, `oj status` against an empty
# program), the store (durable changes, start-up replay), sessions (follow
# latency, idle CPU) and pipelines (`oj run` to the agent's first line against
# bare tmux, daemon CPU and memory with 10 pipelines), and the cost as work
# grows (tick, finished, memory, crc), and Status while a slow git, tmux or
# restore runs (nowait), and the dashboard's bundle size and first paint with 100
# pipelines in a headless Chromium (dashboard). OJ_BENCH_ONLY=a,b picks sections. See
# tests/bench/bench_main.c.
# Expects `make all build/plain/bench/oj-bench build/plain/bench/empty
# build/plain/bench/oneshot` done.
set -euo pipefail
cd "$(dirname "$0")/.."
OJ_BIN=bin/oj OJ_BENCH_ONESHOT=build/plain/bench/oneshot \
  build/plain/bench/oj-bench build/plain/bench/empty
