#!/usr/bin/env python3
"""Replay the Gymnasium fixtures WITHOUT Gymnasium, on Sparrow's own XML files.

This is a plain-MuJoCo re-implementation of the v5 envs written from tools/parity/V5_NOTES.md,
i.e. exactly what the Swift side has to do:

  reset:  mj_resetData; qpos, qvel := fixture reset state; mj_forward
  step:   read "position before"; ctrl := action (unclamped); mj_step x frame_skip;
          mj_rnePostConstraint; then observation / reward / termination / info.

Every recorded quantity (obs, reward, terminated, info terms, qpos, qvel) is compared with the
fixture: |ours - fixture| <= 1e-9 * |fixture| + 1e-12. The script also reports how many values
are bit-identical: with numpy's summation order for the sums of squares (sumsq below) and an FMA
in distance_from_origin (norm2 below), everything is bit-identical. Run with --plain-sums to use
a plain left-to-right loop instead (what a naive Swift loop does): values then differ in the last
bits (relative error up to ~1e-12 on rewards that nearly cancel), still far inside 1e-9.

Exit status non-zero on any mismatch.

Usage:  /tmp/pyparity/bin/python tools/parity/replay_fixtures.py [EnvName ...]
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np

import mujoco

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX_DIR = os.path.join(REPO, "Tests", "EnvironmentsTests", "Fixtures")
XML_DIR = os.path.join(REPO, "models-xml")

RTOL = 1e-9
ATOL = 1e-12


def sumsq(v) -> float:
    """sum(v**2) in exactly numpy's order (np.sum(np.square(v)) on a contiguous float64 array).

    numpy's pairwise summation for n <= 128 elements: if n < 8, a plain left-to-right loop;
    otherwise 8 running partial sums r[j] = a[j] + a[j+8] + a[j+16] + ... over the first
    n - n % 8 elements, combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the remaining
    n % 8 elements added left to right. (All arrays summed by the v5 envs have <= 84 elements.)
    """
    a = [float(x) * float(x) for x in np.asarray(v, dtype=np.float64).ravel()]
    n = len(a)
    assert n <= 128, "blocked pairwise recursion for n > 128 not needed here"
    if n < 8:
        s = 0.0
        for x in a:
            s += x
        return s
    r = a[:8]
    i = 8
    while i < n - n % 8:
        for j in range(8):
            r[j] += a[i + j]
        i += 8
    s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        s += a[i]
        i += 1
    return s


def norm2(x: float, y: float) -> float:
    """np.linalg.norm([x, y]) = sqrt(dot): OpenBLAS ddot here computes fma(y, y, x*x).
    Emulated exactly with rationals (Python 3.10 has no math.fma). Swift:
    (x * x).addingProduct(y, y).squareRoot()."""
    from fractions import Fraction
    return math.sqrt(float(Fraction(x * x) + Fraction(y) * Fraction(y)))


class Env:
    xml = ""
    frame_skip = 1

    def __init__(self):
        self.m = mujoco.MjModel.from_xml_path(os.path.join(XML_DIR, self.xml))
        self.d = mujoco.MjData(self.m)
        self.dt = self.m.opt.timestep * self.frame_skip
        mujoco.mj_resetData(self.m, self.d)
        self.init_qpos = self.d.qpos.copy()  # = model qpos0

    def reset_to(self, qpos, qvel):
        mujoco.mj_resetData(self.m, self.d)
        self.d.qpos[:] = qpos
        self.d.qvel[:] = qvel
        mujoco.mj_forward(self.m, self.d)
        return self.obs()

    def simulate(self, action):
        self.d.ctrl[:] = action
        for _ in range(self.frame_skip):
            mujoco.mj_step(self.m, self.d)
        mujoco.mj_rnePostConstraint(self.m, self.d)


class Planar(Env):
    """Hopper / Walker2d / HalfCheetah: x from qpos[0]."""
    ctrl_w = 1e-3
    healthy_reward = 1.0
    clip_qvel = True

    def obs(self):
        v = self.d.qvel.copy()
        if self.clip_qvel:
            v = np.clip(v, -10.0, 10.0)
        return np.concatenate([self.d.qpos[1:], v])

    def step(self, action):
        x0 = self.d.qpos[0]
        self.simulate(action)
        x1 = self.d.qpos[0]
        xv = (x1 - x0) / self.dt
        obs = self.obs()
        fwd = 1.0 * xv
        ctrl = self.ctrl_w * sumsq(action)
        healthy = self.is_healthy()
        surv = self.healthy_reward if healthy else 0.0
        reward = fwd + surv - ctrl
        info = {
            "x_position": x1,
            "z_distance_from_origin": self.d.qpos[1] - self.init_qpos[1],
            "x_velocity": xv,
            "reward_forward": fwd,
            "reward_ctrl": -ctrl,
            "reward_survive": surv,
        }
        return obs, reward, not healthy, info


class Hopper(Planar):
    xml, frame_skip = "hopper.xml", 4

    def is_healthy(self):
        z, angle = self.d.qpos[1], self.d.qpos[2]
        state = np.concatenate([self.d.qpos, self.d.qvel])[2:]
        return bool(np.all((-100.0 < state) & (state < 100.0)) and 0.7 < z < math.inf and -0.2 < angle < 0.2)


class Walker2d(Planar):
    xml, frame_skip = "walker2d.xml", 4

    def is_healthy(self):
        z, angle = self.d.qpos[1], self.d.qpos[2]
        return bool(0.8 < z < 2.0 and -1.0 < angle < 1.0)


class HalfCheetah(Planar):
    xml, frame_skip = "half_cheetah.xml", 5
    ctrl_w = 0.1
    clip_qvel = False

    def step(self, action):
        x0 = self.d.qpos[0]
        self.simulate(action)
        x1 = self.d.qpos[0]
        xv = (x1 - x0) / self.dt
        fwd = 1.0 * xv
        ctrl = self.ctrl_w * sumsq(action)
        info = {"x_position": x1, "x_velocity": xv, "reward_forward": fwd, "reward_ctrl": -ctrl}
        return self.obs(), fwd - ctrl, False, info


class Ant(Env):
    xml, frame_skip = "ant.xml", 5

    def obs(self):
        cf = np.clip(self.d.cfrc_ext, -1.0, 1.0)[1:].ravel()
        return np.concatenate([self.d.qpos[2:], self.d.qvel, cf])

    def step(self, action):
        xy0 = self.d.xpos[1, :2].copy()  # body 1 = torso; xpos, NOT qpos (see V5_NOTES)
        self.simulate(action)
        xy1 = self.d.xpos[1, :2].copy()
        xv, yv = (xy1 - xy0) / self.dt
        state = np.concatenate([self.d.qpos, self.d.qvel])
        healthy = bool(np.isfinite(state).all() and 0.2 <= state[2] <= 1.0)
        fwd = xv * 1.0
        surv = 1.0 if healthy else 0.0
        ctrl = 0.5 * sumsq(action)
        contact = 5e-4 * sumsq(np.clip(self.d.cfrc_ext, -1.0, 1.0))  # all rows incl. world
        reward = fwd + surv - (ctrl + contact)
        info = {
            "x_position": self.d.qpos[0],
            "y_position": self.d.qpos[1],
            "distance_from_origin": norm2(self.d.qpos[0], self.d.qpos[1]),
            "x_velocity": xv,
            "y_velocity": yv,
            "reward_forward": fwd,
            "reward_ctrl": -ctrl,
            "reward_contact": -contact,
            "reward_survive": surv,
        }
        return self.obs(), reward, not healthy, info


class Humanoid(Env):
    xml, frame_skip = "humanoid.xml", 5

    def obs(self):
        d = self.d
        return np.concatenate([
            d.qpos[2:], d.qvel, d.cinert[1:].ravel(), d.cvel[1:].ravel(),
            d.qfrc_actuator[6:], d.cfrc_ext[1:].ravel(),
        ])

    def com_xy(self):
        mass = self.m.body_mass
        num = np.zeros(3)
        for b in range(self.m.nbody):
            num += mass[b] * self.d.xipos[b]
        return (num / mass.sum())[:2]

    def step(self, action):
        xy0 = self.com_xy()
        self.simulate(action)
        xy1 = self.com_xy()
        xv, yv = (xy1 - xy0) / self.dt
        healthy = bool(1.0 < self.d.qpos[2] < 2.0)
        fwd = 1.25 * xv
        surv = 5.0 if healthy else 0.0
        ctrl = 0.1 * sumsq(self.d.ctrl)  # data.ctrl == action as given (MuJoCo does not clamp it in place)
        contact = min(5e-7 * sumsq(self.d.cfrc_ext), 10.0)  # all rows incl. world, capped at 10
        reward = fwd + surv - (ctrl + contact)
        info = {
            "x_position": self.d.qpos[0],
            "y_position": self.d.qpos[1],
            "tendon_length": self.d.ten_length.copy(),
            "tendon_velocity": self.d.ten_velocity.copy(),
            "distance_from_origin": norm2(self.d.qpos[0], self.d.qpos[1]),
            "x_velocity": xv,
            "y_velocity": yv,
            "reward_survive": surv,
            "reward_forward": fwd,
            "reward_ctrl": -ctrl,
            "reward_contact": -contact,
        }
        return self.obs(), reward, not healthy, info


class InvertedPendulum(Env):
    xml, frame_skip = "inverted_pendulum.xml", 2

    def obs(self):
        return np.concatenate([self.d.qpos, self.d.qvel])

    def step(self, action):
        self.simulate(action)
        obs = self.obs()
        term = bool((not np.isfinite(obs).all()) or abs(obs[1]) > 0.2)
        reward = 0.0 if term else 1.0
        return obs, reward, term, {"reward_survive": reward}


ENVS = {
    "Hopper-v5": Hopper,
    "Walker2d-v5": Walker2d,
    "HalfCheetah-v5": HalfCheetah,
    "Ant-v5": Ant,
    "Humanoid-v5": Humanoid,
    "InvertedPendulum-v5": InvertedPendulum,
}


class Cmp:
    def __init__(self):
        self.n = 0
        self.bit = 0
        self.max_rel = 0.0
        self.errors: list[str] = []

    def __call__(self, where, ours, ref):
        a = np.atleast_1d(np.asarray(ours, dtype=np.float64))
        b = np.atleast_1d(np.asarray(ref, dtype=np.float64))
        if a.shape != b.shape:
            self.errors.append(f"{where}: shape {a.shape} vs {b.shape}")
            return
        self.n += a.size
        self.bit += int(np.sum(a == b))
        err = np.abs(a - b)
        rel = err / np.maximum(np.abs(b), 1e-300)
        bad = err > RTOL * np.abs(b) + ATOL
        self.max_rel = max(self.max_rel, float(np.max(np.where(err == 0, 0.0, rel))))
        if bad.any():
            i = int(np.argmax(bad))
            self.errors.append(f"{where}[{i}]: ours {a[i]!r} vs fixture {b[i]!r}")


def replay(path: str) -> bool:
    with open(path) as f:
        fx = json.load(f)
    env = ENVS[fx["env"]]()
    assert env.frame_skip == fx["frame_skip"], "frame_skip mismatch"
    assert env.dt == fx["dt"], "dt mismatch"
    cmp = Cmp()
    obs = env.reset_to(fx["reset"]["qpos"], fx["reset"]["qvel"])
    cmp("reset.obs", obs, fx["reset"]["obs"])
    term_mismatch = 0
    key_order_ok = True
    for s in fx["steps"]:
        obs, reward, term, info = env.step(np.array(s["action"], dtype=np.float64))
        t = s["t"]
        cmp(f"t{t}.obs", obs, s["obs"])
        cmp(f"t{t}.reward", reward, s["reward"])
        cmp(f"t{t}.qpos", env.d.qpos, s["qpos"])
        cmp(f"t{t}.qvel", env.d.qvel, s["qvel"])
        if term != s["terminated"]:
            term_mismatch += 1
            cmp.errors.append(f"t{t}.terminated: ours {term} vs fixture {s['terminated']}")
        if list(info) != list(s["info"]):
            key_order_ok = False
            cmp.errors.append(f"t{t}.info keys: ours {list(info)} vs fixture {list(s['info'])}")
        for k in s["info"]:
            if k in info:
                cmp(f"t{t}.info.{k}", info[k], s["info"][k])
    ok = not cmp.errors
    print(f"{'PASS' if ok else 'FAIL'}  {fx['env']:20s} {len(fx['steps'])} steps, {cmp.n} values compared, "
          f"{cmp.bit} bit-identical, max rel err {cmp.max_rel:.2e}, terminated flags "
          f"{'all match' if term_mismatch == 0 else f'{term_mismatch} differ'}, info key order "
          f"{'matches' if key_order_ok else 'DIFFERS'}")
    for e in cmp.errors[:10]:
        print(f"      {e}")
    if len(cmp.errors) > 10:
        print(f"      ... {len(cmp.errors) - 10} more")
    return ok


def _plain_sumsq(v) -> float:
    s = 0.0
    for x in np.asarray(v, dtype=np.float64).ravel():
        s += float(x) * float(x)
    return s


def _plain_norm2(x: float, y: float) -> float:
    return math.sqrt(x * x + y * y)


def main(argv: list[str]) -> int:
    global sumsq, norm2
    if "--plain-sums" in argv:
        argv = [a for a in argv if a != "--plain-sums"]
        sumsq, norm2 = _plain_sumsq, _plain_norm2
        print("using plain left-to-right sums and sqrt(x*x + y*y)")
    envs = argv or list(ENVS)
    print(f"mujoco {mujoco.__version__}; models from models-xml/; tolerance |d| <= {RTOL}*|ref| + {ATOL}")
    results = [replay(os.path.join(FIX_DIR, f"{e}.json")) for e in envs]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
