"""Agent steps/s of Gymnasium + ale-py's Atari pipeline (the one Sparrow's ALE/<Game>-v5 follows:
AtariPreprocessing(noop_max=30, frame_skip=4, 84×84 grayscale) + FrameStackObservation(4), sticky actions 0.25)
beside `sparrow bench env --env ALE/<Game>-v5 --json`, on the same machine in one run: one JSON line.

    .build-parity/venv/bin/python tools/parity/bench_atari.py --sparrow .build/release/sparrow --game Breakout

Both loops: uniformly random actions, a reset at each episode end, the best of --repeats measurements.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from atari_gym import make_env  # noqa: E402


def gymnasium_steps_per_s(game, steps, repeats):
    env = make_env(game)
    actions = np.random.default_rng(1).integers(0, env.action_space.n, size=steps).tolist()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        env.reset(seed=0)
        for a in actions:
            _, _, term, trunc, _ = env.step(a)
            if term or trunc:
                env.reset()
        best = min(best, time.perf_counter() - t0)
    return steps / best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sparrow", default=".build/release/sparrow")
    p.add_argument("--game", default="Breakout")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    gym = gymnasium_steps_per_s(args.game, args.steps, args.repeats)
    out = subprocess.run([args.sparrow, "bench", "env", "--env", f"ALE/{args.game}-v5", "--json",
                          "--steps", str(args.steps), "--repeats", str(args.repeats)],
                         capture_output=True, text=True, check=True)
    ours = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps({"env": f"ALE/{args.game}-v5", "steps": args.steps,
                      "sparrow_steps_per_s": ours["env_steps_per_s"], "sparrow_frames_per_s": ours["frames_per_s"],
                      "gymnasium_steps_per_s": round(gym), "gymnasium_frames_per_s": round(gym * 4),
                      "ratio": round(ours["env_steps_per_s"] / gym, 3)}))


if __name__ == "__main__":
    main()
