#!/usr/bin/env python3
"""Holds the GIFs `sparrow replay --record x.gif` writes (Sparrow's own encoder) to Pillow's reader.

Records random play of an Atari game twice with the same seed, once as a GIF and once as a folder of PNG frames,
and a robot's pretrained policy as a GIF (more than 256 colours per frame: the median-cut path). Pillow must read
every GIF frame; the Atari GIF's frames must equal the PNG frames pixel for pixel (the screen has at most 128
colours, so the GIF is exact), its frame durations must add up to frames / fps, and it must loop forever. The robot
GIF must have the frames asked for, each close to its PNG frame. Exit status 0 when all holds.

    python tools/interop/check_gif.py --sparrow .build/release/sparrow --root /tmp/gif-check
"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image, ImageSequence


def record(sparrow, args, path):
    subprocess.run([sparrow, "replay", *args, "--record", path], check=True, stdout=subprocess.DEVNULL)


def frames(gif):
    with Image.open(gif) as im:
        loop = im.info.get("loop")
        out = [(np.asarray(f.convert("RGB")), f.info.get("duration")) for f in ImageSequence.Iterator(im)]
    return out, loop


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sparrow", required=True)
    p.add_argument("--root", required=True)
    a = p.parse_args()
    shutil.rmtree(a.root, ignore_errors=True)
    os.makedirs(a.root)
    failures = []
    cases = [
        ("ALE/Breakout-v5", ["--env", "ALE/Breakout-v5", "--random", "--seed", "3", "--width", "320", "--height", "420"], 40, 15, 0),
        ("hopper", ["hopper", "--width", "200", "--height", "150", "--fps", "20"], 20, 20, 24),
    ]
    for name, args, n, fps, tolerance in cases:
        stem = os.path.join(a.root, name.replace("/", "_"))
        args = args + ["--frames", str(n)]
        record(a.sparrow, args, stem + ".gif")
        record(a.sparrow, args, stem + "-png")
        got, loop = frames(stem + ".gif")
        if len(got) != n:
            failures.append(f"{name}: Pillow read {len(got)} frames, recorded {n}")
            continue
        if loop != 0:
            failures.append(f"{name}: loop {loop}, want 0 (forever)")
        total = sum(d for _, d in got)
        if abs(total - 1000 * n / fps) > 10:
            failures.append(f"{name}: durations add up to {total} ms, want {1000 * n / fps:.0f}")
        worst = 0.0
        for k, (rgb, _) in enumerate(got):
            png = np.asarray(Image.open(os.path.join(stem + "-png", f"frame_{k:05d}.png")).convert("RGB"))
            diff = np.abs(rgb.astype(int) - png.astype(int))
            worst = max(worst, diff.mean())
            if tolerance == 0 and diff.max() != 0:
                failures.append(f"{name}: frame {k} differs from the PNG in {(diff.max(axis=2) > 0).sum()} pixels")
            elif tolerance and diff.mean() > tolerance / 3:
                failures.append(f"{name}: frame {k} is {diff.mean():.1f} per channel from the PNG on average")
        print(f"{name}: {n} frames read by Pillow {Image.__version__}, {total} ms, mean error to the PNGs {worst:.2f} per channel, "
              f"{os.path.getsize(stem + '.gif') // 1024} kB")
    for f in failures:
        print("FAIL", f)
    print("GIF check:", "ok" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
