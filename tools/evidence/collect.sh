#!/usr/bin/env bash
# Copies the finished runs of the evidence sweep (summary.json present) into docs/results/tows-vs-dense-v5/:
# config, metrics, evaluations and summary only, never checkpoints. Another sweep's runs: collect.sh ROOT OUT
# (tools/atari/collect.sh does that for the Atari evidence).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
root="${1:-${EVIDENCE:-$HOME/evidence}/runs/tows-vs-dense-v5}"
out="${2:-$repo/docs/results/tows-vs-dense-v5}"
mkdir -p "$out"
for d in "$root"/*/; do
  name="$(basename "$d")"
  [ -e "$d/summary.json" ] || continue
  [ -e "$repo/docs/results/tows-sac-v5/$name/summary.json" ] && continue   # already committed there
  mkdir -p "$out/$name"
  for f in config.json metrics.csv evaluations.csv summary.json analysis.csv run.json; do
    [ -e "$d/$f" ] && cp "$d/$f" "$out/$name/$f"
  done
done
ls "$out"
