#!/usr/bin/env python3
"""Record Gymnasium's classic-control trajectories as JSON fixtures for Sparrow's Swift env tests.

Runs `gymnasium.make(name)` (so the TimeLimit wrapper is included and `truncated` is Gymnasium's own) for
CartPole-v1, Acrobot-v1 and MountainCar-v0, and writes Tests/EnvironmentsTests/Fixtures/<Name>.json.

Each fixture holds several segments. A segment starts with `env.reset(seed=...)`, optionally followed by setting
`env.unwrapped.state` to a hand-written state (to reach regions a reset does not: the track's edge, the velocity
bounds, the left wall), and then steps a deterministic policy:

  CartPole-v1     terminate   random actions until the pole falls, then 30 more steps (reward 0, warning)
                  truncate    a balancing controller with 20% random actions for 505 steps (time limit 500)
                  edge        a hand-written state near x = 2.4 moving right: terminates by position
  Acrobot-v1      terminate   torque in the direction of the second joint's velocity (pumps energy) until the
                              tip is above the bar, then 20 random steps
                  truncate    random actions for 505 steps (time limit 500)
                  bounds      a hand-written state at the angle wrap and near the velocity bounds
                  libm-pow    a hand-written state where x**2 (libm's pow, as NumPy computes it) and x*x differ
                              in the last bit; chaos makes that a difference > 1e-12 within 30 steps
  MountainCar-v0  terminate   push in the direction of the velocity (hits the left wall on the way), then 15
                              more steps at the right edge
                  truncate    random actions for 205 steps (time limit 200)
                  wall        a hand-written state rushing at the left wall, pushing left, then the push policy

Fixture keys, one per line (`steps` one step per line):
  env, gymnasium_version, numpy_version, max_episode_steps, dt, actions (Discrete n),
  observation_low, observation_high (float32 bounds as Gymnasium exposes them; infinities as "inf"/"-inf"),
  segments: [{name, how, reset_seed, start_state, start_obs, steps: [{t, action, obs, reward, terminated,
              truncated, state[, steps_beyond_terminated]}]}]

  * start_state is `env.unwrapped.state` after the reset (and the override); start_obs is the reset's
    observation, or null after an override (Gymnasium returns none then).
  * state is `env.unwrapped.state` after each step: float64 (Acrobot's reset state is float32, converted
    exactly). obs is Gymnasium's float32 observation, converted exactly to float64.
  * Floats are written with Python's repr (the shortest string that round-trips); nothing is rounded.
  * Stepping continues after termination; terminated and truncated are recorded as Gymnasium returns them.

Usage:  /tmp/pyparity/bin/python tools/parity/make_classic_fixtures.py [Name ...]
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings

import numpy as np

import gymnasium as gym

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "Tests", "EnvironmentsTests", "Fixtures")


# --- policies (deterministic given their generator) -------------------------------------------------------

def random_policy(n):
    return lambda obs, rng: int(rng.integers(n))


def cartpole_balance(eps):
    """Push towards where the pole is falling (angle, angular velocity, a little cart feedback); eps random."""
    def policy(obs, rng):
        x, x_dot, theta, theta_dot = (float(v) for v in obs)
        if rng.random() < eps:
            return int(rng.integers(2))
        return int(theta + 0.5 * theta_dot + 0.01 * x + 0.1 * x_dot > 0)
    return policy


def acrobot_pump(obs, rng):
    """Torque in the direction of the second joint's velocity: pumps energy until the tip clears the bar."""
    return 2 if obs[5] > 0 else 0


def mountain_car_push(obs, rng):
    """Push in the direction of the velocity."""
    return 2 if obs[1] >= 0 else 0


def constant(a):
    return lambda obs, rng: a


# --- segments -----------------------------------------------------------------------------------------------
# (name, how, reset seed, state override or None, [(policy, steps, until_terminated)], action seed)
# A phase with until_terminated=True runs until a step terminates (at most `steps` steps).

SEGMENTS = {
    "CartPole-v1": [
        ("terminate", "random actions until termination, then 30 random steps", 42, None,
         [(random_policy(2), 500, True), (random_policy(2), 30, False)], 1),
        ("truncate", "balancing controller, 20% random actions, 505 steps (limit 500)", 43, None,
         [(cartpole_balance(0.2), 505, False)], 2),
        ("edge", "from x = 2.3 moving right, balancing: terminates by position; 10 more steps", 44,
         [2.3, 0.9, 0.01, 0.0], [(cartpole_balance(0.0), 500, True), (constant(1), 10, False)], 3),
    ],
    "Acrobot-v1": [
        ("terminate", "torque along the second joint's velocity until termination, then 20 random steps", 42,
         None, [(acrobot_pump, 500, True), (random_policy(3), 20, False)], 1),
        ("truncate", "random actions, 505 steps (limit 500)", 43, None, [(random_policy(3), 505, False)], 2),
        ("bounds", "from angles at the wrap and velocities near the bounds, 40 random steps", 44,
         [3.1, -3.1, 12.4, -28.0], [(random_policy(3), 40, False)], 3),
        ("libm-pow", "a fast state where NumPy's x**2 (libm pow) and x*x differ in the last bit; 80 random steps",
         45, [0.5782002367051233, 2.550771855999983, -2.1192338111446816, 15.344957988647952],
         [(random_policy(3), 80, False)], 5),
    ],
    "MountainCar-v0": [
        ("terminate", "push along the velocity (reaches the left wall) until termination, then 15 pushes right", 44,
         None, [(mountain_car_push, 200, True), (constant(2), 15, False)], 1),
        ("truncate", "random actions, 205 steps (limit 200)", 45, None, [(random_policy(3), 205, False)], 2),
        ("wall", "from -1.15 rushing left: 10 steps pushing left into the wall, then 30 pushes along the velocity",
         46, [-1.15, -0.06], [(constant(0), 10, False), (mountain_car_push, 30, False)], 3),
    ],
}

MAX_EPISODE_STEPS = {"CartPole-v1": 500, "Acrobot-v1": 500, "MountainCar-v0": 200}


def floats(xs):
    return [float(x) for x in np.asarray(xs, dtype=np.float64).ravel()]


def unwrapped_state(env):
    return floats(np.asarray(env.unwrapped.state, dtype=np.float64))


def record_segment(name, spec):
    seg_name, how, seed, override, phases, action_seed = spec
    env = gym.make(name)
    obs, _ = env.reset(seed=seed)
    start_obs = floats(obs)
    if override is not None:
        env.unwrapped.state = np.array(override, dtype=np.float64)
        start_obs = None
    start_state = unwrapped_state(env)
    rng = np.random.default_rng(action_seed)
    steps = []
    current = obs if override is None else np.asarray(override, dtype=np.float64)
    if override is not None and name == "Acrobot-v1":
        current = env.unwrapped._get_ob()
    t = 0
    for policy, count, until_terminated in phases:
        for _ in range(count):
            action = int(policy(current, rng))
            obs, reward, terminated, truncated, _ = env.step(action)
            step = {
                "t": t, "action": action, "obs": floats(obs), "reward": float(reward),
                "terminated": bool(terminated), "truncated": bool(truncated), "state": unwrapped_state(env),
            }
            if name == "CartPole-v1":
                step["steps_beyond_terminated"] = env.unwrapped.steps_beyond_terminated
            steps.append(step)
            current = obs
            t += 1
            if until_terminated and terminated:
                break
    env.close()
    return {"name": seg_name, "how": how, "reset_seed": seed, "start_state": start_state, "start_obs": start_obs,
            "steps": steps}


def number(x):
    if isinstance(x, float) and math.isinf(x):
        return json.dumps("inf" if x > 0 else "-inf")
    return json.dumps(x)


def dump(value):
    """JSON with floats as repr (json.dumps does that) and infinities as strings."""
    if isinstance(value, list):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {dump(v)}" for k, v in value.items()) + "}"
    return number(value)


def write_fixture(name):
    env = gym.make(name)
    space = env.observation_space
    header = {
        "env": name,
        "gymnasium_version": gym.__version__,
        "numpy_version": np.__version__,
        "max_episode_steps": env.spec.max_episode_steps,
        "dt": float(getattr(env.unwrapped, "tau", getattr(env.unwrapped, "dt", float("nan")))),
        "actions": int(env.action_space.n),
        "observation_low": floats(space.low),
        "observation_high": floats(space.high),
    }
    assert header["max_episode_steps"] == MAX_EPISODE_STEPS[name]
    if math.isnan(header["dt"]):
        header["dt"] = None  # MountainCar has no time step
    env.close()
    segments = [record_segment(name, spec) for spec in SEGMENTS[name]]
    lines = ["{"]
    for k, v in header.items():
        lines.append(f"  {json.dumps(k)}: {dump(v)},")
    lines.append('  "segments": [')
    for i, seg in enumerate(segments):
        lines.append("    {")
        for k in ("name", "how", "reset_seed", "start_state", "start_obs"):
            lines.append(f"      {json.dumps(k)}: {dump(seg[k])},")
        lines.append('      "steps": [')
        lines.append(",\n".join("        " + dump(s) for s in seg["steps"]))
        lines.append("      ]")
        lines.append("    }" + ("," if i + 1 < len(segments) else ""))
    lines.append("  ]")
    lines.append("}")
    path = os.path.join(OUT_DIR, f"{name}.json")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    json.loads(open(path).read().replace('"inf"', "1").replace('"-inf"', "-1"))  # well-formed
    return path, segments


def main(argv):
    warnings.filterwarnings("ignore")  # CartPole warns when stepped after termination: that is recorded on purpose
    names = argv or list(SEGMENTS)
    print(f"{'env':16} {'segment':10} {'steps':>5} {'first term.':>11} {'terminated':>10} {'first trunc.':>12} {'truncated':>9}")
    for name in names:
        if name not in SEGMENTS:
            sys.exit(f"unknown env {name}; valid: {', '.join(SEGMENTS)}")
        path, segments = write_fixture(name)
        for seg in segments:
            s = seg["steps"]
            term = [st["t"] for st in s if st["terminated"]]
            trunc = [st["t"] for st in s if st["truncated"]]
            print(f"{name:16} {seg['name']:10} {len(s):5} {str(term[0]) if term else '-':>11} {len(term):10} "
                  f"{str(trunc[0]) if trunc else '-':>12} {len(trunc):9}")
        print(f"  wrote {os.path.relpath(path, REPO)}")


if __name__ == "__main__":
    main(sys.argv[1:])
