#!/usr/bin/env python3
"""Writes docs/results/atari-dqn-evidence/dopamine-dqn-nature-cnn.csv, the reference curves `sparrow report
--reference` draws beside the Atari evidence runs: Dopamine's published dense DQN baseline (JAX agent, Nature CNN),
from its baselines/atari/data/<game>_CNN.json (agent "DQN", five runs, one value per iteration of 250k agent steps).

Dopamine's baseline runs use schedule 'continuous_train' (dopamine/jax/agents/dqn/configs/dqn.gin), so each value is
the mean return of the training episodes of one iteration (ε 0.01, sticky actions), averaged over the iteration;
it is placed at the iteration's middle step. The band is the range over the five runs. That DQN is Dopamine's own
(Adam lr 6.25e-5, ε 1.5e-4), not rigl/rl's (dqn_atari_dense.gin: Adam lr 2.5e-4, TF's ε 1e-8, which the presets
follow): a published dense DQN at the same agent-step budget, not a copy of our settings.

Usage: python3 tools/atari/dopamine-reference.py DOPAMINE_CHECKOUT [--max-steps 2000000] > FILE.csv
(DOPAMINE_CHECKOUT: a clone of github.com/google/dopamine, or a bare git directory: the files are read from HEAD.)
"""
import argparse, json, os, subprocess, sys

GAMES = {"pong": "ALE/Pong-v5", "breakout": "ALE/Breakout-v5"}
LABEL = "Dopamine DQN dense (training return; range of 5 runs)"
ITERATION = 250_000

def read(repo, path):
    if os.path.exists(os.path.join(repo, path)):
        with open(os.path.join(repo, path)) as f:
            return f.read()
    return subprocess.run(["git", "--git-dir", repo, "show", "HEAD:" + path], check=True, capture_output=True, text=True).stdout

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dopamine")
    ap.add_argument("--max-steps", type=int, default=2_000_000)
    a = ap.parse_args()
    out = sys.stdout
    out.write("env,label,step,value,low,high\n")
    for game, env in GAMES.items():
        rows = [r for r in json.loads(read(a.dopamine, f"baselines/atari/data/{game}_CNN.json")) if r["Agent"] == "DQN"]
        by = {}
        for r in rows:
            by.setdefault(int(r["Iteration"]), []).append(float(r["Value"]))
        for it in sorted(by):
            if (it + 1) * ITERATION > a.max_steps:
                break
            v = by[it]
            if len(v) != 5:
                sys.exit(f"{game} iteration {it}: {len(v)} runs, expected 5")
            out.write(f"{env},{LABEL},{int((it + 0.5) * ITERATION)},{sum(v) / len(v):.4f},{min(v):.4f},{max(v):.4f}\n")

if __name__ == "__main__":
    main()
