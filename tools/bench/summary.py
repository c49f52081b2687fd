"""The speed table of issue 26, measured in one run on this machine, with the CPU named (`make bench` ends with it).

Runs `sparrow bench nn --json` (23-256-256-1, batch 256, densities 0.1 and 0.05) and `sparrow bench train --json`
for dense-sac and tows-sac on Hopper-v5 with one and two threads, then prints each measure beside its goal:

  tows-sac 90% vs dense-sac per training step          goal >= 5x
  --threads 2 vs 1, dense-sac and tows-sac               goal >= 1.7x each
  sparse kernel GFLOP/s / dense GEMM at density 0.1       goal >= 0.5 (forward, input gradient, weight gradient)
  23-256-256-1 step, density 0.1 / 0.05 vs dense          goal >= 6x / >= 10x
  bytes of weights + moments + indices at 0.1 vs dense    goal <= 1/6

and, when `make bench-sb3` has made its virtualenv (torch is several GB, so this script never installs it), tows-sac
against Stable-Baselines3's SAC (goal >= 15x). The last line is the same table as JSON. Timings on a shared machine
are noisy: compare ratios, which come from one run each.

    python3 tools/bench/summary.py --sparrow .build/release/sparrow [--steps 3000]
"""
import argparse
import json
import os
import subprocess
import sys


def json_lines(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sparrow", default=".build/release/sparrow")
    p.add_argument("--steps", type=int, default=3000, help="timed training steps per bench train run")
    p.add_argument("--env", default="Hopper-v5")
    a = p.parse_args()
    sparrow = a.sparrow

    nn = json_lines([sparrow, "bench", "nn", "--json", "--densities", "0.1", "0.05", "--minimum-time", "0.05"])
    steps = {(r["backend"], r["density"]): r for r in nn if "step_ms" in r and r["backend"] in ("dense", "sparse")}
    kernels = {(r["backend"], r["density"], r["kernel"]): r for r in nn if "kernel" in r}
    machine = next((r for r in nn if r.get("backend") == "openblas_sgemm"), {})

    def train(preset, threads):
        rows = json_lines([sparrow, "bench", "train", "--env", a.env, "--preset", preset, "--steps", str(a.steps),
                           "--threads", str(threads), "--json"])
        return rows[-1]["ms_per_step"]

    ms = {(preset, t): train(preset, t) for preset in ("dense-sac", "tows-sac") for t in (1, 2)}

    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    def field(name):
        return next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith(name + ":")), "?")
    model = f"{field('Model name')} (family {field('CPU family')} model {field('Model')})"
    flags = next((l.split(":", 1)[1].split() for l in cpu.splitlines() if l.startswith("Flags")), [])
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"

    dense_step = steps[("dense", 1)]["step_ms"]
    table = [
        ("tows-sac 90% vs dense-sac per training step (1 thread)", ms[("dense-sac", 1)] / ms[("tows-sac", 1)], ">= 5x"),
        ("--threads 2 vs 1, dense-sac", ms[("dense-sac", 1)] / ms[("dense-sac", 2)], ">= 1.7x"),
        ("--threads 2 vs 1, tows-sac", ms[("tows-sac", 1)] / ms[("tows-sac", 2)], ">= 1.7x"),
    ]
    for kernel in ("forward", "input_gradient", "weight_gradient"):
        ratio = kernels[("sparse", 0.1, kernel)]["gflops"] / kernels[("dense", 1, kernel)]["gflops"]
        table.append((f"sparse {kernel} GFLOP/s vs dense GEMM, density 0.1", ratio, ">= 0.5"))
    table += [
        ("23-256-256-1 step, density 0.1 vs dense", dense_step / steps[("sparse", 0.1)]["step_ms"], ">= 6x"),
        ("23-256-256-1 step, density 0.05 vs dense", dense_step / steps[("sparse", 0.05)]["step_ms"], ">= 10x"),
        ("bytes (weights + moments + indices) at 0.1 vs dense", steps[("sparse", 0.1)]["bytes_ratio"], "<= 0.167"),
    ]
    venv = os.path.join(".build-sb3", "venv")
    if os.path.exists(os.path.join(venv, ".installed")):
        sb3 = json_lines([os.path.join(venv, "bin", "python"), "tools/bench/sb3_sac_speed.py", "--env", a.env,
                          "--sparrow", sparrow])[-1]
        table.insert(0, ("tows-sac vs Stable-Baselines3 SAC (1 thread)", sb3["tows_vs_sb3"], ">= 15x"))
    else:
        print("(tows-sac vs Stable-Baselines3: run `make bench-sb3` once; it installs torch into .build-sb3)")

    print(f"\nCPU: {model} ({isa}); OpenBLAS core {machine.get('blas_core', '?')}; Sparrow kernels "
          f"{machine.get('kernel_body', '?')}; {a.env}, batch 256, {a.steps} timed steps per bench train run")
    print(f"dense-sac {ms[('dense-sac', 1)]:.2f} / {ms[('dense-sac', 2)]:.2f} ms per step (1 / 2 threads), "
          f"tows-sac {ms[('tows-sac', 1)]:.2f} / {ms[('tows-sac', 2)]:.2f}")
    width = max(len(t[0]) for t in table)
    print(f"{'measure'.ljust(width)}  {'now':>7}  goal")
    for name, value, goal in table:
        shown = f"{value:.3f}" if goal.startswith("<=") or goal == ">= 0.5" else f"{value:.2f}x"
        print(f"{name.ljust(width)}  {shown:>7}  {goal}")
    print(json.dumps({"cpu": model, "isa": isa, "kernel_body": machine.get("kernel_body"),
                      "measures": [{"measure": n, "value": round(v, 4), "goal": g} for n, v, g in table]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
