#!/usr/bin/env bash
# Runs each libFuzzer target for N seconds, seeded with the committed corpus and the shared
# provider fixtures; fails when any target finds a crash.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
work="$build/fuzz-work"
mkdir -p "$work" "$build/crashes"
fixtures="$root/../shared/data/fixtures"
status=0
for target in ${FUZZ_TARGETS:-csv sse import_jsonl catalog campaign extract matrix json}; do
  corpus="$work/$target"
  mkdir -p "$corpus"
  cp "$root/tests/fuzz/corpus/$target/"* "$corpus/" 2>/dev/null || true
  if [ -d "$fixtures" ]; then
    case $target in
      sse) cp "$fixtures"/vercel-ai/*.chunks.txt "$fixtures"/vercel-ai/*.json "$fixtures"/openai/*.json "$corpus/" ;;
      catalog) cp "$root/../shared/data/price_reversal/model_info.json" "$corpus/" ;;
      import_jsonl) head -c 4000 "$root/../shared/data/price_reversal/per_query_aime_gpqa.csv" > "$corpus/per_query_head.csv" ;;
      matrix) head -c 3000 "$root/../shared/data/routing/routellm_mmlu_outcomes.csv" > "$corpus/routellm_head.csv"
              head -c 3000 "$root/../shared/data/routing/elliesql_bird_dev_labels_5db.csv" > "$corpus/elliesql_head.csv"
              head -c 3000 "$root/../shared/data/scales_adele/CSE_capabilities.csv" > "$corpus/adele_levels_head.csv"
              head -c 3000 "$root/../shared/data/scales_adele/CSE_complete.csv" > "$corpus/adele_outcomes_head.csv" ;;
    esac
  fi
  echo "fuzz $target for ${seconds}s"
  if ! "$build/tests/fuzz_$target" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$build/crashes/$target-" -print_final_stats=1 >"$work/$target.log" 2>&1; then
    echo "fuzz $target FOUND A CRASH:"; tail -40 "$work/$target.log"; status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$work/$target.log" | tail -2 || true
  fi
done
exit $status
