#!/usr/bin/env bash
# The main job, end to end on this machine: a throwaway git repo, the daemon started in it,
# its health shown, and a clean stop. (Pipelines with agents join this demo when the
# pipelines work lands.) Run through `make demo`, which builds bin/oj first.
set -euo pipefail
cd "$(dirname "$0")/.."
OJ="$PWD/bin/oj"
[ -x "$OJ" ] || { echo "demo: build first (make)"; exit 1; }

repo=$(mktemp -d /tmp/oj-demo.XXXXXX)
cleanup() { "$OJ" -C "$repo" daemon stop --force >/dev/null 2>&1 || true; rm -rf "$repo"; }
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

git -C "$repo" init -q -b main
git -C "$repo" -c user.name=demo -c user.email=demo@oj.invalid commit -q --allow-empty -m init
cd "$repo"
echo "demo repository: $repo"

run "$OJ" daemon start
run "$OJ" daemon start          # a second start changes nothing
run "$OJ" status
run "$OJ" status --verbose
run "$OJ" status --resources
step "$OJ" status --json
"$OJ" status --json | head -12
step git status --short "   # .oj/ stays out of the user's git status"
git status --short
run "$OJ" daemon stop
step "$OJ" status "   # exit code 3: not running"
"$OJ" status || echo "(exit $?)"
echo
echo "demo finished: daemon started, answered, stopped cleanly."
