#!/usr/bin/env python3
"""Check that the SYSTEM libmujoco (Debian libmujoco2.2.2, the one Sparrow's Swift code links)
reproduces the Gymnasium fixtures, which were recorded with the pip wheel's own libmujoco 2.2.2.

The two libraries are different builds of the same MuJoCo release (different compilers/flags), so
this measures how far apart their trajectories get. It builds tools/parity/replay_c.c with gcc,
replays every fixture's reset state + actions on models-xml/<robot>.xml, and compares qpos, qvel
(and cfrc_ext against a pip-wheel replay) with the fixture.

Usage:  /tmp/pyparity/bin/python tools/parity/replay_system_lib.py [EnvName ...]
Needs:  gcc and libmujoco-dev (apt).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import mujoco

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FIX_DIR = os.path.join(REPO, "Tests", "EnvironmentsTests", "Fixtures")
XML = {
    "Hopper-v5": "hopper.xml",
    "Walker2d-v5": "walker2d.xml",
    "HalfCheetah-v5": "half_cheetah.xml",
    "Ant-v5": "ant.xml",
    "Humanoid-v5": "humanoid.xml",
    "InvertedPendulum-v5": "inverted_pendulum.xml",
}
RTOL, ATOL = 1e-9, 1e-12


def build() -> str:
    exe = os.path.join(tempfile.gettempdir(), "sparrow_replay_c")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "replay_c.c"), "-lmujoco"], check=True)
    return exe


def wheel_replay(xml: str, fx: dict) -> list[np.ndarray]:
    m = mujoco.MjModel.from_xml_path(xml)
    d = mujoco.MjData(m)
    mujoco.mj_resetData(m, d)
    d.qpos[:] = fx["reset"]["qpos"]
    d.qvel[:] = fx["reset"]["qvel"]
    mujoco.mj_forward(m, d)
    out = []
    for s in fx["steps"]:
        d.ctrl[:] = s["action"]
        for _ in range(fx["frame_skip"]):
            mujoco.mj_step(m, d)
        mujoco.mj_rnePostConstraint(m, d)
        out.append(d.cfrc_ext.ravel().copy())
    return out


def main(argv: list[str]) -> int:
    exe = build()
    envs = argv or list(XML)
    all_ok = True
    print("system libmujoco vs fixture (pip-wheel libmujoco); tolerance |d| <= 1e-9*|ref| + 1e-12")
    for env in envs:
        fx = json.load(open(os.path.join(FIX_DIR, f"{env}.json")))
        xml = os.path.join(REPO, "models-xml", XML[env])
        lines = [f"{len(fx['steps'])} {fx['frame_skip']}",
                 " ".join(repr(x) for x in fx["reset"]["qpos"]),
                 " ".join(repr(x) for x in fx["reset"]["qvel"])]
        lines += [" ".join(repr(x) for x in s["action"]) for s in fx["steps"]]
        res = subprocess.run([exe, xml], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
        rows = [np.array([float(v) for v in ln.split()]) for ln in res.stdout.strip().splitlines()]
        nq, nv = len(fx["reset"]["qpos"]), len(fx["reset"]["qvel"])
        wheel_cfrc = wheel_replay(xml, fx)
        first_bad = None
        first_diff = None
        max_rel = 0.0
        max_abs = 0.0
        for s, row, wc in zip(fx["steps"], rows, wheel_cfrc):
            ref = np.concatenate([s["qpos"], s["qvel"], wc])
            got = row[: nq + nv + wc.size]
            err = np.abs(got - ref)
            max_abs = max(max_abs, float(err.max()))
            nz = err > 0
            if nz.any():
                max_rel = max(max_rel, float(np.max(err[nz] / np.maximum(np.abs(ref[nz]), 1e-300))))
                if first_diff is None:
                    first_diff = s["t"]
            if first_bad is None and np.any(err > RTOL * np.abs(ref) + ATOL):
                first_bad = s["t"]
        ok = first_bad is None
        all_ok &= ok
        print(f"{'PASS' if ok else 'FAIL'}  {env:20s} {len(rows)} steps; first non-bit-identical step: "
              f"{'none' if first_diff is None else first_diff}; first step beyond 1e-9: "
              f"{'none' if first_bad is None else first_bad}; max abs diff {max_abs:.2e}, max rel {max_rel:.2e}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
