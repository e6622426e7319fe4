#!/bin/sh
# fake-agent.sh — the stand-in for a coding agent in oj's tests and demo
# (installed next to oj as oj-fake-agent). It prints a greeting with its
# environment, then answers every line it is sent (so send and nudge can be
# seen to arrive), goes quiet between lines like an agent thinking, and
# understands a few commands:
#   exit N      exit with status N
#   burst N     print N numbered lines at once
#   env         print the oj/otter environment it sees
#   done        call `oj done` (finish the phase)
#   permission  print a permission prompt ("Do you want to proceed? [y/n] ", no
#               newline) and wait for the answer (the next line), then say it
#   ask Q       call `oj ask "Q"` (needs input, with a question), then answer
#               lines as usual (the next line it gets is the answer)
#   asklater Q  call `oj ask "Q"`, then, a second later, go on without an answer
#               (prints a line after the question)
# Ctrl-C makes it say so and carry on, like an agent cancelling its current step.
#
# Modes, for pipeline phases (the first line it reads is its task prompt):
#   --work      work on the prompt: print progress, write the prompt to
#               work/<OTTER_TASK>.md in its workspace, commit it, record a
#               checkpoint, then `oj done`; then answer lines as above
#   --fail      say it cannot do the task and `oj done --error`
#   --mute      print the greeting, then never another line (a stuck agent)
mode=${1:-}
got_int=0
trap 'got_int=1; echo "interrupted (Ctrl-C)"' INT
echo "fake agent ready (task=${OTTER_TASK-unset} phase=${OTTER_PHASE-unset})"

work() {
  echo "working on: $1"
  mkdir -p work
  printf '%s\n' "$1" > "work/${OTTER_TASK:-task}.md"
  echo "wrote work/${OTTER_TASK:-task}.md"
  sleep 0.3
  git add "work/${OTTER_TASK:-task}.md" &&
    git -c user.name="fake agent" -c user.email=fake-agent@oj.invalid commit -q -m "fake agent: ${OTTER_TASK:-task}" \
    && echo "committed" || echo "commit failed"
  oj checkpoint "committed work/${OTTER_TASK:-task}.md" >/dev/null && echo "checkpoint recorded"
  sleep 0.3
  oj done && echo "oj done ok" || echo "oj done failed: $?"
}

first=1
while :; do
  if ! IFS= read -r line; then
    # Ctrl-C interrupts the read: carry on. End of input: stop.
    if [ "$got_int" = 1 ]; then got_int=0; continue; fi
    exit 0
  fi
  if [ "$mode" = --mute ]; then continue; fi
  if [ "$first" = 1 ] && [ "$mode" = --work ]; then first=0; work "$line"; continue; fi
  if [ "$first" = 1 ] && [ "$mode" = --fail ]; then
    first=0; echo "cannot do: $line"
    oj done --error "the fake agent was told to fail" && echo "oj done --error ok"
    continue
  fi
  first=0
  case "$line" in
    exit\ *) echo "exiting with ${line#exit }"; exit "${line#exit }" ;;
    burst\ *) i=1; while [ "$i" -le "${line#burst }" ]; do echo "line $i"; i=$((i + 1)); done ;;
    env) echo "OTTER_TASK=${OTTER_TASK-unset} OTTER_WORKSPACE=${OTTER_WORKSPACE-unset}" \
              "OTTER_PHASE=${OTTER_PHASE-unset} OJ_SESSION_ID=${OJ_SESSION_ID-unset}" \
              "TMUX=${TMUX-unset} PWD=$PWD" ;;
    done) oj done && echo "oj done ok" || echo "oj done failed: $?" ;;
    permission)
      printf 'Do you want to proceed? [y/n] '
      IFS= read -r answer
      echo "permission answer: $answer" ;;
    ask\ *) oj ask "${line#ask }" || echo "oj ask failed: $?" ;;
    asklater\ *)
      oj ask "${line#asklater }" || echo "oj ask failed: $?"
      sleep 1
      echo "went on without an answer" ;;
    *) echo "got: $line" ;;
  esac
done
