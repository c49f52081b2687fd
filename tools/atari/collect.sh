#!/usr/bin/env bash
# Copies the finished runs of the Atari evidence sweep (tools/atari/run.sh) into docs/results/atari-dqn-evidence/:
# config, metrics, evaluations and summary only, never the multi-GB checkpoints. Then writes the sweep's report
# (sparrow report) into docs/results/atari-dqn-evidence/report/: the finished runs' numbers, and learning curves
# that also draw the runs still under way, dashed, beside Dopamine's published dense DQN (dopamine-dqn-nature-cnn.csv,
# written by tools/atari/dopamine-reference.py).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
root="${ATARI_EVIDENCE:-$HOME/atari}/runs/atari-dqn-evidence"
out="$repo/docs/results/atari-dqn-evidence"
bash "$repo/tools/evidence/collect.sh" "$root" "$out"
[ -x "$repo/.build/release/sparrow" ] || (cd "$repo" && make build)
# Read the sweep's own folder where this machine has it (running runs included), else the committed copies.
[ -d "$root" ] && src="$root" || src="$out"
"$repo/.build/release/sparrow" report "$src" --out "$out/report" --reps 20000 \
  --reference "$out/dopamine-dqn-nature-cnn.csv"
# The same with training returns per 250k-step iteration, like for like with Dopamine's (training) curves.
"$repo/.build/release/sparrow" report "$src" --out "$out/report-training" --reps 20000 \
  --reference "$out/dopamine-dqn-nature-cnn.csv" --curves training --train-window 250000 > /dev/null
