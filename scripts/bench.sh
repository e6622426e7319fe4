#!/usr/bin/env bash
# bench.sh — prints the benchmark report (`make bench`): what one Status call
# through the generated stubs costs against a bare nng req/rep echo, and what
# `oj status` costs against an empty C program. See tests/bench/bench_main.c.
# Expects `make all build/plain/bench/oj-bench build/plain/bench/empty` done.
set -euo pipefail
cd "$(dirname "$0")/.."
OJ_BIN=bin/oj build/plain/bench/oj-bench build/plain/bench/empty
