#!/usr/bin/env bash
# One shard of a campaign, as every job runner below starts it: the shard comes from the runner's own
# variables (`--shard auto`: RECKON_SHARD, a Slurm array task, a Kubernetes Indexed Job), each shard writes
# its own store, and a retried shard resumes that store (finished cells are skipped, none is paid twice).
#
#   deploy/run-shard.sh CAMPAIGN.json OUT_DIR [extra reckon run flags...]
set -euo pipefail
campaign="$1"
out="$2"
shift 2
reckon="${RECKON:-reckon}"
# The shard's name in its runner's terms, so a retried task finds the store it started.
id="${RECKON_SHARD:-${SLURM_ARRAY_TASK_ID:-${JOB_COMPLETION_INDEX:-}}}"
if [ -z "$id" ]; then
  echo "run-shard.sh: no shard variables (RECKON_SHARD, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)" >&2
  exit 2
fi
mkdir -p "$out"
exec "$reckon" run "$campaign" --db "$out/shard-${id//\//-of-}.db" --shard auto --quiet "$@"
