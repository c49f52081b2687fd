"""Records Atari parity fixtures from Gymnasium + ale-py (Tests/EnvironmentsTests/Fixtures/atari/<Game>.json) and
OpenCV INTER_AREA resize fixtures (.../atari/resize.json) for Sparrow's ALE/<Game>-v5 tasks.

    .build-parity/venv/bin/python tools/parity/record_atari.py --out Tests/EnvironmentsTests/Fixtures/atari

Each game has segments; a segment is a seed, a max-episode-frames setting and a list of events (an action index,
or null for an unseeded env.reset() in the middle of an episode), run with a reset after every episode end (as
`sparrow rollout --reset-at-end`). Per line (the seeded reset, each step, each reset) it stores reward,
terminated, truncated, lives, frame_number, episode_frame_number and the CRC-32 (zlib) of the whole 4×84×84 uint8
observation, column by column; the full observation bytes of a few lines are stored too. Segments:
  - "game-over": random actions until the game has been lost twice (episodes ending by losing all lives), a reset
    after each, and an unseeded reset in the middle of the second episode;
  - "truncation": max_episode_frames=400 (100 agent steps), so episodes end by truncation, then resets.
"""
import argparse
import base64
import json
import os
import sys
import zlib

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import ale_py  # noqa: E402
import gymnasium  # noqa: E402
from atari_gym import make_env  # noqa: E402

GAMES = {"Breakout": 11, "Pong": 22, "Seaquest": 33}


def run_segment(game, name, seed, max_frames, events_fn, full_at):
    env = make_env(game, max_episode_frames=max_frames)
    n = env.action_space.n
    rng = np.random.default_rng(seed + 7)
    cols = {k: [] for k in ["kind", "action", "reward", "terminated", "truncated", "lives", "frame_number",
                            "episode_frame_number", "crc32"]}
    full = []
    events = []

    def record(kind, action, reward, term, trunc, obs, info):
        obs = np.ascontiguousarray(np.array(obs, dtype=np.uint8))
        assert obs.shape == (4, 84, 84)
        i = len(cols["kind"])
        for k, v in [("kind", kind), ("action", action), ("reward", reward), ("terminated", int(term)),
                     ("truncated", int(trunc)), ("lives", int(info["lives"])), ("frame_number", int(info["frame_number"])),
                     ("episode_frame_number", int(info["episode_frame_number"])), ("crc32", zlib.crc32(obs.tobytes()))]:
            cols[k].append(v)
        return i, obs

    obs, info = env.reset(seed=seed)
    i, o = record(0, -1, 0.0, False, False, obs, info)
    full.append({"line": i, "b64": base64.b64encode(o.tobytes()).decode()})
    state = {"games_lost": 0, "steps": 0, "episode_steps": 0, "mid_reset_done": False}
    while True:
        ev = events_fn(state, rng, n)
        if ev == "stop":
            break
        events.append(ev)
        if ev is None:  # an unseeded reset in the middle of an episode
            obs, info = env.reset()
            record(2, -1, 0.0, False, False, obs, info)
            state["episode_steps"] = 0
            state["mid_reset_done"] = True
            continue
        obs, reward, term, trunc, info = env.step(ev)
        i, o = record(1, ev, float(reward), term, trunc, obs, info)
        state["steps"] += 1
        state["episode_steps"] += 1
        if state["steps"] in full_at:
            full.append({"line": i, "b64": base64.b64encode(o.tobytes()).decode()})
        if term or trunc:
            state["games_lost"] += int(term)
            state["truncations"] = state.get("truncations", 0) + int(trunc)
            obs, info = env.reset()
            record(2, -1, 0.0, False, False, obs, info)
            state["episode_steps"] = 0
    i = len(cols["kind"]) - 1
    full.append({"line": i, "b64": base64.b64encode(np.array(obs, dtype=np.uint8).tobytes()).decode()})
    return {"name": name, "seed": seed, "max_episode_frames": max_frames, "events": events, "lines": cols,
            "full_observations": full}


def game_over_events(state, rng, n):
    if state["games_lost"] >= 2:
        return "stop"
    if state["games_lost"] == 1 and not state["mid_reset_done"] and state["episode_steps"] == 60:
        return None
    return int(rng.integers(0, n))


def truncation_events(state, rng, n):
    if state.get("truncations", 0) >= 2 and state["episode_steps"] >= 20:
        return "stop"
    return int(rng.integers(0, n))


def resize_fixture():
    """INTER_AREA 210×160 → 84×84 on images both sides can generate: hash noise, flat, checkerboard, gradients."""
    def noise(k):
        i = np.arange(210 * 160, dtype=np.uint64)
        x = i + np.uint64((k * 0x9E3779B97F4A7C15) % 2**64)
        x = (x ^ (x >> np.uint64(33))) * np.uint64(0xFF51AFD7ED558CCD)  # wraps mod 2**64
        x = x ^ (x >> np.uint64(33))
        return (x & np.uint64(255)).astype(np.uint8).reshape(210, 160)
    images = {f"noise{k}": noise(k) for k in range(4)}
    images["flat255"] = np.full((210, 160), 255, np.uint8)
    images["flat0"] = np.zeros((210, 160), np.uint8)
    yy, xx = np.mgrid[0:210, 0:160]
    images["checker"] = (((yy + xx) % 2) * 255).astype(np.uint8)
    images["gradient"] = ((xx * 3 + yy * 5) % 256).astype(np.uint8)
    out = []
    for name, img in images.items():
        r = cv2.resize(img, (84, 84), interpolation=cv2.INTER_AREA)
        out.append({"name": name, "b64": base64.b64encode(np.ascontiguousarray(r).tobytes()).decode()})
    return {"opencv": cv2.__version__, "images": out}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="Tests/EnvironmentsTests/Fixtures/atari")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    versions = {"ale_py": ale_py.__version__, "gymnasium": gymnasium.__version__, "numpy": np.__version__,
                "opencv": cv2.__version__}
    for game, seed in GAMES.items():
        segs = [run_segment(game, "game-over", seed, 108_000, game_over_events, {50}),
                run_segment(game, "truncation", seed + 1, 400, truncation_events, set())]
        with open(os.path.join(args.out, f"{game}.json"), "w") as f:
            json.dump({"game": game, "env": f"ALE/{game}-v5", **versions, "segments": segs}, f, separators=(",", ":"))
        for s in segs:
            k = s["lines"]["kind"]
            print(f"{game} {s['name']}: {len(k)} lines, {sum(s['lines']['terminated'])} terminated, "
                  f"{sum(s['lines']['truncated'])} truncated, {k.count(2)} resets")
    with open(os.path.join(args.out, "resize.json"), "w") as f:
        json.dump(resize_fixture(), f, separators=(",", ":"))


if __name__ == "__main__":
    main()
