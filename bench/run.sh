#!/usr/bin/env bash
# Builds and runs every benchmark; each prints a table of rates and ratios measured in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
cmake --build build --target transport_bench -j "$(nproc)" >/dev/null
./build/bench/transport_bench "${1:-3000}"
