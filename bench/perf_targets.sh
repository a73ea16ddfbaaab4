#!/usr/bin/env bash
# Issue #10: reckon's throughput against the physical limit (wrk) and a peer (promptfoo@0.118.0)
# on one nginx loopback endpoint, CPU per request (callgrind), peak memory at 1k/10k/100k cells,
# store rows/s and analyses at scale; prints one table of ratios (bench/perf.py).
# Installs nginx, wrk, valgrind and promptfoo when missing (root). `--quick`: a smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
cmake --build build --target store_bench select_bench route_bench -j "$(nproc)" >/dev/null
peer=build/perf/peer
args=("$@")
if [[ " ${args[*]-} " != *" --no-peer "* ]]; then
  bash scripts/install-perf-deps.sh "$peer"
else
  PEER_SKIP=1 bash scripts/install-perf-deps.sh "$peer"
fi
exec python3 bench/perf.py --peer "$peer" --json build/perf/results.json "${args[@]}"
