"""Compares `sparrow rollout ALE/<Game>-v5` with Gymnasium + ale-py, line by line: reward, terminated, truncated,
lives, frame numbers and every pixel of the newest 84×84 frame (obs_b64), for a few games, seeds and random action
sequences, with episodes ending and resets in the middle.

    .build-parity/venv/bin/python tools/parity/check_atari_rollout.py --sparrow .build/release/sparrow
    ... --games Breakout Pong --seeds 0 5 --steps 3000 --max-episode-frames 4000
    ... --games all --seeds 7 --steps 300                 # every ALE/<Game>-v5 Gymnasium registers
    ... --full-action-space --terminal-on-life-loss --noop-max 5 --repeat-action-probability 0.1

Exits 1 at the first difference (printed with its game, seed and line).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from atari_gym import make_env, rollout  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sparrow", default=".build/release/sparrow")
    p.add_argument("--games", nargs="+", default=["Breakout", "Pong", "Seaquest", "SpaceInvaders", "MsPacman"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 123456])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--max-episode-frames", type=int, default=3000,
                   help="small, so episodes also end by truncation")
    p.add_argument("--full-action-space", action="store_true")
    p.add_argument("--terminal-on-life-loss", action="store_true")
    p.add_argument("--noop-max", type=int, default=30)
    p.add_argument("--repeat-action-probability", type=float, default=0.25)
    args = p.parse_args()
    if args.games == ["all"]:
        import gymnasium as gym
        args.games = sorted(k[4:-3] for k in gym.registry if k.startswith("ALE/") and k.endswith("-v5"))
    options = dict(full_action_space=args.full_action_space, terminal_on_life_loss=args.terminal_on_life_loss,
                   noop_max=args.noop_max, repeat_action_probability=args.repeat_action_probability)
    flags = ["--noop-max", str(args.noop_max), "--repeat-action-probability", str(args.repeat_action_probability)]
    flags += ["--full-action-space"] * args.full_action_space + ["--terminal-on-life-loss"] * args.terminal_on_life_loss
    total = 0
    for game in args.games:
        for seed in args.seeds:
            try:
                env = make_env(game, max_episode_frames=args.max_episode_frames, **options)
            except ValueError as e:  # e.g. no-op starts on a game whose action 0 is not NOOP
                out = subprocess.run([args.sparrow, "rollout", f"ALE/{game}-v5", "--random-steps", "1",
                                      "--seed", str(seed), *flags], capture_output=True, text=True)
                if out.returncode == 0 or len(out.stderr.strip().splitlines()) != 1:
                    print(f"{game} seed {seed}: Gymnasium refuses ({e}) but sparrow does not fail with one line")
                    sys.exit(1)
                print(f"{game:14s} seed {seed:7d}: both refuse: {out.stderr.strip()}")
                continue
            n = env.action_space.n
            actions = np.random.default_rng(seed + 1000).integers(0, n, size=args.steps).tolist()
            t0 = time.time()
            gym_lines = rollout(env, seed, actions, reset_at_end=True)
            t_gym = time.time() - t0
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(actions, f)
            t0 = time.time()
            out = subprocess.run([args.sparrow, "rollout", f"ALE/{game}-v5", "--actions", f.name, "--seed", str(seed),
                                  "--max-episode-frames", str(args.max_episode_frames), "--reset-at-end", *flags],
                                 capture_output=True, text=True)
            t_sparrow = time.time() - t0
            os.unlink(f.name)
            if out.returncode != 0:
                print(f"{game} seed {seed}: sparrow failed: {out.stderr.strip()}")
                sys.exit(1)
            ours = [json.loads(l) for l in out.stdout.splitlines()]
            if len(ours) != len(gym_lines):
                print(f"{game} seed {seed}: {len(ours)} lines from sparrow, {len(gym_lines)} from Gymnasium")
                sys.exit(1)
            for i, (a, b) in enumerate(zip(ours, gym_lines)):
                if a != b:
                    keys = [k for k in b if a.get(k) != b[k]]
                    print(f"{game} seed {seed}: line {i} differs in {keys}: sparrow "
                          f"{ {k: a.get(k) for k in keys if k != 'obs_b64'} } gymnasium { {k: b[k] for k in keys if k != 'obs_b64'} }")
                    sys.exit(1)
            ends = sum(1 for l in gym_lines if l.get("terminated") or l.get("truncated"))
            trunc = sum(1 for l in gym_lines if l.get("truncated"))
            total += len(gym_lines)
            print(f"{game:14s} seed {seed:7d}: {len(gym_lines)} lines identical ({ends} episode ends, {trunc} by "
                  f"truncation; Gymnasium {t_gym:.1f} s, sparrow {t_sparrow:.1f} s)")
    print(f"all {total} lines identical")


if __name__ == "__main__":
    main()
