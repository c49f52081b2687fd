# Sparrow — make targets. `make test` and `make train` work on a fresh Debian 12 machine with Swift:
# they install the Debian packages they need first (only the missing ones; as root or through sudo).

# xvfb + Mesa GL/EGL: the viewer (window tests under Xvfb, headless recording through EGL); xdotool: real key
# presses in the window test;
# slurm-wlm + munge: the sweep tests' single-node SLURM; librsvg2-bin: PNG versions of report plots;
# cmake, g++, zlib1g-dev, python3-pip: building the Arcade Learning Environment for the Atari tasks (tools/ale/build.sh).
APT_PACKAGES := libmujoco-dev libglfw3-dev libopenblas-dev pkg-config xvfb libegl1 libegl-mesa0 libgl1-mesa-dri \
                slurm-wlm munge librsvg2-bin xdotool cmake g++ zlib1g-dev python3-pip
# Atari support (ALE, GPL-2.0-only, built into .build/ale and loaded at run time only for ALE/<Game>-v5 tasks; see
# the README's "Atari" section). `make deps SPARROW_ATARI=0` skips it: everything else works the same.
SPARROW_ATARI ?= 1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift
RELEASE := $(SWIFT) build -c release
SPARROW := .build/release/sparrow

.PHONY: deps build test test-interop check-atari bench bench-sb3 train replay replay-gif atari-gif clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=300 $$missing; \
	fi
	@if [ "$(SPARROW_ATARI)" != 0 ]; then bash tools/ale/build.sh; fi

build: deps
	$(RELEASE)

# The whole suite runs in release mode: numeric and simulation tests are 10-100x slower in debug builds.
test: deps
	$(SWIFT) test -c release -Xswiftc -enable-testing

# Checks against the programs users open Sparrow's files with, installed from PyPI into a virtualenv in
# .build-interop (tools/interop/requirements.txt; about 20 s the first time): TensorBoard's EventAccumulator reads a
# straight and a SIGTERM + --resume run's event files and holds every scalar to metrics.csv / evaluations.csv
# (tools/interop/check_tensorboard.py); onnxruntime runs `sparrow export --onnx` models and cc compiles `--c` files
# of SAC, TD3, PPO and DQN policies, each held to `sparrow eval --record`'s actions on 1000 observations to 1e-5, and
# prints their sizes and times per action (tools/interop/check_policy_export.py); Pillow reads `replay --record`
# GIFs (an Atari game's exactly equal to its PNG frames, a robot's close to them; tools/interop/check_gif.py).
# Uses the binary `make test` built (same flags: no rebuild after it).
INTEROP_VENV := .build-interop/venv
test-interop: deps
	$(SWIFT) build -c release -Xswiftc -enable-testing --product sparrow
	@[ $(INTEROP_VENV)/.installed -nt tools/interop/requirements.txt ] || { python3 -m venv $(INTEROP_VENV) && \
	  $(INTEROP_VENV)/bin/pip install -q -r tools/interop/requirements.txt && touch $(INTEROP_VENV)/.installed; }
	$(INTEROP_VENV)/bin/python tools/interop/check_tensorboard.py --sparrow $(SPARROW) --root .build-interop/tensorboard-check
	$(INTEROP_VENV)/bin/python tools/interop/check_policy_export.py --sparrow $(SPARROW) --root .build-interop/export-check
	$(INTEROP_VENV)/bin/python tools/interop/check_gif.py --sparrow $(SPARROW) --root .build-interop/gif-check

# Atari against Gymnasium + ale-py from PyPI (a virtualenv in .build-parity, tools/parity/requirements-atari.txt;
# ~30 s the first time): rollouts of five games × three seeds compared line by line and pixel by pixel, then agent
# steps/s of both on ALE/Breakout-v5 in one run. Needs Atari support (make deps without SPARROW_ATARI=0).
PARITY_VENV := .build-parity/venv
check-atari: build
	@[ $(PARITY_VENV)/.installed -nt tools/parity/requirements-atari.txt ] || { python3 -m venv $(PARITY_VENV) && \
	  $(PARITY_VENV)/bin/pip install -q -r tools/parity/requirements-atari.txt && touch $(PARITY_VENV)/.installed; }
	$(PARITY_VENV)/bin/python tools/parity/check_atari_rollout.py --sparrow $(SPARROW)
	$(PARITY_VENV)/bin/python tools/parity/bench_atari.py --sparrow $(SPARROW)

bench: build
	$(SPARROW) bench blas --json
	$(SPARROW) bench env --json
	$(SPARROW) bench nn --json
	$(SPARROW) bench dense-path --widths 11 256 256 1 --json
	$(SPARROW) bench train --env Hopper-v5 --preset dense-sac --json
	$(SPARROW) bench train --env Hopper-v5 --preset tows-sac --json
	$(SPARROW) bench train --env Hopper-v5 --preset tows-sac --profile --threads 2 --json
	python3 tools/bench/summary.py --sparrow $(SPARROW)

# Stable-Baselines3's SAC on the same workload and machine, then Sparrow's dense-sac and tows-sac: one JSON line
# with the three speeds and the ratios the speed targets name. The first run makes a virtualenv in .build-sb3 with
# torch, stable-baselines3 and gymnasium[mujoco] from PyPI (several GB).
SB3_VENV := .build-sb3/venv
THREADS ?= 1
bench-sb3: build
	@[ -e $(SB3_VENV)/.installed ] || { python3 -m venv $(SB3_VENV) && \
	  $(SB3_VENV)/bin/pip install -q torch stable-baselines3 "gymnasium[mujoco]" && touch $(SB3_VENV)/.installed; }
	$(SB3_VENV)/bin/python tools/bench/sb3_sac_speed.py --env Hopper-v5 --threads $(THREADS) --sparrow $(SPARROW)

# The main job: TowS-SAC (90% truly sparse) on Hopper-v5, with a progress bar, into runs/Hopper-v5_tows-sac.
# Re-running continues the run from its checkpoint. Shorter: make train STEPS=100000.
STEPS ?= 1000000
train: build
	$(SPARROW) train --env Hopper-v5 --preset tows-sac --steps $(STEPS) --run-dir runs/Hopper-v5_tows-sac --resume

# Watch a pretrained 90%-sparse TowS-SAC robot in a window: make replay ENV=ant (hopper, the default, walker2d,
# halfcheetah, ant, humanoid, or Gymnasium's names such as Ant-v5); it plays assets/ROBOT-tows-sac-0.9.policy
# (assets/README.md says how each was trained). make replay ENV=breakout plays the RigL 90% DQN of
# assets/breakout-rigl-dqn-0.9.policy. ENV is read from the command line only, not from the environment.
ENV = hopper
ZOO_ROBOT = $(shell echo '$(ENV)' | tr 'A-Z' 'a-z' | sed -e 's/-v[0-9]*$$//' -e 's/[-_]//g')
replay: build
	$(SPARROW) replay $(ENV)

# Re-make a robot's animation, assets/ROBOT-tows-sac-0.9.gif (needs ffmpeg for .gif; otherwise a folder of PNG
# frames): make replay-gif ENV=walker2d. The GIF_* settings are those of the first hopper GIF; tools/zoo/make_zoo.sh
# picks smaller ones where needed to keep a GIF under 400 kB (assets/ROBOT-tows-sac-0.9.json records which).
GIF_FRAMES = 80
GIF_FPS = 20
GIF_WIDTH = 400
GIF_HEIGHT = 300
replay-gif: build
	$(SPARROW) replay $(ENV) --record assets/$(ZOO_ROBOT)-tows-sac-0.9.gif --frames $(GIF_FRAMES) --fps $(GIF_FPS) \
	  --width $(GIF_WIDTH) --height $(GIF_HEIGHT)

# The README's Atari pictures, by Sparrow's own GIF encoder (no ffmpeg needed), at twice the screen's size, one frame
# per agent step: 20 s of random Breakout (seed 1), and 60 s of the trained RigL 90% agent of assets/ (seed 3).
atari-gif: build
	$(SPARROW) replay --env ALE/Breakout-v5 --random --seed 1 --record assets/breakout-random.gif --frames 300 \
	  --width 320 --height 420
	$(SPARROW) replay breakout --seed 3 --record assets/breakout-rigl-dqn-0.9.gif --frames 900 --width 320 --height 420

clean:
	rm -rf .build runs
