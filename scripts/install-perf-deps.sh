#!/usr/bin/env bash
# What bench/perf_targets.sh measures against: nginx (with the echo module, for a fixed server
# delay), wrk, valgrind (callgrind), GNU time, and the peer promptfoo@0.118.0 from npm, installed
# into $1 (default build/perf/peer; not when PEER_SKIP is set). Idempotent; run as root.
set -euo pipefail
PEER_DIR="${1:-build/perf/peer}"
PKGS=(nginx-light libnginx-mod-http-echo wrk valgrind time nodejs npm)
missing=()
for p in "${PKGS[@]}"; do
  # A Node.js from elsewhere (e.g. NodeSource) provides node and npm without Debian's packages.
  if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-perf-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian's nginx starts a server on port 80 when installed; the benchmark runs its own.
$SUDO systemctl stop nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true

if [ -z "${PEER_SKIP:-}" ] && [ ! -f "$PEER_DIR/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ]; then
  mkdir -p "$PEER_DIR"
  echo '{"name":"reckon-perf-peer","private":true}' > "$PEER_DIR/package.json"
  echo "install-perf-deps: installing promptfoo@0.118.0 into $PEER_DIR"
  # No browser download and no install scripts (they fetch prebuilt binaries from GitHub, which
  # this network does not reach); promptfoo's one native module is then built from source
  # against the installed Node.js headers.
  (cd "$PEER_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
     promptfoo@0.118.0 >/dev/null)
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$gyp" ] || gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  (cd "$PEER_DIR/node_modules/better-sqlite3" && node "$gyp" rebuild --release --nodedir="$nodedir" >/dev/null 2>&1) ||
    { echo "install-perf-deps: could not build better-sqlite3 for promptfoo (needs g++, make, python3, Node.js headers)" >&2; exit 1; }
fi
