#!/bin/sh
# fake-agent.sh — the stand-in for a coding agent in oj's tests: it prints a
# greeting with its environment, then answers every line it is sent (so
# send and nudge can be seen to arrive), goes quiet between lines like an agent
# thinking, and understands a few commands:
#   exit N      exit with status N
#   burst N     print N numbered lines at once
#   env         print the oj/otter environment it sees
#   done        call `oj done` (finish the phase)
# Ctrl-C makes it say so and carry on, like an agent cancelling its current step.
got_int=0
trap 'got_int=1; echo "interrupted (Ctrl-C)"' INT
echo "fake agent ready (task=${OTTER_TASK-unset} phase=${OTTER_PHASE-unset})"
while :; do
  if ! IFS= read -r line; then
    # Ctrl-C interrupts the read: carry on. End of input: stop.
    if [ "$got_int" = 1 ]; then got_int=0; continue; fi
    exit 0
  fi
  case "$line" in
    exit\ *) echo "exiting with ${line#exit }"; exit "${line#exit }" ;;
    burst\ *) i=1; while [ "$i" -le "${line#burst }" ]; do echo "line $i"; i=$((i + 1)); done ;;
    env) echo "OTTER_TASK=${OTTER_TASK-unset} OTTER_WORKSPACE=${OTTER_WORKSPACE-unset}" \
              "OTTER_PHASE=${OTTER_PHASE-unset} OJ_SESSION_ID=${OJ_SESSION_ID-unset}" \
              "TMUX=${TMUX-unset} PWD=$PWD" ;;
    done) oj done && echo "oj done ok" || echo "oj done failed: $?" ;;
    *) echo "got: $line" ;;
  esac
done
