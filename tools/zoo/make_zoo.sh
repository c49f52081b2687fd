#!/usr/bin/env bash
# Puts finished 1M-step TowS-SAC runs into the zoo of pretrained policies in assets/ (issue 15):
#
#   tools/zoo/make_zoo.sh RUN_DIR [RUN_DIR ...]
#
# A run qualifies when it has finished (summary.json), was trained with the tows-sac preset at 90% sparsity for at
# least 1M steps, and still has its checkpoint.sparrow. For each, with ROBOT its env's name in lower case (hopper,
# halfcheetah, walker2d, ant, humanoid):
#   1. exports its actor to assets/ROBOT-tows-sac-0.9.policy   (sparrow replay RUN --export-policy FILE);
#   2. records assets/ROBOT-tows-sac-0.9.gif from that file, offscreen, with the first settings of GIF_LADDER whose
#      GIF is at most MAX_GIF_KB kB (the first rung is the first hopper GIF's: 400x300, 80 frames at 20 fps);
#   3. evaluates the policy file on fresh seeds             (sparrow eval FILE --episodes 10 --seed 12345);
#   4. copies the run's metrics (config.json, metrics.csv, evaluations.csv, summary.json; not the checkpoint) to
#      METRICS_DIR/RUN_NAME/ (default docs/results/tows-sac-v5), where `sparrow report --paper tows` reads them;
#   5. writes assets/ROBOT-tows-sac-0.9.json: the run, the command that trained it (the sweep spec and the
#      equivalent `sparrow train` line), steps, seed, final score, best evaluation, wall time, machine, the
#      evaluation and the GIF's settings (an entry of another run it replaces is named in its note).
# Then it rewrites the zoo part of assets/README.md (between its zoo:begin and zoo:end markers) from every
# assets/*-tows-sac-0.9.json, so robots added by earlier invocations stay listed. A run that does not qualify is
# reported and skipped; the exit status is then 1.
#
# Needs a built sparrow (make build), jq, and ffmpeg for the GIF. Settings (environment variables):
#   SPARROW (default .build/release/sparrow), MAX_GIF_KB (400), EVAL_EPISODES (10), EVAL_SEED (12345),
#   REPLAY_SEED (0: the seed of the recorded episode), METRICS_DIR (docs/results/tows-sac-v5; empty: no copy).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SPARROW=${SPARROW:-.build/release/sparrow}
MAX_GIF_KB=${MAX_GIF_KB:-400}
EVAL_EPISODES=${EVAL_EPISODES:-10}
EVAL_SEED=${EVAL_SEED:-12345}
REPLAY_SEED=${REPLAY_SEED:-0}
METRICS_DIR=${METRICS_DIR-docs/results/tows-sac-v5}
# width height frames fps, largest first; each keeps about 4 s of simulated time.
GIF_LADDER=("400 300 80 20" "320 240 64 16" "288 216 56 14" "256 192 48 12" "240 180 40 10" "224 168 40 10"
            "200 150 40 10" "160 120 32 8")
ROBOTS=(hopper halfcheetah walker2d ant humanoid)

die() { echo "make_zoo: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: tools/zoo/make_zoo.sh RUN_DIR [RUN_DIR ...]"
# Run directories as given (relative to the caller's directory), made absolute before moving to the project root.
runs=()
for arg in "$@"; do
    [ -d "$arg" ] || die "no run directory at $arg"
    runs+=("$(cd "$arg" && pwd)")
done
cd "$ROOT"
case "$SPARROW" in /*) ;; *) SPARROW="$ROOT/$SPARROW" ;; esac
[ -x "$SPARROW" ] || die "no sparrow binary at $SPARROW (make build, or set SPARROW=...)"
command -v jq >/dev/null || die "jq is needed (Debian package jq)"
command -v ffmpeg >/dev/null || die "ffmpeg is needed for the GIFs (Debian package ffmpeg)"
grep -q '<!-- zoo:begin' assets/README.md && grep -q '<!-- zoo:end -->' assets/README.md \
    || die "assets/README.md has no zoo:begin/zoo:end markers"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

relative() { case "$1" in "$ROOT"/*) echo "${1#"$ROOT"/}" ;; *) echo "$1" ;; esac; }

# The command that trained a run: "SPEC|TRAIN LINE" (SPEC empty when the run did not come from a sweep).
trained_by() {
    local run=$1 name parent spec="" args=() a skip=0 steps
    name=$(basename "$run"); parent=$(dirname "$run")
    steps=$(jq -r '.steps' "$run/config.json")
    if [ -f "$parent/sweep.json" ]; then
        local sweep; sweep=$(jq -r '.name' "$parent/sweep.json")
        spec=$(grep -l -E "^name: *${sweep} *$" sweeps/*.yaml 2>/dev/null | head -1 || true)
        while IFS= read -r a; do
            if [ $skip = 1 ]; then skip=0; continue; fi
            case "$a" in --run-dir) skip=1 ;; --resume|--no-progress|train) ;; *) args+=("$a") ;; esac
        done < <(jq -r --arg n "$name" '.runs[] | select(.name == $n) | .arguments[]' "$parent/sweep.json")
    fi
    if [ ${#args[@]} = 0 ]; then
        args=(--env "$(jq -r .env "$run/config.json")" --preset "$(jq -r .preset "$run/config.json")"
              --seed "$(jq -r .seed "$run/config.json")")
    fi
    printf '%s|sparrow train %s --steps %s --run-dir %s\n' "${spec:+sparrow sweep $spec}" "${args[*]}" "$steps" "$(relative "$run")"
}

# The training machine: config.json's machine record, else this machine's lscpu.
machine() {
    local c=$1/config.json
    if jq -e '.machine.cpu' "$c" >/dev/null 2>&1; then
        jq -r '.machine | "\(.cpu)" + (if .cpu_family then " (family \(.cpu_family), model \(.cpu_model))" else "" end)
               + ", \(.threads // 1) thread" + (if (.threads // 1) > 1 then "s" else "" end)
               + (if .host then ", host \(.host)" else "" end)' "$c"
    else
        echo "$(lscpu | sed -n 's/^Model name: *//p' | head -1) (lscpu of the machine that ran make_zoo)"
    fi
}

failed=0
for run in "${runs[@]}"; do
    label=$(relative "$run")
    if [ ! -f "$run/summary.json" ] || [ ! -f "$run/config.json" ]; then
        echo "skip $label: not finished (no summary.json)"; failed=1; continue
    fi
    preset=$(jq -r .preset "$run/config.json"); sparsity=$(jq -r .sparsity "$run/config.json")
    steps=$(jq -r .steps "$run/summary.json")
    if [ "$preset" != tows-sac ] || [ "$sparsity" != 0.9 ] || [ "$steps" -lt 1000000 ]; then
        echo "skip $label: $preset at sparsity $sparsity for $steps steps (the zoo holds 1M-step tows-sac at 0.9)"
        failed=1; continue
    fi
    if [ ! -f "$run/checkpoint.sparrow" ]; then
        echo "skip $label: its checkpoint.sparrow is gone (the policy is exported from it)"; failed=1; continue
    fi
    env=$(jq -r .env "$run/config.json")
    robot=$(echo "${env%-v*}" | tr 'A-Z' 'a-z')
    base=assets/$robot-tows-sac-0.9
    echo "== $env from $label"

    "$SPARROW" replay "$run" --export-policy "$tmp/p.policy"

    gif=""
    for rung in "${GIF_LADDER[@]}"; do
        read -r w h n fps <<<"$rung"
        rm -rf "$tmp/g.gif"
        "$SPARROW" replay "$tmp/p.policy" --seed "$REPLAY_SEED" --record "$tmp/g.gif" --frames "$n" --fps "$fps" \
            --width "$w" --height "$h" >"$tmp/record.log"
        [ -f "$tmp/g.gif" ] || die "no GIF recorded: $(cat "$tmp/record.log")"
        bytes=$(stat -c %s "$tmp/g.gif")
        echo "   GIF ${w}x${h}, $n frames at $fps fps: $(((bytes + 500) / 1000)) kB"
        if [ "$bytes" -le $((MAX_GIF_KB * 1000)) ]; then gif="$w $h $n $fps $bytes"; break; fi
    done
    [ -n "$gif" ] || die "no GIF setting of $env stays under $MAX_GIF_KB kB"
    read -r w h n fps bytes <<<"$gif"

    "$SPARROW" eval "$tmp/p.policy" --episodes "$EVAL_EPISODES" --seed "$EVAL_SEED" >"$tmp/eval.txt"
    echo "   eval: $(head -1 "$tmp/eval.txt")"
    evaljson=$(tail -1 "$tmp/eval.txt")

    # The note of an entry this run made before stays; an entry of another run it replaces is named in the note.
    note=null
    if [ -f "$base.json" ]; then
        if [ "$(jq -r '.run // ""' "$base.json")" = "$label" ]; then
            note=$(jq '.note' "$base.json")
        else
            note=$(jq 'def one: . * 10 | round / 10;
                       "Replaces the previous entry (made \(.made)): `\(.train_command)`, \(.steps) steps, seed \(.seed), "
                       + "final score \(.final_score | one), `sparrow eval` \(.eval.mean | one) ± \(.eval.std | one)."' "$base.json")
        fi
    fi
    IFS='|' read -r sweep train <<<"$(trained_by "$run")"
    best=$(awk -F, 'NR > 1 && $2 != "" { if (best == "" || $2 + 0 > best + 0) best = $2 } END { print best }' "$run/evaluations.csv")
    wall=$(tail -1 "$run/metrics.csv" 2>/dev/null | cut -d, -f2)
    best=${best:-null}; wall=${wall:-null}
    jq -n --arg robot "$robot" --arg env "$env" --arg run "$label" --arg sweep "$sweep" --arg train "$train" \
        --argjson summary "$(cat "$run/summary.json")" --argjson best "$best" --argjson wall "$wall" \
        --arg machine "$(machine "$run")" --argjson eval "$evaljson" --argjson seed "$(jq .seed "$run/config.json")" \
        --argjson gif "{\"width\": $w, \"height\": $h, \"frames\": $n, \"fps\": $fps, \"bytes\": $bytes, \"replay_seed\": $REPLAY_SEED}" \
        --argjson policy_bytes "$(stat -c %s "$tmp/p.policy")" --arg made "$(date -u +%Y-%m-%d)" --argjson note "$note" \
        '{robot: $robot, env: $env, run: $run, sweep_command: (if $sweep == "" then null else $sweep end),
          train_command: $train, steps: $summary.steps, seed: $seed, final_score: $summary.final_score,
          best_eval: $best, wall_time_s: $wall, machine: $machine, policy_bytes: $policy_bytes,
          eval: {episodes: $eval.episodes, seed: '"$EVAL_SEED"', mean: $eval.mean_return, std: $eval.std_return},
          gif: $gif, made: $made, note: $note}' >"$tmp/p.json"
    metrics=null kept=""
    if [ -n "$METRICS_DIR" ]; then
        kept=$METRICS_DIR/$(basename "$run")
        mkdir -p "$kept"
        cp "$run/config.json" "$run/metrics.csv" "$run/evaluations.csv" "$run/summary.json" "$kept/"
        metrics="\"$kept\""
    fi
    jq --argjson m "$metrics" '.metrics = $m' "$tmp/p.json" >"$tmp/q.json" && mv "$tmp/q.json" "$tmp/p.json"
    mv "$tmp/p.policy" "$base.policy"
    mv "$tmp/g.gif" "$base.gif"
    mv "$tmp/p.json" "$base.json"
    echo "   wrote $base.policy ($(( ($(stat -c %s "$base.policy") + 500) / 1000 )) kB), $base.gif ($(((bytes + 500) / 1000)) kB), $base.json${kept:+, metrics in $kept/}"
done

# The zoo part of README.md, from every robot's JSON.
{
    echo "<!-- zoo:begin (written by tools/zoo/make_zoo.sh from assets/*-tows-sac-0.9.json; edit those, not this) -->"
    echo
    echo "| Robot | Steps | Seed | Final score | Best eval. | \`sparrow eval\` of the file | Wall time | Machine | Trained by |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    for robot in "${ROBOTS[@]}"; do
        f=assets/$robot-tows-sac-0.9.json
        [ -f "$f" ] || continue
        jq -r 'def one: (. * 10 | round / 10 | tostring) | if test("\\.") then . else . + ".0" end;
               def dur: if . == null then "n/a" elif . < 5400 then "\(. / 60 | round) min" else "\(. / 360 | round / 10) h" end;
               "| [\(.env)](#\(.env | ascii_downcase)) | \(.steps) | \(.seed) | \(.final_score | one) | "
               + (if .best_eval == null then "n/a" else (.best_eval | one) end)
               + " | \(.eval.mean | one) ± \(.eval.std | one) (\(.eval.episodes) episodes, seed \(.eval.seed)) | "
               + "\(.wall_time_s | dur) | \(.machine // "n/a") | "
               + (if .sweep_command then "`\(.sweep_command)`, i.e. " else "" end) + "`\(.train_command)` |"' "$f"
    done
    echo
    for robot in "${ROBOTS[@]}"; do
        f=assets/$robot-tows-sac-0.9.json
        [ -f "$f" ] || continue
        jq -r '"### \(.env)\n\n![\(.env): TowS-SAC, 90 % sparse actor](\(.robot)-tows-sac-0.9.gif)\n\n"
               + "    sparrow replay \(.robot)        # or: make replay ENV=\(.robot)\n\n"
               + "- Policy: `\(.robot)-tows-sac-0.9.policy` (\(.policy_bytes / 1000 | round) kB), "
               + (if .run then "the actor of the run `\(.run)`" else "from a run whose directory is gone" end)
               + (if .metrics then " (its metrics: `\(.metrics)/`)" else "" end) + ".\n"
               + "- Trained by " + (if .sweep_command then "`\(.sweep_command)`; the same run alone: " else "" end)
               + "`\(.train_command)`.\n"
               + "- GIF: \(.gif.width)×\(.gif.height), \(.gif.frames) frames at \(.gif.fps) fps (\(.gif.bytes / 1000 | round) kB), "
               + "episode seed \(.gif.replay_seed): `sparrow replay \(.robot) --record assets/\(.robot)-tows-sac-0.9.gif "
               + "--frames \(.gif.frames) --fps \(.gif.fps) --width \(.gif.width) --height \(.gif.height)`.\n"
               + (if .note then "- \(.note)\n" else "" end)' "$f"
    done
    echo "<!-- zoo:end -->"
} >"$tmp/zoo.md"
awk -v zoo="$tmp/zoo.md" '
    /<!-- zoo:begin/ { while ((getline line < zoo) > 0) print line; skipping = 1; next }
    /<!-- zoo:end -->/ { skipping = 0; next }
    !skipping { print }' assets/README.md >"$tmp/README.md"
mv "$tmp/README.md" assets/README.md
echo "rewrote the zoo table of assets/README.md ($(ls assets/*-tows-sac-0.9.json | wc -l) robots)"
exit $failed
