#!/usr/bin/env bash
# Runs (or resumes) the dense-vs-sparse evidence sweeps on one core, one after the other, outside the work tree so a
# new checkout does not lose them: sweeps/tows-vs-dense-v5.yaml (TowS-SAC against dense SAC, issue 24), then
# sweeps/ds-td3-vs-dense-v5.yaml (Sokar's DS-TD3 against dense TD3), then sweeps/graesser-sac-vs-dense-v5.yaml
# (Graesser et al.'s SET, RigL and pruning SAC against rigl/rl's dense SAC). Each sweep gets its own copy of the binary
# and the MuJoCo models under $EVIDENCE (default ~/evidence) when it first starts, so rebuilding Sparrow in the
# work tree never changes a sweep half-way. The tows-sac runs that finished before (docs/results/tows-sac-v5/) and
# every committed run are seeded into the roots so the sweeps skip them. A sweep that stops unfinished (SIGTERM to
# `sparrow sweep` checkpoints its run) ends this script, so the next sweep never starts before the one before it is
# done. Start it in the background:
#   nohup bash tools/evidence/run.sh >> ~/evidence/sweep.out 2>&1 &
# and copy finished runs' metrics into the repository with tools/evidence/collect.sh (ROOT OUT for the DS sweep).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
ev="${EVIDENCE:-$HOME/evidence}"

# run_sweep NAME TOOLS_DIR COMMITTED_DIR...: the sweep sweeps/NAME.yaml with the binary and models in TOOLS_DIR.
run_sweep() {
  local name="$1" tools="$2"; shift 2
  local root="$ev/runs/$name"
  mkdir -p "$tools" "$root"
  if [ ! -x "$tools/sparrow" ]; then
    [ -x "$repo/.build/release/sparrow" ] || (cd "$repo" && make build)
    cp "$repo/.build/release/sparrow" "$tools/sparrow"
    rm -rf "$tools/models-xml" && cp -r "$repo/models-xml" "$tools/models-xml"
  fi
  bash "$repo/tools/evidence/seed.sh" "$root" "$@"
  cp "$repo/sweeps/$name.yaml" "$ev/$name.yaml"
  (cd "$ev" && SPARROW_MODELS="$tools/models-xml" nice -n 5 "$tools/sparrow" sweep "$name.yaml" --jobs 1)
  # The count line reads "P pending, R running, D done, F failed"; go on only when nothing is left to run.
  "$tools/sparrow" sweep status "$root" | tail -1 | grep -q '^0 pending, 0 running,' || {
    echo "run.sh: $name is not finished; run this script again to resume it"; exit 0; }
}

# Machines that ran the first sweep before this layout keep its models beside bin/, not in it.
if [ -d "$ev/models-xml" ] && [ ! -e "$ev/bin/models-xml" ]; then mkdir -p "$ev/bin" && ln -s ../models-xml "$ev/bin/models-xml"; fi
run_sweep tows-vs-dense-v5 "$ev/bin" "$repo/docs/results/tows-sac-v5" "$repo/docs/results/tows-vs-dense-v5"
run_sweep ds-td3-vs-dense-v5 "$ev/ds-td3-vs-dense-v5-bin" "$repo/docs/results/ds-td3-vs-dense-v5"
run_sweep graesser-sac-vs-dense-v5 "$ev/graesser-sac-vs-dense-v5-bin" "$repo/docs/results/graesser-sac-vs-dense-v5"
