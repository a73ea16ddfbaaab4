#!/usr/bin/env bash
# The budget-sweep proof: the builtin backend on RouteLLM's MMLU outcomes, 5 budgets × 7 SFT shares ×
# 5 seeds (175 points; target: the whole grid in under 10 minutes on 2 cores). Prints the grid.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${RECKON_ROUTING_DATA:-../shared/data/routing}/routellm_mmlu_outcomes.csv"
make build >/dev/null 2>&1 || { echo "build failed: run make build" >&2; exit 1; }
DB="$(mktemp -d)/sweep.db"
start=$(date +%s.%N)
./build/reckon sweep run --outcomes "$DATA" --candidates weak,strong --skip-column contaminated \
    --budgets 50,200,1000,3000,9000 --seeds 5 --name routellm-mmlu --save-db "$DB" 2>/dev/null
end=$(date +%s.%N)
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'175 points in {s:.1f} s (target under 600 s: {\"met\" if s < 600 else \"MISSED\"})')" "$start" "$end"
