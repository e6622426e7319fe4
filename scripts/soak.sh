#!/usr/bin/env bash
# `make soak`: a daemon under a compressed week's load, measured for growth.
#
# In a throwaway git repository the real daemon runs what an unattended installation
# runs, faster: pipelines started at a steady rate (a shell step, the fake agent doing its
# work, then a merge under merge-lock), every two minutes a pipeline whose agent goes mute
# and walks its recovery chain (nudge, restart, escalate) until the operator loop cancels
# it, short sessions of their own, and operators' commands in loops (status, lists,
# capture, compaction, workspace cleanup). The default rates are about what the issue's
# hour-long run sustained on 2 cores; a rate the machine cannot keep up with measures the
# backlog, not the daemon. Every SOAK_SAMPLE_S
# seconds it samples what must not grow without bound: the daemon's RSS, descriptors and
# threads, the processes under the daemon and its tmux server, tmux panes, the records in
# the live state, files and bytes under .oj/, the tick's duration and the latency of
# `oj status`. At the end it fits a least-squares line to the second half of each series
# (the first half fills caches and retention windows), prints each slope per hour and the
# days until it reaches its limit (from the slope less two standard errors, so that noise
# is not growth), and fails when one would within SOAK_DAYS.
#
# Retention is compressed like the load: finished work leaves the live state after
# SOAK_RETAIN_FINISHED (OJ_RETAIN_FINISHED, 30s), its logs go after SOAK_RETAIN_HISTORY
# (OJ_RETAIN_HISTORY, 2m), and daemon.log rotates past 64KB with one old file kept
# (OJ_LOG_MAX_SIZE, OJ_LOG_KEEP), so the run reaches within minutes the steady state a
# week-long run with the defaults reaches within hours (10MB x 6 of daemon.log at about
# 2.5 MB an hour: a day), and a bounded store shows as flat rather than as a slope.
#
# Settings (environment): SOAK_MINUTES (10), SOAK_SAMPLE_S (5), SOAK_PIPELINES_PER_MIN
# (20), SOAK_SESSIONS_PER_MIN (60), SOAK_DAYS (30), SOAK_RETAIN_FINISHED, SOAK_RETAIN_HISTORY,
# SOAK_CSV (the samples as CSV, kept), KEEP=1 (keep the temp dir), OJ_BIN (bin/oj). Not
# part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
OJ_BIN=${OJ_BIN:-$PWD/bin/oj}
MINUTES=${SOAK_MINUTES:-10}
SAMPLE_S=${SOAK_SAMPLE_S:-5}
P_RATE=${SOAK_PIPELINES_PER_MIN:-20}
S_RATE=${SOAK_SESSIONS_PER_MIN:-60}
DAYS=${SOAK_DAYS:-30}
for v in MINUTES SAMPLE_S P_RATE S_RATE DAYS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "soak: $v must be a positive whole number" >&2; exit 2; }
done
[ -x "$OJ_BIN" ] && [ -x "$(dirname "$OJ_BIN")/oj-fake-agent" ] ||
  { echo "soak: $OJ_BIN or oj-fake-agent next to it is missing; build first (make)" >&2; exit 2; }
BIN_DIR=$(cd "$(dirname "$OJ_BIN")" && pwd)
export PATH="$BIN_DIR:$PATH"
for v in $(env | sed -n 's/^\(OJ_[A-Z_]*\)=.*/\1/p'); do
  [ "$v" = OJ_BIN ] || unset "$v"
done

tmp=$(mktemp -d /tmp/oj-soak.XXXXXX)
repo="$tmp/repo"
csv=${SOAK_CSV:-$tmp/samples.csv}
loads=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${loads[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -d "$repo/.oj" ]; then
    oj -C "$repo" daemon stop --timeout 10s >/dev/null 2>&1 ||
      oj -C "$repo" daemon stop --force >/dev/null 2>&1 || true
    tmux -S "$repo/.oj/tmux.sock" kill-server 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "soak: kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$repo/.oj/runbooks"
git -C "$repo" init -q -b main
git -C "$repo" -c user.name=soak -c user.email=soak@oj.invalid commit -q --allow-empty -m start
cat >"$repo/.oj/runbooks/soak.json" <<'EOF'
{
  "pipelines": {
    "work": {
      "inputs": ["name"],
      "phases": [
        {"name": "prepare", "run": "echo preparing {name}", "timeout": "1m"},
        {"name": "implement",
         "agent": {"command": "oj-fake-agent --work", "prompt": "do {name}",
                   "idle_timeout": "1m", "on_stuck": ["nudge", "escalate"]},
         "timeout": "5m"},
        {"name": "merge", "lock": "merge-lock",
         "run": "git -C {project} merge --no-ff --no-edit {branch}", "timeout": "1m",
         "next": "done"}
      ]
    },
    "stuck": {
      "inputs": ["name"],
      "phases": [
        {"name": "review",
         "agent": {"command": "oj-fake-agent --mute", "prompt": "review {name}",
                   "idle_timeout": "2s", "on_stuck": ["nudge", "restart:1", "escalate"]}}
      ]
    }
  }
}
EOF
cd "$repo"
OJ_MAX_SESSIONS=24 OJ_RETAIN_FINISHED=${SOAK_RETAIN_FINISHED:-30s} \
  OJ_RETAIN_HISTORY=${SOAK_RETAIN_HISTORY:-2m} OJ_LOG_MAX_SIZE=64KB OJ_LOG_KEEP=1 \
  oj daemon start >/dev/null
pid=$(oj status --json | sed -n 's/.*"pid":[[:space:]]*\([0-9]*\).*/\1/p' | head -n 1)
[ -n "$pid" ] || { echo "soak: no daemon pid" >&2; exit 1; }
echo "soak: daemon $pid in $repo; ${MINUTES} min, ${P_RATE} pipelines/min," \
  "${S_RATE} sessions/min, a sample every ${SAMPLE_S} s"

# ---- load ----------------------------------------------------------------------------
every() { # every SECONDS CMD...: runs CMD with $i counting up, one start per period
  local period=$1 i=0 next
  shift
  next=$(awk -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t }')
  while :; do
    i=$((i + 1))
    "$@" "$i" >/dev/null 2>&1 || true
    # the period counts from the last start, not from the command's end: the rate holds
    # while the command takes less than the period
    next=$(awk -v n="$next" -v p="$period" 'BEGIN { printf "%.3f", n + p }')
    sleep "$(awk -v n="$next" -v t="$EPOCHREALTIME" 'BEGIN { d = n - t; printf "%.3f", (d > 0 ? d : 0) }')"
  done
}
start_pipeline() { oj run work "w$1"; }
start_stuck() { oj run stuck "s$1"; }
start_session() { oj session start --name "short$1" -- sh -c 'echo hello; sleep 0.3'; }
queries() {
  oj status; oj pipeline list; oj session list; oj lock list
  oj session capture "short$(($1 * 2))" --tail 5 || true
}
maintenance() { oj maintenance compact; oj workspace cleanup --stale; }
cancel_escalated() { # what an operator does with an escalation nobody will answer
  oj pipeline list --active --json | python3 -c '
import json, sys
for p in json.load(sys.stdin).get("pipelines", []):
    if p.get("state") == "escalated":
        print(p["id"])' | while read -r id; do oj pipeline cancel "$id"; done
}
period() { awk -v r="$1" 'BEGIN { printf "%.3f", 60 / r }'; }
every "$(period "$P_RATE")" start_pipeline & loads+=($!)
every "$(period "$S_RATE")" start_session & loads+=($!)
every 120 start_stuck & loads+=($!)
every 30 cancel_escalated & loads+=($!)
every 0.5 queries & loads+=($!)
every 60 maintenance & loads+=($!)

# ---- samples -------------------------------------------------------------------------
tmux_pid=$(tmux -S .oj/tmux.sock display-message -p '#{pid}' 2>/dev/null || echo 0)
descendants() { # the processes under the given pids (not themselves)
  ps -e -o pid=,ppid= | awk -v roots="$*" '
    { parent[$1] = $2 }
    END {
      n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1
      do { added = 0
        for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; added++ }
      } while (added)
      count = 0; for (p in keep) count++; print count - n
    }'
}
json_num() { sed -n "s/.*\"$1\":[[:space:]]*\"\\{0,1\\}\\([0-9]*\\).*/\\1/p" | head -n 1; }
echo "t_s,rss_kb,fds,threads,children,panes,session_records,pipeline_records,oj_kb,oj_files,workspaces,tick_max_ms,status_ms" >"$csv"
t0=$SECONDS
end=$((t0 + MINUTES * 60))
while [ "$SECONDS" -lt "$end" ]; do
  kill -0 "$pid" 2>/dev/null || { echo "soak: FAILED: the daemon died" >&2; exit 1; }
  [ "$tmux_pid" != 0 ] || tmux_pid=$(tmux -S .oj/tmux.sock display-message -p '#{pid}' 2>/dev/null || echo 0)
  a=$(date +%s%N)
  st=$(oj status --resources --json 2>/dev/null || true)
  b=$(date +%s%N)
  # A file or process may go while it is looked at (the sweep, compaction, a session
  # ending): a failed look is an empty sample, never the end of the soak.
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] || { echo "soak: FAILED: the daemon died" >&2; exit 1; }
  fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l || true)
  thr=$(ls "/proc/$pid/task" 2>/dev/null | wc -l || true)
  if [ "$tmux_pid" != 0 ]; then kids=$(descendants "$pid" "$tmux_pid"); else kids=$(descendants "$pid"); fi
  panes=$(tmux -S .oj/tmux.sock list-panes -a 2>/dev/null | wc -l || true)
  srec=$(json_num session_records <<<"$st")
  prec=$(json_num pipeline_records <<<"$st")
  tick=$(json_num tick_max_us <<<"$st")
  # .oj/ without the workspaces: a worktree holds the project's files, which grow with
  # every merge; the daemon's part is how many worktrees there are
  kb=$(du -sk --exclude=workspaces .oj 2>/dev/null | cut -f1 || true)
  files=$(find .oj -path .oj/workspaces -prune -o -print 2>/dev/null | wc -l || true)
  wss=$(find .oj/workspaces -mindepth 1 -maxdepth 1 2>/dev/null | wc -l || true)
  printf '%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' $((SECONDS - t0)) "$rss" "$fds" "$thr" \
    "$kids" "$panes" "${srec:-0}" "${prec:-0}" "$kb" "$files" "$wss" \
    "$(awk -v u="${tick:-0}" 'BEGIN { printf "%.2f", u / 1000 }')" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')" >>"$csv"
  sleep "$SAMPLE_S"
done
for p in "${loads[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
loads=()
states=$(oj pipeline list --all --json 2>/dev/null | python3 -c '
import collections, json, sys
c = collections.Counter(p.get("state") for p in json.load(sys.stdin).get("pipelines", []))
print(" ".join("%s %d" % kv for kv in sorted(c.items())))' || echo "unknown")
errors=$(cat .oj/logs/daemon.log* 2>/dev/null | grep -c ' ERROR ' || true) # the kept part of the log
echo "soak: pipelines by state, live and in the archives still kept (SOAK_RETAIN_HISTORY removes" \
  "older ones): $states; ERROR lines in the kept daemon.log*: $errors"
done_n=$(sed -n 's/.*\(archived\|done\) \([0-9]*\).*/\2/p' <<<"$states" | head -n 1)
bad_load=0
if [ "${errors:-0}" != 0 ]; then echo "soak: FAILED: the daemon logged errors" >&2; bad_load=1; fi
if [ "${done_n:-0}" = 0 ]; then echo "soak: FAILED: no pipeline got through: the load did not run" >&2; bad_load=1; fi

# ---- slopes --------------------------------------------------------------------------
# The limit each series must stay under for SOAK_DAYS: what breaks a default installation
# (descriptors: tmux's and the daemon's 1024; the session list's reply: 64 MiB at about
# 400 B a record; disk and files: what a user would notice; the tick: a tenth of a core).
awk -F, -v days="$DAYS" '
  BEGIN {
    split("rss_kb:1048576 fds:1024 threads:512 children:1024 panes:1024 " \
          "session_records:100000 pipeline_records:100000 oj_kb:1048576 oj_files:100000 " \
          "workspaces:1000 " \
          "tick_max_ms:100 status_ms:200", L, " ")
    for (i in L) { split(L[i], kv, ":"); limit[kv[1]] = kv[2] }
    # The smallest rise that counts as growth over the fitted window: one descriptor
    # more, or a load bump on the shared cores, is a step, not a trend to extrapolate.
    split("rss_kb:1024 fds:2 threads:2 children:8 panes:4 session_records:50 " \
          "pipeline_records:20 oj_kb:1024 oj_files:50 workspaces:4 tick_max_ms:5 " \
          "status_ms:20", S, " ")
    for (i in S) { split(S[i], kv, ":"); step[kv[1]] = kv[2] }
  }
  NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; cols = NF; next }
  { n++; for (i = 1; i <= cols; i++) v[n, i] = $i }
  END {
    if (n < 6) { print "soak: too few samples to fit (" n ")"; exit 1 }
    from = int(n / 2) + 1; bad = 0
    printf "%-18s %12s %12s %14s %12s %s\n", "series", "first", "last", "slope/hour", "limit", "days to limit"
    for (i = 2; i <= cols; i++) {
      sx = sy = sxx = sxy = 0; m = 0
      for (k = from; k <= n; k++) { x = v[k, 1] / 3600; y = v[k, i]; sx += x; sy += y; sxx += x * x; sxy += x * y; m++ }
      slope = (m * sxy - sx * sy) / (m * sxx - sx * sx)
      mx = sx / m; my = sy / m; sres = 0; dxx = 0
      for (k = from; k <= n; k++) {
        x = v[k, 1] / 3600; r = v[k, i] - (my + slope * (x - mx)); sres += r * r; dxx += (x - mx) ^ 2
      }
      se = m > 2 && dxx > 0 ? sqrt(sres / (m - 2) / dxx) : 0
      last = my + slope * (v[n, 1] / 3600 - mx) # the fitted value at the end
      lim = limit[name[i]]
      # Growth counts when the slope is above noise (its lower bound, slope - 2 standard
      # errors, is positive and what the days to the limit are computed from) and the
      # rise over the fitted window is more than one step of the series.
      lo = slope - 2 * se
      span = (v[n, 1] - v[from, 1]) / 3600
      if (lo > 0 && lo * span > step[name[i]]) { d = (lim - last) / lo / 24; ds = sprintf("%.1f", d) }
      else { d = 1e9; ds = slope > 0 ? "flat (within noise)" : "flat" }
      verdict = d < days ? "  GROWS: reaches its limit within " days " days" : ""
      over = 0
      for (k = from; k <= n; k++) if (v[k, i] + 0 > lim) over = 1
      if (over) verdict = verdict "  OVER ITS LIMIT"
      if (d < days || over) bad++
      printf "%-18s %12s %12s %14.1f %12s %s%s\n", name[i], v[1, i], v[n, i], slope, lim, ds, verdict
    }
    if (bad) { printf "soak: FAILED: %d series over or reaching their limit within %d days\n", bad, days; exit 1 }
    printf "soak: nothing reaches its limit within %d days\n", days
  }' "$csv" || bad_fit=1
if [ "$bad_load" != 0 ] || [ "${bad_fit:-0}" != 0 ]; then exit 1; fi
echo "soak: passed"
