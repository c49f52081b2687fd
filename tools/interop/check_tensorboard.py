#!/usr/bin/env python3
"""Holds Sparrow's TensorBoard event files to TensorBoard's own reader.

Trains two short runs under one root with the `sparrow` binary given: one straight through, one stopped by
SIGTERM mid-run and finished with --resume. For each run directory it loads the events with TensorBoard's
EventAccumulator and compares every scalar with metrics.csv / evaluations.csv / analysis.csv (same steps, same
values to the CSV's printed precision and float32; the runs log noise-feature connections, gradient SNR, dormant
fractions and ReDo too), checks that no tag has a duplicate or backward step, that the resumed run has the
same steps as the straight one (no gap) and the same evaluations, and that EventMultiplexer sees one run per run
directory under the root. Exit status 0 when all holds; each failure is printed.

    python tools/interop/check_tensorboard.py --sparrow .build/release/sparrow --root /tmp/tb-check
"""
import argparse
import csv
import math
import os
import shutil
import signal
import subprocess
import sys
import time

from tensorboard.backend.event_processing import event_accumulator, plugin_event_multiplexer

METRICS_TAGS = {  # metrics.csv column -> tag (Sources/Training/RunLogs.swift)
    "steps_per_s": "charts/SPS", "wall_time_s": "charts/wall_time_s", "episode_return": "charts/episodic_return",
    "critic_loss": "losses/critic_loss", "actor_loss": "losses/actor_loss", "alpha": "losses/alpha",
    "mean_q": "losses/mean_q", "live_params": "sparsity/live_params", "actor_sparsity": "sparsity/actor",
    "critic_sparsity": "sparsity/critic", "training_flops": "charts/training_flops",
    "actor_input_real": "noise_features/actor_connections_per_real_feature",
    "actor_input_noise": "noise_features/actor_connections_per_noise_feature",
    "critic_input_real": "noise_features/critic_connections_per_real_feature",
    "critic_input_noise": "noise_features/critic_connections_per_noise_feature",
    "td_loss": "losses/td_loss", "value_loss": "losses/value_loss", "approx_kl": "losses/approx_kl",
    "clip_fraction": "losses/clip_fraction",
}
EVAL_TAGS = {"mean_return": "charts/eval_return", "std_return": "charts/eval_return_std", "episodes": "charts/eval_episodes"}
# Half a unit of the CSV's last printed digit (MetricsRow.csv), beside float32's own rounding.
ABS_TOL = {"steps_per_s": 0.05, "wall_time_s": 0.0005, "actor_sparsity": 5e-7, "critic_sparsity": 5e-7}
REL_TOL = {"training_flops": 5e-7}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def close(col, csv_value, event_value):
    # The CSV's rounding and float32's add up (42379.55 printed 42379.5, stored 42379.55078 in the event file).
    tol = ABS_TOL.get(col, 0.0) + abs(csv_value) * max(REL_TOL.get(col, 0.0), 2e-7) + 1e-30
    return abs(csv_value - event_value) <= tol


def check_run(run_dir):
    files = [f for f in os.listdir(run_dir) if f.startswith("events.out.tfevents.")]
    if len(files) != 1:
        fail(f"{run_dir}: {len(files)} event files, expected 1: {files}")
    acc = event_accumulator.EventAccumulator(run_dir, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    compared = 0
    for table, mapping in (("metrics.csv", METRICS_TAGS), ("evaluations.csv", EVAL_TAGS)):
        rows = read_csv(os.path.join(run_dir, table))
        for col, tag in mapping.items():
            expected = [(int(r["step"]), float(r[col])) for r in rows if r[col] != "" and math.isfinite(float(r[col]))]
            got = [(e.step, e.value) for e in acc.Scalars(tag)] if tag in tags else []
            steps = [s for s, _ in got]
            if any(b <= a for a, b in zip(steps, steps[1:])):
                fail(f"{run_dir}: {tag} has a duplicate or backward step: {steps}")
            if [s for s, _ in expected] != steps:
                fail(f"{run_dir}: {tag} steps {steps[:5]}…({len(steps)}) differ from {table} {col} "
                     f"{[s for s, _ in expected][:5]}…({len(expected)})")
                continue
            for (s, want), (_, have) in zip(expected, got):
                compared += 1
                if not close(col, want, have):
                    fail(f"{run_dir}: {tag} at step {s}: event {have!r}, {table} {want!r}")
    # analysis.csv: one tag per network, quantity and layer (analysis/NETWORK/QUANTITY[/layerL]).
    by_tag = {}
    for r in read_csv(os.path.join(run_dir, "analysis.csv")):
        tag = f"analysis/{r['network']}/{r['quantity']}" + (f"/layer{r['layer']}" if r["layer"] else "")
        by_tag.setdefault(tag, []).append((int(r["step"]), float(r["value"])))
    if not by_tag:
        fail(f"{run_dir}: analysis.csv is empty")
    for tag, expected in by_tag.items():
        got = [(e.step, e.value) for e in acc.Scalars(tag)] if tag in tags else []
        if [s for s, _ in got] != [s for s, _ in expected]:
            fail(f"{run_dir}: {tag} steps {[s for s, _ in got][:5]}… differ from analysis.csv {[s for s, _ in expected][:5]}…")
            continue
        for (s, want), (_, have) in zip(expected, got):
            compared += 1
            if not abs(want - have) <= abs(want) * 2e-7 + 1e-30:
                fail(f"{run_dir}: {tag} at step {s}: event {have!r}, analysis.csv {want!r}")
    print(f"{run_dir}: {compared} scalars in {len(tags)} tags match the CSVs")
    return acc


def train(sparrow, run_dir, args, stop_after_rows=None):
    cmd = [sparrow, "train", *args, "--run-dir", run_dir, "--no-progress"]
    if stop_after_rows is None:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    metrics = os.path.join(run_dir, "metrics.csv")
    for _ in range(1200):
        if os.path.exists(metrics) and len(open(metrics).read().splitlines()) > stop_after_rows:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate()
    if p.returncode != 0 or "SIGTERM at step" not in out:
        fail(f"{run_dir}: SIGTERM did not stop cleanly (status {p.returncode}): {out.strip()}")
    rows = len(open(metrics).read().splitlines()) - 1
    print(f"{run_dir}: stopped by SIGTERM after {rows} metrics rows; resuming")
    r = subprocess.run(cmd + ["--resume"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0 or "resuming" not in r.stdout:
        fail(f"{run_dir}: --resume failed (status {r.returncode}): {r.stdout.strip()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sparrow", required=True)
    ap.add_argument("--root", required=True, help="a scratch folder (emptied first)")
    ap.add_argument("--steps", type=int, default=3000)
    a = ap.parse_args()
    shutil.rmtree(a.root, ignore_errors=True)
    os.makedirs(a.root)
    args = ["--env", "InvertedPendulum-v5", "--preset", "tows-sac", "--steps", str(a.steps), "--start-steps", "300",
            "--log-every", "50", "--eval-every", "250", "--eval-episodes", "2", "--checkpoint-every", "100000",
            "--noise-features", "0.5", "--log-snr-every", "100", "--log-dormant-every", "200", "--redo-every", "400"]
    straight, resumed = os.path.join(a.root, "straight"), os.path.join(a.root, "resumed")
    train(a.sparrow, straight, args)
    train(a.sparrow, resumed, args, stop_after_rows=12)
    acc_a, acc_b = check_run(straight), check_run(resumed)
    for tag in ("charts/SPS", "charts/eval_return", "analysis/actor/gradient_snr", "analysis/critic1/dormant_fraction/layer1"):
        sa = [e.step for e in acc_a.Scalars(tag)]
        sb = [e.step for e in acc_b.Scalars(tag)]
        if sa != sb:
            fail(f"resumed run's {tag} steps differ from the straight run's (gap or duplicate): {sb} vs {sa}")
    ea = [e.value for e in acc_a.Scalars("charts/eval_return")]
    eb = [e.value for e in acc_b.Scalars("charts/eval_return")]
    if ea != eb:
        fail(f"resumed run's evaluations differ from the straight run's: {eb} vs {ea}")
    mux = plugin_event_multiplexer.EventMultiplexer().AddRunsFromDirectory(a.root)
    mux.Reload()
    runs = sorted(mux.Runs())
    if runs != ["resumed", "straight"]:
        fail(f"tensorboard --logdir {a.root} would show runs {runs}, expected one per run directory")
    print("check_tensorboard:", "FAILED" if failures else "ok", f"({len(failures)} failures)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
