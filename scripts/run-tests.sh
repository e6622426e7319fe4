#!/usr/bin/env bash
# Runs every test binary of each build given as BUILD_DIR:BIN_DIR (the plain build and the
# AddressSanitizer + UndefinedBehaviorSanitizer build), then prints one total line
# "N passed, N failed". Exit status 0 only when nothing failed or crashed.
set -uo pipefail
cd "$(dirname "$0")/.."

# Sanitizers: fail on the first UB report, report leaks, keep going in forked test workers.
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
# Tests must never touch a user's tmux server or runtime directory.
unset TMUX TMUX_PANE

passed=0 failed=0
for pair in "$@"; do
  build=${pair%%:*} bin=${pair#*:}
  for t in unit e2e; do
    exe="$build/tests/$t"
    [ -x "$exe" ] || { echo "run-tests: $exe is missing (run make tests)"; failed=$((failed + 1)); continue; }
    echo "== $exe (oj: $bin/oj)"
    log=$(mktemp)
    # --verbose names each test as it starts and ends, so a suite that dies or
    # hangs shows which test it was in; --timeout bounds a test that sets none.
    OJ_BIN="$bin/oj" timeout 900 "$exe" --jobs 2 --verbose --timeout 300 > "$log" 2>&1
    rc=$?
    grep -av '^\[RUN \]\|^\[PASS\]' "$log"
    if ! grep -aq 'Synthesis:' "$log"; then
      echo "run-tests: $exe ended with status $rc and no summary; the tests it started and did not finish:"
      grep -a '^\[RUN \]' "$log" | sed 's/^\[RUN \] //' | sort > "$log.run"
      grep -a '^\[\(PASS\|FAIL\)\]' "$log" | sed 's/^\[[A-Z]*\] //; s/: (.*//' | sort > "$log.done"
      comm -23 "$log.run" "$log.done" | sed 's/^/  /'
      rm -f "$log.run" "$log.done"
    fi
    line=$(grep -a 'Synthesis:' "$log" | tail -1)
    rm -f "$log"
    if [ -z "$line" ]; then
      echo "run-tests: $exe printed no summary (crashed or timed out)"
      failed=$((failed + 1))
      continue
    fi
    # [====] Synthesis: Tested: 21 | Passing: 21 | Failing: 0 | Crashing: 0
    p=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
    f=$(sed -E 's/.*Failing: ([0-9]+).*/\1/' <<<"$line")
    c=$(sed -E 's/.*Crashing: ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + p)) failed=$((failed + f + c))
  done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
