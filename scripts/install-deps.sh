#!/usr/bin/env bash
# Installs every Debian package oj needs to build, test, benchmark and run its demo, and
# the dashboard's pinned npm packages (npm ci);
# `install-deps.sh fuzz` adds what `make fuzz` needs (clang with libFuzzer).
# Idempotent: packages already present are skipped, so `make test` can call it each time
# without touching the network. Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config       # gcc, make
  libnng-dev nng-utils             # transport (req/rep, pub/sub) and nngcat for manual pokes
  protobuf-c-compiler libprotobuf-c-dev  # protoc-c and its runtime
  protobuf-compiler python3-protobuf     # protoc + Python runtime for the third-party client test
  libcjson-dev                     # JSON for the WAL, snapshots, runbooks, --json output
  zlib1g-dev                       # crc32() for WAL records and snapshots
  libcriterion-dev libnanomsg5     # tests (Criterion links nanomsg; see Makefile)
  tmux git                         # sessions and workspaces
  openssl                          # oj remote init makes the certificates for remote access
  util-linux                       # flock(1): one git worktree command at a time (Essential; listed to say so)
  bsdutils                         # script(1): a test gives `oj` a terminal (Essential; listed to say so)
  python3                          # /usr/bin/python3 for the third-party client test
  groff-base man-db bsdextrautils  # make install's man pages: groff -ww checks them, man and col read them
  systemd                          # systemd-analyze verify checks the user unit make install ships
  bash-completion zsh fish         # the completions make install ships, each loaded by its shell in tests
  chromium chromium-driver python3-selenium  # the dashboard's browser test drives a headless Chromium
)
# npm ci installs the dashboard's pinned JavaScript (below); a node and npm from elsewhere
# (nodesource's, which conflicts with Debian's npm) will do.
if ! command -v npm >/dev/null; then
  PACKAGES+=(nodejs npm)
fi
if [ "${1:-}" = fuzz ]; then
  PACKAGES+=(clang libclang-rt-14-dev)  # libFuzzer + sanitizer runtimes for make fuzz
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# The dashboard's JavaScript and CSS (protobufjs, xterm.js) at the versions pinned in
# daemon/dashboard/package-lock.json, into daemon/dashboard/node_modules/, which the daemon
# serves under /vendor/. Only when node_modules is missing or older than the lock file, so a
# second run fetches nothing; nothing is fetched when oj runs.
npm_ci() {
  local dir lock stamp
  dir="$(cd "$(dirname "$0")/.." && pwd)/daemon/dashboard"
  lock="$dir/package-lock.json" stamp="$dir/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ ! "$lock" -nt "$stamp" ]; then
    return 0
  fi
  echo "install-deps: npm ci in daemon/dashboard" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

if [ ${#missing[@]} -eq 0 ]; then
  npm_ci
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
npm_ci
