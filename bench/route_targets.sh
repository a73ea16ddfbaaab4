#!/usr/bin/env bash
# Routers on real outcomes: RouteLLM's MMLU (Mixtral-8x7B weak, GPT-4 strong, decontaminated),
# train on 70 %, judge on the held-out 30 %, over seeds. Prints a Markdown table of APGR and
# CPT(50 %) (random routing: 0.500 and 50 %) with the spread over seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${RECKON_ROUTING_DATA:-../shared/data/routing}/routellm_mmlu_outcomes.csv"
SEEDS="${SEEDS:-5}"
make build >/dev/null 2>&1 || { echo "build failed: run make build" >&2; exit 1; }
DB="$(mktemp -d)/routers.db"
echo "| router | APGR (mean ± sd, $SEEDS seeds) | CPT(50%) | accuracy at its own threshold | strong calls | random, same mix |"
echo "|---|---|---|---|---|---|"
for router in rule knn softmax dpo mlp cascade logit; do
  out=""
  for seed in $(seq 1 "$SEEDS"); do
    ./build/reckon route train --outcomes "$DATA" --candidates weak,strong --skip-column contaminated \
        --router "$router" --seed "$seed" --name "$router-$seed" --save-db "$DB" >/dev/null
    out+="$(./build/reckon route eval --db "$DB" --name "$router-$seed" --json | tr -d '\n')"$'\n'
  done
  python3 - "$router" "$out" <<'PY'
import json, statistics, sys
router, runs = sys.argv[1], [json.loads(l) for l in sys.argv[2].splitlines() if l.strip()]
def ms(key, scale=1):
    v = [r[key] * scale for r in runs]
    return statistics.mean(v), (statistics.stdev(v) if len(v) > 1 else 0)
a, cpt, acc, strong, rnd = ms("apgr"), ms("cpt50", 100), ms("accuracy", 100), [r["calls"][1] * 100 for r in runs], ms("random_accuracy", 100)
print(f"| {router} | {a[0]:.3f} ± {a[1]:.3f} | {cpt[0]:.1f} ± {cpt[1]:.1f} % | {acc[0]:.2f} % | {statistics.mean(strong):.1f} % | {rnd[0]:.2f} % |")
PY
done

echo
echo "EllieSQL's labels on BIRD dev, each database held out in turn (bench/route_elliesql.py):"
python3 bench/route_elliesql.py
