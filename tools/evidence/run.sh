#!/usr/bin/env bash
# Runs (or resumes) the dense-vs-sparse evidence sweep, sweeps/tows-vs-dense-v5.yaml, outside the work tree so a
# new checkout does not lose it: the binary and the MuJoCo models are copied to $EVIDENCE (default ~/evidence) once
# per sweep, so rebuilding Sparrow in the work tree never changes a sweep half-way. The tows-sac runs that finished
# before (docs/results/tows-sac-v5/) are seeded into the root so the sweep skips them. Start it in the background:
#   nohup bash tools/evidence/run.sh > ~/evidence/sweep.out 2>&1 &
# and copy finished runs' metrics into the repository with tools/evidence/collect.sh.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
ev="${EVIDENCE:-$HOME/evidence}"
root="$ev/runs/tows-vs-dense-v5"
mkdir -p "$ev/bin" "$root"
if [ ! -x "$ev/bin/sparrow" ]; then
  [ -x "$repo/.build/release/sparrow" ] || (cd "$repo" && make build)
  cp "$repo/.build/release/sparrow" "$ev/bin/sparrow"
  rm -rf "$ev/models-xml" && cp -r "$repo/models-xml" "$ev/models-xml"
fi
bash "$repo/tools/evidence/seed.sh" "$root" "$repo/docs/results/tows-sac-v5" "$repo/docs/results/tows-vs-dense-v5"
cp "$repo/sweeps/tows-vs-dense-v5.yaml" "$ev/tows-vs-dense-v5.yaml"
cd "$ev"
export SPARROW_MODELS="$ev/models-xml"
exec nice -n 5 "$ev/bin/sparrow" sweep tows-vs-dense-v5.yaml --jobs 1
