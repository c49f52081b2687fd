#!/usr/bin/env bash
# Runs (or resumes) the Atari evidence sweep, sweeps/atari-dqn-evidence.yaml, outside the work tree (default
# ~/atari) so a new checkout does not lose it. The binary and the ALE library it loads are copied there once per
# sweep, with the ALE shim beside the binary and the ROMs in a roms folder next to it (where Sparrow looks, see
# ALELibrary.swift), so a rebuilt or removed work tree never changes a sweep half-way. Start it in the background:
#   nohup bash tools/atari/run.sh >> ~/atari/sweep.out 2>&1 &
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
# Finished runs committed under docs/results/atari-dqn-evidence/ are seeded into the root (summary.json marks a
# finished run), so a sweep started on a fresh machine skips them instead of training them again.
for d in "$repo"/docs/results/atari-dqn-evidence/*_seed*; do
  [ -d "$d" ] || continue
  name="$(basename "$d")"
  [ -e "$root/runs/atari-dqn-evidence/$name/summary.json" ] || \
    { mkdir -p "$root/runs/atari-dqn-evidence/$name" && cp "$d"/* "$root/runs/atari-dqn-evidence/$name/"; }
done
cp "$repo/sweeps/atari-dqn-evidence.yaml" "$root/atari-dqn-evidence.yaml"
cd "$root"
exec nice -n 5 "$root/bin/sparrow" sweep atari-dqn-evidence.yaml --jobs 1
