"""Training speed of Stable-Baselines3's SAC, for the comparison `sparrow bench train` is judged by.

Same workload as `sparrow bench train`: Hopper-v5 (or --env), twin 2x256 critics and a 2x256 actor (SB3's SAC
default), batch 256, one gradient update per env step, `--start-steps` random steps first (not timed), torch on
`--threads` threads (1 unless told). The last line is JSON with `steps_per_s`, like Sparrow's.

With `--sparrow PATH` it then runs `PATH bench train` for `dense-sac` and `tows-sac` on the same env, steps and
threads, and the last line holds all three speeds and the ratios the speed targets name, measured in one run:
`dense_vs_sb3` (dense-sac / SB3), `tows_vs_dense` (tows-sac / dense-sac) and `tows_vs_sb3`. The default window
(6000 timed steps after 1000 random ones) is long enough for a slowdown during training to show, and for six
topology updates of tows-sac.

Run through `make bench-sb3`, which makes a virtualenv with torch, stable-baselines3 and gymnasium[mujoco].
"""
import argparse
import json
import subprocess
import time

import gymnasium as gym
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback


class Clock(BaseCallback):
    """Records the wall time when the first gradient update is due (the end of the random start steps)."""

    def __init__(self, start_steps):
        super().__init__()
        self.start_steps = start_steps
        self.started_at = None

    def _on_step(self):
        if self.started_at is None and self.num_timesteps >= self.start_steps:
            self.started_at = time.perf_counter()
        return True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="Hopper-v5")
    p.add_argument("--steps", type=int, default=6000, help="timed training steps after the start steps")
    p.add_argument("--start-steps", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sparrow", help="a sparrow executable to measure right after SB3")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    env = gym.make(a.env)
    model = SAC("MlpPolicy", env, batch_size=256, learning_starts=a.start_steps, train_freq=1, gradient_steps=1,
                policy_kwargs=dict(net_arch=[256, 256]), seed=a.seed, device="cpu", verbose=0)
    clock = Clock(a.start_steps)
    model.learn(total_timesteps=a.start_steps + a.steps, callback=clock)
    seconds = time.perf_counter() - clock.started_at
    print(f"SB3 {a.env}: {a.steps} training steps in {seconds:.1f} s")
    sb3 = {"env": a.env, "implementation": "stable-baselines3", "threads": a.threads, "steps": a.steps,
           "seconds": seconds, "steps_per_s": a.steps / seconds, "torch": torch.__version__}
    print(json.dumps(sb3), flush=True)
    if a.sparrow:
        speeds = {}
        for preset in ["dense-sac", "tows-sac"]:
            out = subprocess.run([a.sparrow, "bench", "train", "--env", a.env, "--preset", preset,
                                  "--steps", str(a.steps), "--start-steps", str(a.start_steps),
                                  "--threads", str(a.threads), "--json"],
                                 check=True, capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            speeds[preset] = result["steps_per_s"]
            blas_core = result.get("blas_core", "?")
            print(f"sparrow {preset}: {speeds[preset]:.1f} steps/s", flush=True)
        print(json.dumps({"env": a.env, "steps": a.steps, "start_steps": a.start_steps, "threads": a.threads,
                          "blas_core": blas_core, "sb3_sac_steps_per_s": sb3["steps_per_s"],
                          "dense_sac_steps_per_s": speeds["dense-sac"], "tows_sac_steps_per_s": speeds["tows-sac"],
                          "dense_vs_sb3": speeds["dense-sac"] / sb3["steps_per_s"],
                          "tows_vs_dense": speeds["tows-sac"] / speeds["dense-sac"],
                          "tows_vs_sb3": speeds["tows-sac"] / sb3["steps_per_s"]}))


if __name__ == "__main__":
    main()
