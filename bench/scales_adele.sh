#!/usr/bin/env bash
# Scales++ on real ADeLe demand levels (issue #25): the battery's published levels imported with
# `reckon scales import`, 12 models' per-item outcomes, `select eval` at 20 and 40 items over SEEDS
# source/target splits (10 source models, 2 targets each). Target: scales' MAE ≤ 0.7× random's on
# average and never above 0.9× — with source models (`scales`) and without (`scales-cold`).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${RECKON_ADELE_DATA:-../shared/data/scales_adele}"
SEEDS="${SEEDS:-200}"
BENCHMARKS="${BENCHMARKS:-CSE MCTACO SAT}"
make build >/dev/null 2>&1 || { echo "build failed: run make build" >&2; exit 1; }
DB="$(mktemp -d)/adele.db"
METHODS=${METHODS:-random,scales,scales-cold,scales-medoids,irt,gp-irt,anchor}
echo "| benchmark | budget | $(echo $METHODS | sed 's/,/ | /g') |"
echo "|---|---|$(echo $METHODS | sed 's/[^,]*/---/g; s/,/|/g')|"
all=""
for B in $BENCHMARKS; do
  ./build/reckon scales import --db "$DB" --task "$B" --levels "$DATA/${B}_capabilities.csv" >/dev/null
  json="$(./build/reckon select eval --responses "$DATA/${B}_complete.csv" --items-as-rows --model-column question_id \
      --db "$DB" --task "$B" --method "$METHODS" --budget 20,40 --seeds "$SEEDS" --json)"
  all+="$B $(echo "$json" | tr -d '\n')"$'\n'
done
python3 - "$METHODS" "$all" <<'PY'
import json, statistics, sys
methods, lines = sys.argv[1].split(","), [l for l in sys.argv[2].splitlines() if l.strip()]
ratios = {m: [] for m in methods}
for line in lines:
    name, rows = line.split(" ", 1)
    rows = json.loads(rows)
    for budget in (20, 40):
        at = {r["method"]: r for r in rows if r["budget"] == budget}
        rnd = at["random"]["mae_pct"]
        cells = []
        for m in methods:
            ratio = at[m]["mae_pct"] / rnd
            ratios[m].append(ratio)
            cells.append(f"{at[m]['mae_pct']:.2f}" + ("" if m == "random" else f" ({ratio:.2f}×)"))
        print(f"| {name} | {budget} | " + " | ".join(cells) + " |")
print()
for m in methods[1:]:
    r = ratios[m]
    verdict = "met" if statistics.mean(r) <= 0.7 and max(r) <= 0.9 else "missed"
    print(f"{m}: MAE ratio to random mean {statistics.mean(r):.2f}, worst {max(r):.2f} (target ≤ 0.70, never > 0.90): {verdict}")
PY
