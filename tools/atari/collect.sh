#!/usr/bin/env bash
# Copies the finished runs of the Atari evidence sweep (tools/atari/run.sh) into docs/results/atari-dqn-evidence/:
# config, metrics, evaluations and summary only, never the multi-GB checkpoints.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
exec bash "$repo/tools/evidence/collect.sh" "${ATARI_EVIDENCE:-$HOME/atari}/runs/atari-dqn-evidence" \
  "$repo/docs/results/atari-dqn-evidence"
