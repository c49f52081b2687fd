#!/usr/bin/env bash
# Runs (or resumes) the Atari evidence sweep, sweeps/atari-dqn-evidence.yaml, outside the work tree (default
# ~/atari) so a new checkout does not lose it. The binary and the ALE library it loads are copied there once per
# sweep, with the ALE shim beside the binary and the ROMs in a roms folder next to it (where Sparrow looks, see
# ALELibrary.swift), so a rebuilt or removed work tree never changes a sweep half-way. Start it in the background:
#   nohup bash tools/atari/run.sh >> ~/atari/sweep.out 2>&1 &
# JOBS=2 runs two at once (each run peaks near 7.1 GB with a full replay; two fit in 24 GB), but on the 2-vCPU Zen 4
# it buys nothing: side by side, dense Pong ran at ~25 agent steps/s and RigL Breakout at ~85, against ~50 and ~170
# each alone (the runs share the memory bandwidth the replay gathers and the 7744×512 layer need), so one at a time
# finishes each run sooner for the same total.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
root="${ATARI_EVIDENCE:-$HOME/atari}"
mkdir -p "$root/bin"
if [ ! -x "$root/bin/sparrow" ]; then
  [ -x "$repo/.build/release/sparrow" ] || (cd "$repo" && make build)
  [ -f "$repo/.build/ale/lib/libsparrow_ale.so" ] || (cd "$repo" && bash tools/ale/build.sh)
  cp "$repo/.build/release/sparrow" "$root/bin/sparrow"
  cp "$repo/.build/ale/lib/libsparrow_ale.so" "$root/bin/"
  rm -rf "$root/bin/roms" && cp -rL "$repo/.build/ale/roms" "$root/bin/roms"
fi
# Finished runs committed under docs/results/atari-dqn-evidence/ go into the root, so a fresh machine skips them.
bash "$repo/tools/evidence/seed.sh" "$root/runs/atari-dqn-evidence" "$repo/docs/results/atari-dqn-evidence"
cp "$repo/sweeps/atari-dqn-evidence.yaml" "$root/atari-dqn-evidence.yaml"
cd "$root"
exec nice -n 5 "$root/bin/sparrow" sweep atari-dqn-evidence.yaml --jobs "${JOBS:-1}"
