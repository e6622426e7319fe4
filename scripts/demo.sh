#!/usr/bin/env bash
# The main job, as far as it exists, end to end on this machine: a throwaway git repo, the
# daemon started in it, an agent (the scripted fake agent) running in the daemon's private
# tmux server and answering, a lock taken and released, a snapshot, and a clean stop that
# leaves the agent running. (Pipelines join this demo when the pipelines work lands.)
# Run through `make demo`, which builds bin/oj first.
set -euo pipefail
cd "$(dirname "$0")/.."
OJ="$PWD/bin/oj"
[ -x "$OJ" ] || { echo "demo: build first (make)"; exit 1; }

repo=$(mktemp -d /tmp/oj-demo.XXXXXX)
AGENT="$PWD/tests/agents/fake-agent.sh"
cleanup() {
  "$OJ" -C "$repo" daemon stop --force >/dev/null 2>&1 || true
  tmux -S "$repo/.oj/tmux.sock" kill-server 2>/dev/null || true
  rm -rf "$repo"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

git -C "$repo" init -q -b main
git -C "$repo" -c user.name=demo -c user.email=demo@oj.invalid commit -q --allow-empty -m init
cd "$repo"
echo "demo repository: $repo"

# Polls until the session's screen shows $2 (at most 10 s).
wait_screen() {
  for _ in $(seq 1 200); do
    "$OJ" session capture "$1" 2>/dev/null | grep -qF "$2" && return 0
    sleep 0.05
  done
  echo "demo: '$2' never appeared on $1" >&2
  return 1
}

run "$OJ" daemon start
run "$OJ" daemon start          # a second start changes nothing
run "$OJ" status
run "$OJ" session start --name agent -- "$AGENT"
wait_screen agent "fake agent ready"
run "$OJ" session send agent "please add authentication"
wait_screen agent "got: please add authentication"
run "$OJ" session list
run "$OJ" session capture agent --tail 5
run "$OJ" lock acquire merge-lock --holder demo
run "$OJ" lock status merge-lock
run "$OJ" lock release merge-lock --holder demo
run "$OJ" maintenance snapshot
run "$OJ" status --verbose
step "$OJ" status --json
"$OJ" status --json | head -12
step git status --short "   # .oj/ stays out of the user's git status"
git status --short
run "$OJ" daemon stop          # the agent keeps running in tmux
run "$OJ" daemon start         # ...and is re-adopted
run "$OJ" session list
run "$OJ" daemon stop
step "$OJ" status "   # exit code 3: not running"
"$OJ" status || echo "(exit $?)"
echo
echo "demo finished: daemon started, an agent ran and answered in tmux, a lock went and came,"
echo "a snapshot was taken, the daemon stopped and was restarted around the running agent."
