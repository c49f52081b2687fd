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

# The main job. Until the agents land (issue 4) it rolls out Hopper-v5 with random actions and writes the
# trajectory into runs/.
train: build
	@mkdir -p runs
	$(SPARROW) rollout Hopper-v5 --random-steps 1000 --seed 0 > runs/hopper-random-rollout.jsonl
	@echo "wrote runs/hopper-random-rollout.jsonl ($$(wc -l < runs/hopper-random-rollout.jsonl) steps)"

clean:
	rm -rf .build runs
