#!/usr/bin/env python3
"""Prove that Sparrow's MJCF files in models-xml/ are physically identical to Gymnasium's v5 XML.

For each robot, both XML files are compiled with the installed MuJoCo (2.2.2) and the compiled
mjModel structs are compared field by field:

  * every array / size field of mjModel (iterated generically, ~300 fields), including body_*,
    jnt_*, dof_*, geom_*, actuator_*, tendon_*, qpos0, qpos_spring, ...;
  * every field of mjModel.opt (timestep, integrator, solver, iterations, gravity, ...);
  * every field of mjModel.stat (meaninertia etc. are used by the solver);
  * the names of bodies, joints, geoms, sites, actuators, tendons, sensors, equalities, in order.

Floating-point fields must agree to <= 1e-12 absolute (the tool also says whether they are
bit-identical); integer fields must be equal. A short, explicit list of purely visual fields
(textures, materials, lights, cameras, colours, vis.*) is compared but only reported; they cannot
change the simulation.

Then both models are stepped 1000 times from the same perturbed initial state with the same random
controls (some outside the ctrl range to exercise clamping), and qpos/qvel must be identical.
Finally Gymnasium's own v5 env is run twice (seeded reset, 300 random float64 actions up to 1.3x
the action bounds): once on its XML and once with xml_file=<our XML>; observations, rewards,
termination flags, qpos and qvel must be bit-identical.

Prints a PASS/FAIL line per model and exits non-zero if any model fails.

Usage:  /tmp/pyparity/bin/python tools/parity/check_models.py [--verbose] [robot ...]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import mujoco
import gymnasium

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OURS_DIR = os.path.join(REPO, "models-xml")
GYM_DIR = os.path.join(os.path.dirname(gymnasium.__file__), "envs", "mujoco", "assets")

# robot -> (Gymnasium's XML used by the v5 env, our XML)
MODELS = {
    "hopper": ("hopper.xml", "hopper.xml"),
    "walker2d": ("walker2d_v5.xml", "walker2d.xml"),
    "half_cheetah": ("half_cheetah.xml", "half_cheetah.xml"),
    "ant": ("ant.xml", "ant.xml"),
    "humanoid": ("humanoid.xml", "humanoid.xml"),
    "inverted_pendulum": ("inverted_pendulum.xml", "inverted_pendulum.xml"),
}

# robot -> Gymnasium v5 env id (for the env-level check: the same env run on both XML files)
ENV_IDS = {
    "hopper": "Hopper-v5",
    "walker2d": "Walker2d-v5",
    "half_cheetah": "HalfCheetah-v5",
    "ant": "Ant-v5",
    "humanoid": "Humanoid-v5",
    "inverted_pendulum": "InvertedPendulum-v5",
}
ENV_STEPS = 300

TOL = 1e-12
ROLLOUT_STEPS = 1000

# Fields that only affect rendering. Compared and reported, never a failure.
VISUAL_PREFIXES = ("tex_", "mat_", "light_", "cam_", "skin_")
VISUAL_FIELDS = {
    "ntex", "ntexdata", "nmat", "nlight", "ncam", "nskin", "nskinvert", "nskintexvert",
    "nskinface", "nskinbone", "nskinbonevert",
    "geom_rgba", "geom_matid", "site_rgba", "site_matid", "tendon_rgba", "tendon_matid",
    "tendon_width",  # drawing width of tendons
    "geom_group", "site_group", "jnt_group", "actuator_group", "tendon_group",  # viewer groups
}
# Name storage differs whenever an (unnamed in Gymnasium) asset gets a name, e.g. our skybox
# texture is called "sky"; nbuffer (total bytes of the mjModel buffer) includes the name buffer.
# Names of the physical objects are compared separately, object by object, below.
NAME_FIELDS = {"names", "nnames", "nbuffer"}
# Object types whose names must match exactly, in order.
NAMED_OBJECTS = [
    ("body", mujoco.mjtObj.mjOBJ_BODY, "nbody"),
    ("joint", mujoco.mjtObj.mjOBJ_JOINT, "njnt"),
    ("geom", mujoco.mjtObj.mjOBJ_GEOM, "ngeom"),
    ("site", mujoco.mjtObj.mjOBJ_SITE, "nsite"),
    ("actuator", mujoco.mjtObj.mjOBJ_ACTUATOR, "nu"),
    ("tendon", mujoco.mjtObj.mjOBJ_TENDON, "ntendon"),
    ("sensor", mujoco.mjtObj.mjOBJ_SENSOR, "nsensor"),
    ("equality", mujoco.mjtObj.mjOBJ_EQUALITY, "neq"),
    ("numeric", mujoco.mjtObj.mjOBJ_NUMERIC, "nnumeric"),
]
# Fields that must be present in the generic comparison (guards against a binding change
# silently dropping them).
REQUIRED = [
    "nq", "nv", "nu", "na", "nbody", "ngeom", "njnt", "ntendon", "nwrap", "neq", "npair",
    "nexclude", "nsensor", "nkey", "nuser_geom",
    "body_pos", "body_quat", "body_mass", "body_inertia", "body_ipos", "body_iquat",
    "body_parentid", "body_subtreemass", "body_invweight0",
    "jnt_type", "jnt_range", "jnt_limited", "jnt_stiffness", "jnt_axis", "jnt_pos", "jnt_margin",
    "jnt_solref", "jnt_solimp", "jnt_qposadr", "jnt_dofadr", "jnt_bodyid",
    "dof_damping", "dof_armature", "dof_frictionloss", "dof_M0", "dof_invweight0",
    "dof_solref", "dof_solimp",
    "geom_type", "geom_size", "geom_pos", "geom_quat", "geom_friction", "geom_condim",
    "geom_contype", "geom_conaffinity", "geom_margin", "geom_gap", "geom_solref", "geom_solimp",
    "geom_solmix", "geom_priority", "geom_bodyid", "geom_rbound",
    "actuator_gear", "actuator_ctrlrange", "actuator_ctrllimited", "actuator_forcelimited",
    "actuator_forcerange", "actuator_gainprm", "actuator_biasprm", "actuator_dynprm",
    "actuator_trnid", "actuator_trntype", "actuator_gaintype", "actuator_biastype",
    "actuator_dyntype", "actuator_acc0", "actuator_length0", "actuator_lengthrange",
    "tendon_adr", "tendon_num", "tendon_stiffness", "tendon_damping", "tendon_limited",
    "tendon_range", "tendon_length0", "tendon_lengthspring", "tendon_frictionloss",
    "wrap_type", "wrap_objid", "wrap_prm",
    "qpos0", "qpos_spring", "key_qpos", "numeric_data",
]


def is_visual(name: str) -> bool:
    return name in VISUAL_FIELDS or name.startswith(VISUAL_PREFIXES)


def model_fields(m: mujoco.MjModel) -> list[str]:
    """All array and integer-size attributes of mjModel (generic iteration)."""
    out = []
    for name in dir(m):
        if name.startswith("_") or name.startswith("name_"):  # name_*adr: name-buffer offsets
            continue
        try:
            v = getattr(m, name)
        except Exception:
            continue
        if callable(v):
            continue
        if isinstance(v, (np.ndarray, int, float, np.integer, np.floating)):
            out.append(name)
    return sorted(out)


def struct_fields(s) -> list[str]:
    out = []
    for name in dir(s):
        if name.startswith("_"):
            continue
        v = getattr(s, name)
        if callable(v):
            continue
        if isinstance(v, (np.ndarray, int, float, np.integer, np.floating)):
            out.append(name)
    return sorted(out)


def compare_values(a, b):
    """Return (ok, bit_identical, description)."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return False, False, f"shape {a.shape} vs {b.shape}"
    if a.size == 0:
        return True, True, "empty"
    if np.issubdtype(a.dtype, np.floating) or np.issubdtype(b.dtype, np.floating):
        a64 = a.astype(np.float64)
        b64 = b.astype(np.float64)
        both_nan = np.isnan(a64) & np.isnan(b64)
        same_inf = np.isinf(a64) & np.isinf(b64) & (np.sign(a64) == np.sign(b64))
        diff = np.where(both_nan | same_inf, 0.0, np.abs(a64 - b64))
        maxdiff = float(np.nanmax(diff)) if diff.size else 0.0
        if np.isnan(diff).any():
            maxdiff = float("inf")
        bit = bool(np.array_equal(a64, b64, equal_nan=True))
        return maxdiff <= TOL, bit, f"max |diff| = {maxdiff:.3e}"
    eq = bool(np.array_equal(a, b))
    if eq:
        return True, True, "equal"
    idx = np.argwhere(a != b)
    first = tuple(idx[0]) if idx.size else ()
    return False, False, f"differs at {first}: {a[first]!r} vs {b[first]!r}"


def names_of(m, objtype, count_field) -> list[str]:
    n = getattr(m, count_field)
    return [mujoco.mj_id2name(m, objtype, i) for i in range(n)]


def rollout(m: mujoco.MjModel, seed: int, steps: int):
    """Step from qpos0 + small noise with random ctrl (up to 1.3x the ctrl range)."""
    rng = np.random.default_rng(seed)
    d = mujoco.MjData(m)
    mujoco.mj_resetData(m, d)
    d.qpos[:] = d.qpos + rng.uniform(-0.01, 0.01, size=m.nq)
    d.qvel[:] = rng.uniform(-0.01, 0.01, size=m.nv)
    mujoco.mj_forward(m, d)
    lo, hi = m.actuator_ctrlrange.T
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    qpos = np.empty((steps, m.nq))
    qvel = np.empty((steps, m.nv))
    ncon = 0
    for t in range(steps):
        d.ctrl[:] = mid + half * rng.uniform(-1.3, 1.3, size=m.nu)
        mujoco.mj_step(m, d)
        qpos[t] = d.qpos
        qvel[t] = d.qvel
        ncon += d.ncon
    return qpos, qvel, ncon


def env_rollout(env_id: str, xml_path: str | None, seed: int, steps: int):
    """Run Gymnasium's v5 env (unwrapped, so no TimeLimit) on the given XML with random actions."""
    kwargs = {} if xml_path is None else {"xml_file": xml_path}
    env = gymnasium.make(env_id, **kwargs).unwrapped
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    lo, hi = env.model.actuator_ctrlrange.T
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    rows = [np.asarray(obs, dtype=np.float64)]
    for _ in range(steps):
        a = mid + half * rng.uniform(-1.3, 1.3, size=env.model.nu)
        obs, rew, term, trunc, info = env.step(a)
        rows.append(np.concatenate([obs, [rew, float(term)], env.data.qpos, env.data.qvel]))
    env.close()
    return rows


def check(robot: str, verbose: bool) -> bool:
    gym_file, our_file = MODELS[robot]
    gym_path = os.path.join(GYM_DIR, gym_file)
    our_path = os.path.join(OURS_DIR, our_file)
    print(f"=== {robot}: gymnasium {gym_file}  vs  models-xml/{our_file}")
    try:
        mg = mujoco.MjModel.from_xml_path(gym_path)
    except Exception as e:  # noqa: BLE001
        print(f"  cannot load Gymnasium's model: {e}")
        return False
    try:
        mo = mujoco.MjModel.from_xml_path(our_path)
    except Exception as e:  # noqa: BLE001
        print(f"  cannot load our model: {e}")
        return False

    failures: list[str] = []
    visual_diffs: list[str] = []
    n_compared = 0
    n_bit = 0

    fields_g = model_fields(mg)
    fields_o = model_fields(mo)
    missing_req = [f for f in REQUIRED if f not in fields_g]
    if missing_req:
        failures.append(f"required fields not exposed by the bindings: {missing_req}")
    for f in sorted(set(fields_g) ^ set(fields_o)):
        failures.append(f"field {f} present in only one model")

    def record(label, ok, bit, desc, visual=False):
        nonlocal n_compared, n_bit
        n_compared += 1
        n_bit += bit
        if ok:
            if verbose:
                print(f"  ok   {label:32s} {'bit-identical' if bit else desc}")
            return
        if visual:
            visual_diffs.append(f"{label}: {desc}")
        else:
            failures.append(f"{label}: {desc}")

    for f in fields_g:
        if f not in fields_o:
            continue
        if f in NAME_FIELDS:
            ok, bit, desc = compare_values(getattr(mg, f), getattr(mo, f))
            if not ok:
                visual_diffs.append(f"{f}: {desc} (name storage)")
            continue
        ok, bit, desc = compare_values(getattr(mg, f), getattr(mo, f))
        record(f, ok, bit, desc, visual=is_visual(f))

    for sname in ("opt", "stat"):
        sg, so = getattr(mg, sname), getattr(mo, sname)
        for f in struct_fields(sg):
            ok, bit, desc = compare_values(getattr(sg, f), getattr(so, f))
            record(f"{sname}.{f}", ok, bit, desc)

    # vis.* : rendering settings only.
    for sub in ("global_", "quality", "headlight", "map", "scale", "rgba"):
        sg, so = getattr(mg.vis, sub), getattr(mo.vis, sub)
        for f in struct_fields(sg):
            ok, bit, desc = compare_values(getattr(sg, f), getattr(so, f))
            record(f"vis.{sub}.{f}", ok, bit, desc, visual=True)

    for label, objtype, count in NAMED_OBJECTS:
        ng, no = names_of(mg, objtype, count), names_of(mo, objtype, count)
        n_compared += 1
        if ng != no:
            failures.append(f"{label} names differ: {ng} vs {no}")
        else:
            n_bit += 1
            if verbose:
                print(f"  ok   {label + ' names':32s} {ng}")

    # Dynamic check: identical trajectories.
    qg, vg, cg = rollout(mg, seed=12345, steps=ROLLOUT_STEPS)
    qo, vo, co = rollout(mo, seed=12345, steps=ROLLOUT_STEPS)
    roll_ok = np.array_equal(qg, qo) and np.array_equal(vg, vo)
    roll_desc = (
        f"{ROLLOUT_STEPS} steps, contacts summed over steps {cg} vs {co}, "
        f"max |qpos diff| {np.max(np.abs(qg - qo)):.3e}, max |qvel diff| {np.max(np.abs(vg - vo)):.3e}"
    )
    if not roll_ok:
        failures.append(f"rollout not identical: {roll_desc}")

    # Env-level check: Gymnasium's own v5 env, once on its XML and once on ours (xml_file=...).
    env_id = ENV_IDS[robot]
    rg = env_rollout(env_id, None, seed=2024, steps=ENV_STEPS)
    ro = env_rollout(env_id, our_path, seed=2024, steps=ENV_STEPS)
    env_ok = len(rg) == len(ro) and all(np.array_equal(x, y) for x, y in zip(rg, ro))
    if not env_ok:
        failures.append(f"{env_id} with xml_file=ours gives different obs/reward/termination/state")

    print(
        f"  nq={mo.nq} nv={mo.nv} nu={mo.nu} nbody={mo.nbody} njnt={mo.njnt} ngeom={mo.ngeom} "
        f"ntendon={mo.ntendon} timestep={mo.opt.timestep} integrator={int(mo.opt.integrator)} "
        f"solver={int(mo.opt.solver)} iterations={mo.opt.iterations}"
    )
    print(f"  compared {n_compared} fields/structs: {n_bit} bit-identical, "
          f"{len(failures)} physics differences, {len(visual_diffs)} non-physics differences")
    print(f"  rollout: {'identical' if roll_ok else 'DIFFERENT'} ({roll_desc})")
    print(f"  env check: {env_id} on our XML vs Gymnasium's XML, {ENV_STEPS} steps: "
          f"{'identical obs/reward/terminated/qpos/qvel' if env_ok else 'DIFFERENT'}")
    for v in visual_diffs:
        print(f"  (non-physics, ignored) {v}")
    for fl in failures:
        print(f"  DIFF {fl}")
    status = "PASS" if not failures else "FAIL"
    print(f"{status}: {robot}")
    return not failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("robots", nargs="*", default=list(MODELS), help="subset of robots")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every compared field")
    args = ap.parse_args()
    print(f"mujoco {mujoco.__version__}, gymnasium {gymnasium.__version__}, assets {GYM_DIR}")
    results = {}
    for r in args.robots:
        if r not in MODELS:
            print(f"unknown robot {r!r}; choose from {list(MODELS)}")
            return 2
        results[r] = check(r, args.verbose)
    print()
    print("Summary:")
    for r, ok in results.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {r}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
