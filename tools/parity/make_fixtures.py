#!/usr/bin/env python3
"""Record Gymnasium v5 reference trajectories as JSON fixtures for Sparrow's Swift env tests.

Uses Gymnasium's real envs (`gymnasium.make("Hopper-v5")` etc., default options, Gymnasium's own
XML) on MuJoCo 2.2.2 and writes Tests/EnvironmentsTests/Fixtures/<EnvName>.json.

Each fixture:
  env, gymnasium_version, mujoco_version, numpy_version, frame_skip, dt, timestep, reset_seed,
  action_seed, action_low, action_high, obs_dim, act_dim, schedule (how actions were made),
  reset: {seed, qpos, qvel, obs, info}          (state right after env.reset(seed=...))
  steps: [{t, phase, action, obs, reward, terminated, truncated, info, qpos, qvel, ncon}, ...]

Details that matter for bit-level parity:
  * Actions are float64 numpy arrays (Gymnasium computes the control cost from the action as
    given; float32 actions would make the cost float32).
  * Stepping is done on env.unwrapped: no TimeLimit, no PassiveEnvChecker, no OrderEnforcing.
    Stepping continues after termination (terminated is recorded truthfully every step).
  * Floats are written with Python's repr (shortest string that round-trips exactly), nothing is
    rounded. numpy scalars are converted with float(), which is exact for float64.
  * `info` keeps Gymnasium's keys and key order; arrays (Humanoid tendon_length/velocity)
    become lists.
  * `ncon` (number of MuJoCo contacts after the step) is extra, for diagnostics.

Action schedule (per env, deterministic, see SCHEDULES):
  A "random":   noisy standing controllers (Hopper, Walker2d, InvertedPendulum) or scaled
                uniform random actions (HalfCheetah, Ant, Humanoid): the robot moves and touches
                the ground for a while, mostly without falling;
  B "oob":      actions OUTSIDE the bounds: one step with every component at +1.3 x bound, one
                at -1.5 x bound, then the phase-A rule with one component set to +-1.3 x bound.
                MuJoCo clamps ctrl to ctrlrange; the control cost uses the action as given;
  C "push":     a strong, env-specific push meant to make the robot fall / jump (termination);
  D "after":    full-range random actions after the push, every 10th step out of bounds
                (x1.3), to keep recording after termination.

Usage:  /tmp/pyparity/bin/python tools/parity/make_fixtures.py [EnvName ...]
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np

import gymnasium as gym
import mujoco

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "Tests", "EnvironmentsTests", "Fixtures")
MAX_BYTES = 2_500_000


def _ip_controller(env, rng) -> np.ndarray:
    """PD balance controller for InvertedPendulum (qpos = [cart x, pole angle]).

    Positive hinge angle tilts the pole towards +x; pushing the cart towards +x catches it.
    Output in newtons/100 (the action unit), not clipped: it can exceed the +-3 bound.
    """
    x, th = env.data.qpos
    xd, thd = env.data.qvel
    return np.array([8.0 * th + 1.0 * thd + 0.3 * x + 0.3 * xd])


def _hopper_controller(env, rng) -> np.ndarray:
    """Keep the hopper standing: PD towards zero joint angles, plus uniform noise of +-0.1."""
    q, qd = env.data.qpos[3:], env.data.qvel[3:]
    return np.clip(-2.0 * q - 0.2 * qd, -1, 1) + 0.1 * rng.uniform(-1, 1, 3)


def _walker_controller(env, rng) -> np.ndarray:
    """Keep the walker standing for a while: joint PD towards 0, hips counter the torso pitch,
    plus uniform noise of +-0.1."""
    q, qd = env.data.qpos[3:], env.data.qvel[3:]
    a = -2.0 * q - 0.2 * qd
    pitch = -4.0 * env.data.qpos[2] - 1.2 * env.data.qvel[2]
    a[0] += pitch
    a[3] += pitch
    return np.clip(a, -1, 1) + 0.1 * rng.uniform(-1, 1, 6)


def _random(scale):
    def f(env, rng):
        return scale * rng.uniform(env.action_space.low.astype(np.float64),
                                   env.action_space.high.astype(np.float64))
    f.desc = f"uniform random in bounds scaled by {scale}"
    return f


_ip_controller.desc = "PD balance controller a = 8*angle + 1*angle_vel + 0.3*x + 0.3*x_vel (unclipped)"
_hopper_controller.desc = "PD hold a = clip(-2*q_joints - 0.2*qd_joints, -1, 1) + U(-0.1, 0.1)"
_walker_controller.desc = ("PD hold a = clip(-2*q_joints - 0.2*qd_joints (+ -4*pitch - 1.2*pitch_vel on "
                           "both hips), -1, 1) + U(-0.1, 0.1)")

# Per-env schedule. Phase boundaries are step indices: A = [0, a), B = [a, b), C = [b, c), D = [c, n).
# base(env, rng): action (in action units) for phases A and B.
# push(t, env, nu): action in units of the action bound for phase C.
SCHEDULES = {
    "Hopper-v5": dict(
        n=300, a=80, b=100, c=130, base=_hopper_controller,
        push=lambda t, env, nu: np.array([1.0, -1.0, 1.0]),
        push_desc="constant [+1, -1, +1] x bound",
    ),
    "Walker2d-v5": dict(
        n=300, a=60, b=80, c=110, base=_walker_controller,
        push=lambda t, env, nu: np.array([1.0, -1.0, 1.0, 1.0, -1.0, 1.0]),
        push_desc="constant [+1, -1, +1, +1, -1, +1] x bound on both legs",
    ),
    "HalfCheetah-v5": dict(
        n=300, a=100, b=120, c=160, base=_random(1.0),
        push=lambda t, env, nu: np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0]) * (1 if (t // 10) % 2 == 0 else -1),
        push_desc="alternating +-[1, 1, 1, -1, -1, -1] x bound every 10 steps (HalfCheetah never terminates)",
    ),
    "Ant-v5": dict(
        n=400, a=100, b=120, c=160, base=_random(0.3),
        # actuator order: hip_4, ankle_4, hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3
        push=lambda t, env, nu: np.array([0, 1, 0, 1, 0, -1, 0, -1.0]) * (1 if (t % 15) < 10 else -1),
        push_desc="ankles driven together (10 steps one way, 5 steps back, x bound): the ant jumps "
                  "above z = 1.0, which is unhealthy (healthy_z_range [0.2, 1.0], inclusive)",
    ),
    "Humanoid-v5": dict(
        n=220, a=15, b=25, c=45, base=_random(0.2),
        push=lambda t, env, nu: np.ones(nu),
        push_desc="constant +0.4 (the bound) on all 17 motors: the humanoid collapses",
    ),
    "InvertedPendulum-v5": dict(
        n=300, a=100, b=120, c=140, base=_ip_controller,
        push=lambda t, env, nu: np.array([1.0]),
        push_desc="constant +3 (the bound): the pole falls",
    ),
}
RESET_SEED = 42
ACTION_SEED_BASE = 1000
ENV_ORDER = list(SCHEDULES)


def _f(x) -> float:
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"non-finite value {v}")
    return v


def _vec(a) -> list[float]:
    return [_f(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def _info(info: dict) -> dict:
    out = {}
    for k, v in info.items():
        if isinstance(v, np.ndarray):
            out[k] = _vec(v)
        elif isinstance(v, (bool, np.bool_)):
            out[k] = bool(v)
        else:
            out[k] = _f(v)
    return out


def make_actions(env, t: int, rng: np.random.Generator, sched: dict) -> tuple[str, np.ndarray]:
    low = env.action_space.low.astype(np.float64)
    high = env.action_space.high.astype(np.float64)
    nu = low.size
    # All envs here have symmetric bounds (-h, h); out-of-bounds values are multiples of h.
    assert np.array_equal(low, -high)
    if t < sched["a"]:
        return "random", sched["base"](env, rng)
    if t < sched["b"]:
        k = t - sched["a"]
        if k == 0:
            return "oob", 1.3 * high
        if k == 1:
            return "oob", -1.5 * high
        a = sched["base"](env, rng)
        i = k % nu
        a[i] = (1.3 if k % 2 else -1.3) * high[i]
        return "oob", a
    if t < sched["c"]:
        return "push", sched["push"](t, env, nu) * high
    a = rng.uniform(low, high)
    if t % 10 == 0:
        a = 1.3 * high * np.sign(a)
    return "after", a


def dumps_fixture(fx: dict) -> str:
    """JSON with one top-level key per line and one step per line (diff-friendly, compact)."""
    compact = dict(allow_nan=False, separators=(",", ":"))
    lines = [f" {json.dumps(k)}: {json.dumps(v, **compact)}" for k, v in fx.items() if k != "steps"]
    steps = ",\n".join(json.dumps(s, **compact) for s in fx["steps"])
    return "{\n" + ",\n".join(lines) + ',\n "steps": [\n' + steps + "\n ]\n}\n"


def record(env_id: str, idx: int) -> dict:
    sched = SCHEDULES[env_id]
    env = gym.make(env_id)
    u = env.unwrapped
    obs, info = u.reset(seed=RESET_SEED)
    rng = np.random.default_rng(ACTION_SEED_BASE + idx)

    fx = {
        "env": env_id,
        "gymnasium_version": gym.__version__,
        "mujoco_version": mujoco.__version__,
        "numpy_version": np.__version__,
        "xml_file": os.path.basename(u.fullpath),
        "frame_skip": int(u.frame_skip),
        "timestep": _f(u.model.opt.timestep),
        "dt": _f(u.dt),
        "reset_seed": RESET_SEED,
        "action_seed": ACTION_SEED_BASE + idx,
        "action_low": _vec(u.action_space.low),
        "action_high": _vec(u.action_space.high),
        "obs_dim": int(obs.size),
        "act_dim": int(u.action_space.shape[0]),
        "schedule": {
            "random": f"steps [0, {sched['a']}): {sched['base'].desc}",
            "oob": f"steps [{sched['a']}, {sched['b']}): out-of-bounds actions: +1.3x bound on all "
                   "components, then -1.5x bound on all, then the phase-A rule with component "
                   "(k mod act_dim) replaced by +-1.3x bound",
            "push": f"steps [{sched['b']}, {sched['c']}): {sched['push_desc']}",
            "after": f"steps [{sched['c']}, {sched['n']}): uniform random in bounds, every 10th step "
                     "sign(a) * 1.3x bound",
        },
        "reset": {
            "seed": RESET_SEED,
            "qpos": _vec(u.data.qpos),
            "qvel": _vec(u.data.qvel),
            "obs": _vec(obs),
            "info": _info(info),
        },
        "steps": [],
    }
    for t in range(sched["n"]):
        phase, action = make_actions(u, t, rng, sched)
        action = np.asarray(action, dtype=np.float64)  # float64 on purpose, see module docstring
        obs, reward, terminated, truncated, info = u.step(action)
        fx["steps"].append({
            "t": t,
            "phase": phase,
            "action": _vec(action),
            "obs": _vec(obs),
            "reward": _f(reward),
            "terminated": bool(terminated),
            "truncated": bool(truncated),
            "info": _info(info),
            "qpos": _vec(u.data.qpos),
            "qvel": _vec(u.data.qvel),
            "ncon": int(u.data.ncon),
        })
    env.close()
    return fx


def summarize(fx: dict, size: int) -> dict:
    steps = fx["steps"]
    term = [s["t"] for s in steps if s["terminated"]]
    lo = np.array(fx["action_low"])
    hi = np.array(fx["action_high"])
    oob = sum(1 for s in steps if np.any(np.array(s["action"]) > hi) or np.any(np.array(s["action"]) < lo))
    return {
        "env": fx["env"],
        "steps": len(steps),
        "first_term": term[0] if term else None,
        "term_steps": len(term),
        "contact_steps": sum(1 for s in steps if s["ncon"] > 0),
        "max_ncon": max(s["ncon"] for s in steps),
        "oob_steps": oob,
        "bytes": size,
    }


def main(argv: list[str]) -> int:
    envs = argv or ENV_ORDER
    os.makedirs(OUT_DIR, exist_ok=True)
    rows = []
    ok = True
    for env_id in envs:
        if env_id not in SCHEDULES:
            print(f"unknown env {env_id}; choose from {ENV_ORDER}")
            return 2
        fx = record(env_id, ENV_ORDER.index(env_id))
        text = dumps_fixture(fx)
        json.loads(text)  # sanity: valid JSON
        path = os.path.join(OUT_DIR, f"{env_id}.json")
        with open(path, "w") as f:
            f.write(text)
        row = summarize(fx, len(text.encode()))
        rows.append(row)
        can_terminate = env_id != "HalfCheetah-v5"
        if can_terminate and row["first_term"] is None:
            print(f"ERROR: {env_id} never terminated")
            ok = False
        if env_id != "InvertedPendulum-v5" and row["contact_steps"] == 0:
            print(f"ERROR: {env_id} had no contacts")
            ok = False
        if row["oob_steps"] == 0:
            print(f"ERROR: {env_id} had no out-of-bounds actions")
            ok = False
        if row["bytes"] > MAX_BYTES:
            print(f"ERROR: {env_id} fixture is {row['bytes']} bytes > {MAX_BYTES}")
            ok = False

    print(f"gymnasium {gym.__version__}, mujoco {mujoco.__version__}, numpy {np.__version__}; "
          f"reset seed {RESET_SEED}; fixtures in {os.path.relpath(OUT_DIR, REPO)}")
    hdr = f"{'env':22s} {'steps':>5s} {'first term':>10s} {'term steps':>10s} {'contact steps':>13s} " \
          f"{'max ncon':>8s} {'oob steps':>9s} {'size (KB)':>9s}"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        ft = "-" if r["first_term"] is None else str(r["first_term"])
        print(f"{r['env']:22s} {r['steps']:5d} {ft:>10s} {r['term_steps']:10d} {r['contact_steps']:13d} "
              f"{r['max_ncon']:8d} {r['oob_steps']:9d} {r['bytes'] / 1024:9.0f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
