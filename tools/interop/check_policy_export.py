#!/usr/bin/env python3
"""Holds `sparrow export`'s ONNX models and C files to onnxruntime and the C compiler.

Trains short runs with the `sparrow` binary given — SAC (TowS, truly sparse, LeakyReLU) and TD3 (static, masked
layers) on HalfCheetah-v5, PPO (SET, observation normaliser) on HalfCheetah-v5, DQN (RigL) on CartPole-v1, and DQN
(SET, the truly sparse Nature CNN; RigL, the residual Impala network) on ALE/Breakout-v5 when Sparrow has Atari
support (200 observations of 28 224 frame bytes each) — and
takes the pretrained Hopper and Breakout policy files in assets/ (Breakout's: a version 3 file of a convolutional
Q network, evaluated with --eval-epsilon 0), so a run directory, a checkpoint file and a policy file are each
exported. For each policy it records 1000 observations and actions with `sparrow eval --record`, then:

  * runs the ONNX model (`sparrow export --onnx`) in onnxruntime on the 1000 observations: every action within
    1e-5 of sparrow eval's (DQN: the same greedy action, or one whose Q value is within 1e-5 of the best);
  * compiles the C file (`sparrow export --c`, CSR, and `--c-layout dense`) with `cc -O2` and holds its actions to
    the same bound, and its raw network outputs to onnxruntime's.

It then prints, per policy, the file sizes and the time per action (batch of one) of the C files (cc -O2, and
-O3 -march=native) and of onnxruntime: measured, never asserted. Exit status 0 when every check holds; each failure is printed.

    python tools/interop/check_policy_export.py --sparrow .build/release/sparrow --root /tmp/export-check
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OBSERVATIONS = 1000
TOLERANCE = 1e-5
SHORT = ["--eval-episodes", "1", "--checkpoint-every", "1000000", "--no-progress"]

# name -> (sparrow train arguments, which path to export: "run", "checkpoint"), evaluation episodes
TRAINED = {
    "sac-tows-halfcheetah": (["--env", "HalfCheetah-v5", "--preset", "tows-sac", "--activation", "leaky-relu",
                              "--steps", "3000", "--start-steps", "1000", "--eval-every", "3000"], "run", 1),
    "td3-static-masked-halfcheetah": (["--env", "HalfCheetah-v5", "--preset", "ss-td3", "--backend", "masked",
                                       "--steps", "3000", "--start-steps", "1000", "--eval-every", "3000"],
                                      "checkpoint", 1),
    "ppo-set-halfcheetah": (["--env", "HalfCheetah-v5", "--preset", "set-ppo", "--steps", "4096",
                             "--rollout-steps", "2048", "--eval-every", "4096"], "run", 1),
    "dqn-rigl-cartpole": (["--env", "CartPole-v1", "--preset", "rigl-dqn", "--steps", "3000", "--start-steps", "1000",
                           "--eval-every", "3000"], "run", 300),
}
# Convolutional policies: fewer (large) observations; greedy evaluation so eval's actions are the network's.
ATARI = {
    "dqn-set-natureCNN-breakout": (["--env", "ALE/Breakout-v5", "--preset", "set-dqn-atari", "--steps", "600",
                                    "--start-steps", "300", "--eval-every", "600", "--eval-epsilon", "0",
                                    "--buffer-size", "600", "--max-episode-frames", "2000"], "checkpoint", 1),
    # The residual Impala network: MaxPool, Relu and Add nodes between the convolutions (a few updates at batch 8).
    "dqn-rigl-impala-breakout": (["--env", "ALE/Breakout-v5", "--preset", "rigl-dqn-atari-impala", "--steps", "300",
                                  "--start-steps", "200", "--eval-every", "300", "--eval-epsilon", "0",
                                  "--batch-size", "8", "--update-interval", "10",
                                  "--buffer-size", "300", "--max-episode-frames", "1000"], "checkpoint", 1),
}
ATARI_OBSERVATIONS = 200
# name -> (policy file, evaluation episodes, extra `sparrow eval` arguments, convolutional)
ZOO = {"zoo-hopper-policy-file": (os.path.join(REPO, "assets", "hopper-tows-sac-0.9.policy"), 2, [], False),
       # The shipped Breakout agent (policy file version 3: the 90% sparse Nature CNN, frames scaled by 1/255),
       # evaluated greedily so that eval's actions are the network's (its run evaluated with ε 0.001).
       "zoo-breakout-policy-file": (os.path.join(REPO, "assets", "breakout-rigl-dqn-0.9.policy"), 1,
                                    ["--eval-epsilon", "0"], True)}

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-6000:]}")
    return p.stdout


def recorded(path):
    obs, act = [], []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            obs.append(r["observation"])
            act.append(r["action"])
    return np.array(obs, dtype=np.float64), np.array(act, dtype=np.float64)


def compile_policy(c_file, exe, flags=("-O2",)):
    run(["cc", *flags, "-std=c99", "-Wall", "-Wextra", "-Werror", f'-DPOLICY_C="{os.path.abspath(c_file)}"',
         os.path.join(HERE, "c_policy_harness.c"), "-o", exe, "-lm"])
    obj = exe + ".o"
    run(["cc", *flags, "-std=c99", "-c", c_file, "-o", obj])
    text, data, bss = (int(v) for v in run(["size", obj]).splitlines()[1].split()[:3])
    return text + data + bss


def harness_input(obs):
    return struct.pack("<i", len(obs)) + obs.astype("<f8").tobytes()


def run_c(exe, obs, actions, outputs, discrete):
    out = subprocess.run([exe], input=harness_input(obs), capture_output=True, check=True).stdout
    n = len(obs)
    if discrete:
        a = np.frombuffer(out[:4 * n], dtype="<i4").astype(np.float64)[:, None]
    else:
        a = np.frombuffer(out[:4 * n * actions], dtype="<f4").reshape(n, actions).astype(np.float64)
    z = np.frombuffer(out[len(out) - 4 * n * outputs:], dtype="<f4").reshape(n, outputs).astype(np.float64)
    return a, z


def time_c(exe, obs, rounds=20):
    return json.loads(subprocess.run([exe, "--time", str(rounds)], input=harness_input(obs), capture_output=True,
                                     check=True).stdout)["ns_per_action"]


def time_onnx(session, obs):
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for o in obs[:200]:
            session.run(None, {"observation": o[None]})
        best = min(best, (time.perf_counter_ns() - t0) / 200)
    return best


def check_actions(name, what, got, sparrow_actions, q_values=None):
    if q_values is None:
        err = np.max(np.abs(got - sparrow_actions))
        if not err <= TOLERANCE:
            fail(f"{name}: {what} actions differ from sparrow eval's by up to {err:.3g} (> {TOLERANCE})")
        return err
    # DQN: the greedy action, unless two Q values are within the tolerance (a near-tie either side may take).
    chosen = sparrow_actions[:, 0].astype(int)
    differ = np.nonzero(got[:, 0].astype(int) != chosen)[0]
    gap = q_values.max(axis=1) - q_values[np.arange(len(chosen)), chosen]
    bad = [i for i in differ if gap[i] > TOLERANCE]
    if bad:
        fail(f"{name}: {what} picks another action than sparrow eval at {len(bad)} of {len(chosen)} observations "
             f"(first: observation {bad[0]}, Q gap {gap[bad[0]]:.3g})")
    return float(len(differ))


def check_policy(name, sparrow, path, episodes, work, observations=OBSERVATIONS, eval_args=()):
    rec = os.path.join(work, "eval.jsonl")
    run([sparrow, "eval", path, "--episodes", str(episodes), "--record", rec, *eval_args])
    obs, sparrow_actions = recorded(rec)
    if len(obs) < observations:
        fail(f"{name}: sparrow eval recorded {len(obs)} steps in {episodes} episodes, need {observations}")
        return None
    obs, sparrow_actions = obs[:observations], sparrow_actions[:observations]

    onnx_path, c_path, dense_path = (os.path.join(work, f) for f in ("policy.onnx", "policy.c", "policy_dense.c"))
    csc_path = os.path.join(work, "policy_csc.c")
    run([sparrow, "export", path, "--onnx", onnx_path, "--c", c_path])
    run([sparrow, "export", path, "--c", dense_path, "--c-layout", "dense"])
    run([sparrow, "export", path, "--c", csc_path, "--c-layout", "csc"])

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    inputs, outputs = session.get_inputs(), [o.name for o in session.get_outputs()]
    if [i.name for i in inputs] != ["observation"] or inputs[0].type != "tensor(double)":
        fail(f"{name}: ONNX inputs {[(i.name, i.type) for i in inputs]}, expected observation float64")
    result = dict(zip(outputs, session.run(None, {"observation": obs})))
    discrete = "q_values" in result
    onnx_actions = result["action"].astype(np.float64)
    if discrete:
        onnx_actions = onnx_actions[:, None]
    q = result["q_values"].astype(np.float64) if discrete else None
    onnx_err = check_actions(name, "onnxruntime", onnx_actions, sparrow_actions, q)
    # The batch is one matrix product per layer in onnxruntime; one observation at a time must agree with it.
    single = np.concatenate([session.run(["action"], {"observation": o[None]})[0] for o in obs[:50]]).astype(np.float64)
    if discrete:
        single = single[:, None]
    if np.max(np.abs(single - onnx_actions[:50])) > TOLERANCE:
        fail(f"{name}: onnxruntime's batch-of-one actions differ from its batched ones")

    row = {"policy": name, "onnx_bytes": os.path.getsize(onnx_path), "onnx_max_error": onnx_err}
    n_actions = sparrow_actions.shape[1]
    for layout, c_file in (("csr", c_path), ("csc", csc_path), ("dense", dense_path)):
        exe = os.path.join(work, f"harness_{layout}")
        row[f"c_{layout}_object_bytes"] = compile_policy(c_file, exe)
        row[f"c_{layout}_source_bytes"] = os.path.getsize(c_file)
        n_outputs = q.shape[1] if discrete else None
        if n_outputs is None:  # the raw outputs' width: read it back from the generated file
            with open(c_file) as f:
                n_outputs = int(next(l for l in f if l.startswith("#define SPARROW_POLICY_OUTPUTS")).split()[2])
        c_actions, c_outputs = run_c(exe, obs, n_actions, n_outputs, discrete)
        row[f"c_{layout}_max_error"] = check_actions(name, f"C ({layout})", c_actions, sparrow_actions,
                                                     c_outputs if discrete else None)
        if discrete:
            z_err = np.max(np.abs(c_outputs - q))
            if z_err > TOLERANCE * max(1.0, np.max(np.abs(q))):
                fail(f"{name}: C ({layout}) Q values differ from onnxruntime's by {z_err:.3g}")
        # A convolutional policy takes milliseconds an action (Impala's dense file a good part of a second): it is
        # timed on one pass over its first 20 observations.
        timed, rounds = (obs, 20) if observations == OBSERVATIONS else (obs[:20], 1)
        row[f"c_{layout}_ns_per_action"] = time_c(exe, timed, rounds)
        compile_policy(c_file, exe + "_native", ("-O3", "-march=native"))
        row[f"c_{layout}_ns_per_action_O3_native"] = time_c(exe + "_native", timed, rounds)
    row["onnxruntime_ns_per_action"] = round(time_onnx(session, obs), 1)
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sparrow", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    sparrow = os.path.abspath(args.sparrow)
    shutil.rmtree(args.root, ignore_errors=True)
    os.makedirs(args.root)
    rows = []
    for name, (train_args, export_what, episodes) in TRAINED.items():
        work = os.path.join(args.root, name)
        os.makedirs(work)
        run_dir = os.path.join(work, "run")
        run([sparrow, "train", *train_args, *SHORT, "--run-dir", run_dir])
        path = run_dir if export_what == "run" else os.path.join(run_dir, "checkpoint.sparrow")
        rows.append(check_policy(name, sparrow, path, episodes, work))
    # Atari: skipped when this build has no ALE.
    atari = True
    for name, (train_args, export_what, episodes) in ATARI.items():
        work = os.path.join(args.root, name)
        os.makedirs(work)
        run_dir = os.path.join(work, "run")
        try:
            run([sparrow, "train", *train_args, *SHORT, "--run-dir", run_dir])
        except RuntimeError as e:
            if "Atari support is not built" in str(e):
                print(f"skip {name}: Sparrow was built without Atari support")
                atari = False
                continue
            raise
        path = run_dir if export_what == "run" else os.path.join(run_dir, "checkpoint.sparrow")
        rows.append(check_policy(name, sparrow, path, episodes, work, ATARI_OBSERVATIONS))
    for name, (policy_file, episodes, eval_args, convolutional) in ZOO.items():
        if convolutional and not atari:
            print(f"skip {name}: Sparrow was built without Atari support")
            continue
        work = os.path.join(args.root, name)
        os.makedirs(work)
        rows.append(check_policy(name, sparrow, policy_file, episodes, work,
                                 ATARI_OBSERVATIONS if convolutional else OBSERVATIONS, eval_args=eval_args))
    print(json.dumps([r for r in rows if r], indent=1))
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print(f"ok: {len(rows)} policies; onnxruntime and cc agree with sparrow eval to {TOLERANCE} on {OBSERVATIONS} observations each "
          f"({ATARI_OBSERVATIONS} for the convolutional ones)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
