# Sparrow — make targets. `make test` and `make train` work on a fresh Debian 12 machine with Swift:
# they install the Debian packages they need first (only the missing ones; as root or through sudo).

APT_PACKAGES := libmujoco-dev libglfw3-dev libopenblas-dev pkg-config xvfb
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift
RELEASE := $(SWIFT) build -c release
SPARROW := .build/release/sparrow

.PHONY: deps build test bench train clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq -o DPkg::Lock::Timeout=300 $$missing; \
	fi

build: deps
	$(RELEASE)

# The whole suite runs in release mode: numeric and simulation tests are 10-100x slower in debug builds.
test: deps
	$(SWIFT) test -c release -Xswiftc -enable-testing

bench: build
	$(SPARROW) bench env --json
	$(SPARROW) bench nn --json
	$(SPARROW) bench train --env Hopper-v5 --preset dense-sac --json
	$(SPARROW) bench train --env Hopper-v5 --preset tows-sac --json

# The main job: TowS-SAC (90% truly sparse) on Hopper-v5, with a progress bar, into runs/Hopper-v5_tows-sac.
# Re-running continues the run from its checkpoint. Shorter: make train STEPS=100000.
STEPS ?= 1000000
train: build
	$(SPARROW) train --env Hopper-v5 --preset tows-sac --steps $(STEPS) --run-dir runs/Hopper-v5_tows-sac --resume

clean:
	rm -rf .build runs
