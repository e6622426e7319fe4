#!/usr/bin/env bash
# The main job, end to end, in a throwaway git repository: the daemon starts there, the
# example runbook (docs/examples/runbook.json) goes into .oj/runbooks/, and two `build`
# pipelines run side by side with the scripted fake agent: a shell step, an agent phase in
# the daemon's private tmux server (its output shown live), then the merge into main under
# merge-lock, which someone else holds at first, so both pipelines wait for it in line.
# Then the results (status, pipeline list and details, workspaces, git history), the stale
# workspaces cleaned up, a `review` pipeline whose agent goes quiet and escalates (its
# notify command runs), an agent that needs input (the project notifier of .oj/config.json
# fires), an agent that outlives a daemon restart, and a clean stop.
#
# Run through `make demo`, which builds bin/oj and bin/oj-fake-agent first. Takes about
# 10 s. Every wait is a poll with a deadline; any failed step stops the demo with a message
# and exit 1. The daemon, its tmux server and the temp dir are always cleaned up
# (KEEP=1 keeps the temp dir to look around in). OJ_BIN picks another oj binary.
set -euo pipefail
cd "$(dirname "$0")/.."
OJ_BIN=${OJ_BIN:-$PWD/bin/oj}
RUNBOOK="$PWD/docs/examples/runbook.json"
if [ ! -x "$OJ_BIN" ] || [ ! -x "$(dirname "$OJ_BIN")/oj-fake-agent" ]; then
  echo "demo: $OJ_BIN or the oj-fake-agent next to it is missing; build first (make)" >&2
  exit 1
fi
BIN_DIR=$(cd "$(dirname "$OJ_BIN")" && pwd)
# `oj` and the runbook's `oj-fake-agent` from this build, ahead of anything installed.
export PATH="$BIN_DIR:$PATH"
for v in $(env | sed -n 's/^\(OJ_[A-Z_]*\)=.*/\1/p'); do # a private setting must not skew it
  [ "$v" = OJ_BIN ] || unset "$v"
done

if [ -t 1 ]; then B=$'\033[1m' D=$'\033[2m' R=$'\033[0m'; else B='' D='' R=''; fi
section() { printf '\n%s== %s ==%s\n' "$B" "$*" "$R"; }
# step CMD...: shows a command, its arguments quoted where the shell would need it.
step() {
  local out='' a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=@%+,#-]+$ ]]; then out+=" $a"; else out+=" \"$a\""; fi
  done
  printf '%s$%s%s\n' "$B" "$out" "$R"
}
note() { printf '%s# %s%s\n' "$D" "$*" "$R"; }

tmp=$(mktemp -d /tmp/oj-demo.XXXXXX)
repo="$tmp/repo"
bg_pids=()
t_start=$SECONDS

cleanup() {
  local rc=$?
  trap - EXIT INT TERM ERR
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -d "$repo/.oj" ]; then
    # Graceful first (it waits for running shell steps), then at once.
    oj -C "$repo" daemon stop --timeout 5s >/dev/null 2>&1 ||
      oj -C "$repo" daemon stop --force >/dev/null 2>&1 || true
    tmux -S "$repo/.oj/tmux.sock" kill-server 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then
    echo "demo: kept $tmp (the repository is $repo)"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "demo: interrupted; cleaning up" >&2; exit 130' INT
trap 'echo "demo: terminated; cleaning up" >&2; exit 143' TERM

die() {
  printf '\ndemo: FAILED: %s\n' "$*" >&2
  if [ -f "$repo/.oj/logs/daemon.log" ]; then
    echo "demo: the daemon log ends with:" >&2
    tail -n 15 "$repo/.oj/logs/daemon.log" | sed 's/^/  /' >&2
  fi
  exit 1
}
trap 'die "line $LINENO: \`$BASH_COMMAND\` exited $?"' ERR

# run CMD...: shows the command, runs it, stops the demo when it fails.
run() {
  step "$@"
  local rc=0
  "$@" || rc=$?
  [ "$rc" -eq 0 ] || die "\`$*\` exited $rc"
}

# wait_for WHAT SECONDS CMD...: polls CMD every 0.1 s until it succeeds, at most SECONDS.
wait_for() {
  local what=$1 tries=$(($2 * 10))
  shift 2
  while ! "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || die "timed out waiting for $what"
    sleep 0.1
  done
}

# field KEY: the first "KEY": "value" string of the JSON on stdin (oj's --json output).
field() { sed -n "s/.*\"$1\":[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }

# wait_pipeline ID KEY REGEX SECONDS: polls `oj pipeline status ID` until its KEY (state,
# phase or step) matches REGEX, at most SECONDS; stops the demo at once when the pipeline
# failed, was cancelled or escalated.
wait_pipeline() {
  local id=$1 key=$2 want=$3 tries=$(($4 * 10)) json val state
  while :; do
    json=$(oj pipeline status "$id" --json 2>&1) || die "oj pipeline status $id: $json"
    val=$(field "$key" <<<"$json")
    [[ $val =~ ^($want)$ ]] && return 0
    state=$(field state <<<"$json")
    case $state in
      failed | cancelled | escalated)
        oj pipeline show "$id" >&2 || true
        die "pipeline $id is $state: $(field last_error <<<"$json")" ;;
    esac
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || die "pipeline $id: $key is still '$val' after $4 s (waited for $want)"
    sleep 0.1
  done
}

# show FILE: a file's text, indented (shell-step logs start lines with `$ ` too).
show() {
  step cat "$1"
  [ -f "$1" ] || die "$1 is missing"
  sed 's/^/  /' "$1"
}

# agent_session PIPELINE PHASE: the id of the (latest) session of that phase; it stays in
# `oj session list` after it ends, so a fast agent cannot be missed.
agent_session() {
  oj session list --json |
    awk -F'"' -v p="$1" -v ph="$2" '$2 == "id" { id = $4 } $2 == "pipeline_id" { pid = $4 }
      $2 == "phase" && pid == p && $4 == ph { found = id } END { if (found == "") exit 1; print found }'
}
screen_has() { oj session capture "$1" 2>/dev/null | grep -qF "$2"; }

# ---------------------------------------------------------------------------------------
section "1. A throwaway git repository"
mkdir "$repo"
cd "$repo"
git init -q -b main
git config user.name "demo"
git config user.email "demo@oj.invalid"
git config commit.gpgsign false
echo "# demo project" > README.md
git add README.md
git commit -q -m "README"
run git log --oneline
note "in $repo"

section "2. The daemon"
note "a project notifier first (.oj/config.json): a line per escalated, failed, done pipeline"
note "and per agent that needs input (the default kinds), shown in section 12"
mkdir -p .oj
cat > .oj/config.json <<EOF_CONFIG
{"notifier": {"command": "echo \\"notified: \$OJ_EVENT_KIND \${OJ_EVENT_PIPELINE:-\$OJ_EVENT_SESSION}: \$OJ_EVENT_MESSAGE\\" >> $tmp/notified.txt"}}
EOF_CONFIG
run cat .oj/config.json
run oj daemon start
run oj status

section "3. The runbook"
mkdir -p .oj/runbooks
run cp "$RUNBOOK" .oj/runbooks/
note "pipeline build: prepare (shell) -> implement (agent: oj-fake-agent --work) -> merge (shell, under merge-lock)"
run oj cron list
# Every event from here on, printed in section 9.
oj events --follow > "$tmp/events.txt" 2>&1 &
bg_pids+=($!)
sleep 0.3 # the subscription takes a moment

section "4. Someone else holds merge-lock"
run oj lock acquire merge-lock --holder release-manager

section "5. Two pipelines"
step oj run build auth "add authentication"
id1=$(oj run build auth "add authentication") || die "oj run build auth failed"
echo "$id1"
step oj run build billing "add billing"
id2=$(oj run build billing "add billing") || die "oj run build billing failed"
echo "$id2"
note "oj run prints the id alone on stdout (the rest goes to stderr): id=\$(oj run ...)"

section "6. Phase prepare: a shell step in the pipeline's worktree"
wait_pipeline "$id1" phase 'implement|merge' 10
show ".oj/logs/pipelines/$id1.log"

section "7. Phase implement: the agent in tmux, live"
wait_for "the agent session of pipeline $id1" 10 agent_session "$id1" implement
sid=$(agent_session "$id1" implement)
run oj pipeline status "$id1"
run oj session list
step oj session capture "$sid" --follow
note "(until the session ends: the daemon ends it 2 s after the agent's \`oj done\`)"
rc=0
timeout --foreground 20 oj session capture "$sid" --follow | sed 's/^/  | /' || rc=$?
[ "$rc" -eq 0 ] || die "oj session capture $sid --follow exited $rc (124: still running after 20 s)"

section "8. Phase merge: both pipelines wait for merge-lock"
wait_pipeline "$id1" step lock 15
wait_pipeline "$id2" step lock 15
run oj status
run oj pipeline status "$id1"
run oj lock status merge-lock
note "the release manager is done: the pipelines merge one at a time, in the order they queued"
run oj lock release merge-lock --holder release-manager
run oj pipeline wait "$id1" --timeout 20s
wait_pipeline "$id2" state "done" 20
run oj status

section "9. The results"
run oj pipeline list
run oj pipeline show "$id1"
note "its shell steps' and its agent's output, in the order they ran"
run oj pipeline logs "$id1"
run oj workspace list
run git log --oneline --graph
run cat "work/$id1.md" "work/$id2.md"
step oj events --follow "#" what it printed meanwhile
sed 's/^/  /' "$tmp/events.txt"

section "10. Stale workspaces"
run oj workspace cleanup --stale --dry-run
run oj workspace cleanup --stale
run oj workspace list
run git branch --list
note "the merged branches went with their worktrees"

section "11. An agent that goes quiet: escalation and notify"
note "pipeline review: its agent (oj-fake-agent --mute) never says a word; after its"
note "idle_timeout (3s) its on_stuck chain [\"escalate\"] hands it to a human and runs notify"
step oj run review auth
id3=$(oj run review auth) || die "oj run review auth failed"
echo "$id3"
escalated() { [ "$(oj pipeline status "$id3" --json | field state)" = escalated ]; }
wait_for "pipeline $id3 to escalate" 20 escalated
notified() { grep -q "needs a human" ".oj/logs/pipelines/$id3.log"; }
wait_for "the notify command of pipeline $id3" 10 notified
run oj pipeline status "$id3"
note "oj status lists what needs a human first, with the command to run next"
run oj status
show ".oj/logs/pipelines/$id3.log"
note "the notify command's output, above; a failing notify would show in the recovery steps"
run oj pipeline cancel "$id3"

section "12. An agent that needs input"
run oj session start --name asker -- oj-fake-agent
wait_for "the asker agent to start" 10 screen_has asker "fake agent ready"
note "it asks a permission question and waits for the answer"
run oj session send asker permission
needs_input() { [ "$(oj session show asker --json | field state)" = needs_input ]; }
wait_for "the asker agent to need input" 10 needs_input
run oj session list
run oj session show asker
notified_input() { grep -q "session.needs_input" "$tmp/notified.txt"; }
wait_for "the notifier to fire" 10 notified_input
step cat "$tmp/notified.txt" "#" what the notifier command wrote, one line per event
sed 's/^/  /' "$tmp/notified.txt"
note "oj status lists the agent waiting for an answer above the counts, with what it asks"
run oj status
run oj session send asker y
wait_for "the asker agent to take the answer" 10 screen_has asker "permission answer: y"
run oj session list
run oj session kill asker

section "13. Agents outlive the daemon"
run oj session start --name helper -- oj-fake-agent
wait_for "the helper agent to start" 10 screen_has helper "fake agent ready"
run oj session send helper "are you there?"
wait_for "the helper agent to answer" 10 screen_has helper "got: are you there?"
run oj session capture helper --tail 3
run oj maintenance snapshot
run oj daemon stop
note "the agent keeps running in tmux; a new daemon re-adopts it"
run oj daemon start
run oj session list
run oj session send helper "still there?"
wait_for "the helper agent to answer after the restart" 10 screen_has helper "got: still there?"
run oj session capture helper --tail 2
run oj session kill helper

section "14. Stop"
run oj daemon stop
step oj status "#" exit 3: not running
rc=0
oj status || rc=$?
[ "$rc" -eq 3 ] || die "oj status after the stop exited $rc, not 3"
echo "(exit $rc)"

printf '\n%sdemo finished in %d s%s: two pipelines ran a shell step, an agent and a merge under\n' \
  "$B" $((SECONDS - t_start)) "$R"
echo "merge-lock in their own worktrees, both merges landed on main, the stale workspaces were"
echo "cleaned up, a quiet agent escalated and its notify command ran, an agent needed input and"
echo "the project notifier told of it, and an agent outlived a daemon restart."
