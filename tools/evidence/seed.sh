#!/usr/bin/env bash
# Seeds a sweep root with the finished runs committed under docs/results (their config, metrics, evaluations and
# summary): a run directory whose summary.json exists counts as finished, so a sweep started on a fresh machine
# skips it instead of training it again. Used by tools/evidence/run.sh and tools/atari/run.sh.
#   seed.sh ROOT COMMITTED_DIR...
set -euo pipefail
root="$1"; shift
for committed in "$@"; do
  for d in "$committed"/*_seed*; do
    [ -d "$d" ] || continue
    name="$(basename "$d")"
    [ -e "$root/$name/summary.json" ] || { mkdir -p "$root/$name" && cp "$d"/* "$root/$name/"; }
  done
done
