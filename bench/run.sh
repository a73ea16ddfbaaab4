#!/usr/bin/env bash
# Builds and runs every benchmark; each prints a table of rates and ratios measured in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
cmake --build build --target transport_bench select_bench route_bench claims_bench batch_bench -j "$(nproc)" >/dev/null
echo "== transport: reckon's client vs raw libcurl multi"
./build/bench/transport_bench "${1:-3000}"
echo
echo "== claims: a campaign run alone, claiming its plan vs not (issue #21)"
./build/bench/claims_bench 20000 6
echo
echo "== batch APIs: 100,000 cells submitted and collected vs the replay provider (issue #24)"
./build/bench/batch_bench 100000
echo
echo "== subset selection"
./build/bench/select_bench
echo
bash bench/select_targets.sh
echo
echo "== routers"
./build/bench/route_bench
echo
bash bench/route_targets.sh
echo
echo "== budget sweeps"
bash bench/sweep_targets.sh
echo
echo "== performance against wrk and promptfoo (issue #10)"
bash bench/perf_targets.sh
