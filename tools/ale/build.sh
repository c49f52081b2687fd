#!/usr/bin/env bash
# Builds the Arcade Learning Environment (ALE) and Sparrow's small C shim over it, once, into a cache under .build/.
#
# ALE is GPL-2.0-only, so none of it is committed and none of it is linked into `sparrow`: this script fetches the
# ale-py source distribution from PyPI with pip (pinned version and sha256), builds ALE's static C++ library with
# cmake, and links it with tools/ale/sparrow_ale_shim.cpp into one shared library, libsparrow_ale.so, that `sparrow`
# dlopen()s only when an Atari task is asked for (Sources/Environments/Atari/ALELibrary.swift says where it looks).
# The ROMs shipped in the sdist (src/ale/python/roms/*.bin) are linked as $CACHE/roms.
#
#   tools/ale/build.sh            build if missing (a stamp file records version, sdist hash and shim hash)
#   SPARROW_ATARI=0 make deps     skip it entirely (Sparrow builds and runs without Atari; Atari tasks then say how
#                                 to build this)
#
# Time on the 2-core development machine (Debian 12, Zen 3, with the other core running a training sweep): 327 s
# wall from nothing while a swift build competed for the cores (2 min 14 s CPU user). The parts: pip download
# ~75 s (pip prepares the sdist's metadata, which installs its build backend into a temporary environment), cmake
# configure ~5 s, `make -j2` of libale.a ~2.5-3.5 min, the shim ~20 s. Once per build folder: a stamp file
# (version, sdist hash, shim hash) makes later runs return at once.
set -euo pipefail

ALE_VERSION=0.12.1
ALE_SHA256=c503d574c5983e1063b451201ccb779d935919c0f6bf116fb0f4f8aa4c86d249
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${SPARROW_ALE_CACHE:-$ROOT/.build/ale}"
SHIM="$ROOT/tools/ale/sparrow_ale_shim.cpp"
SDIST="$CACHE/download/ale_py-$ALE_VERSION.tar.gz"
SRC="$CACHE/src/ale_py-$ALE_VERSION"
BUILD="$CACHE/cmake-build"
LIB="$CACHE/lib/libsparrow_ale.so"
STAMP="$CACHE/lib/stamp"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

want="ale-py $ALE_VERSION $ALE_SHA256 shim $(sha256sum "$SHIM" | cut -d' ' -f1)"
if [ -f "$LIB" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
start=$(date +%s)
mkdir -p "$CACHE/download" "$CACHE/src" "$CACHE/lib"

# 1. The sdist, checked against the pinned hash (pip checks it too, through --require-hashes).
if [ ! -f "$SDIST" ] || [ "$(sha256sum "$SDIST" | cut -d' ' -f1)" != "$ALE_SHA256" ]; then
  echo "ale: downloading the ale-py $ALE_VERSION source distribution from PyPI"
  rm -f "$SDIST"
  req="$CACHE/download/requirements.txt"
  echo "ale-py==$ALE_VERSION --hash=sha256:$ALE_SHA256" > "$req"
  python3 -m pip download -q --no-deps --no-binary=ale-py --require-hashes -r "$req" -d "$CACHE/download"
fi
got="$(sha256sum "$SDIST" | cut -d' ' -f1)"
if [ "$got" != "$ALE_SHA256" ]; then
  echo "ale: $SDIST has sha256 $got, expected $ALE_SHA256" >&2
  exit 1
fi

# 2. ALE's static C++ library (no Python bindings, no SDL), with Debian's cmake and zlib.
if [ ! -f "$BUILD/.built-$ALE_VERSION" ]; then
  rm -rf "$SRC" "$BUILD"
  tar -xzf "$SDIST" -C "$CACHE/src"
  echo "ale: building libale.a with cmake (-j$JOBS)"
  cmake -S "$SRC" -B "$BUILD" -DBUILD_PYTHON_LIB=OFF -DBUILD_CPP_LIB=ON -DSDL_SUPPORT=OFF \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_POSITION_INDEPENDENT_CODE=ON > "$CACHE/cmake-configure.log" 2>&1 || {
    tail -n 30 "$CACHE/cmake-configure.log" >&2; echo "ale: cmake could not configure ALE (is cmake installed?)" >&2; exit 1; }
  cmake --build "$BUILD" -j "$JOBS" > "$CACHE/cmake-build.log" 2>&1 || {
    tail -n 30 "$CACHE/cmake-build.log" >&2; echo "ale: the ALE build failed (whole log: $CACHE/cmake-build.log)" >&2; exit 1; }
  touch "$BUILD/.built-$ALE_VERSION"
fi
libale="$(find "$BUILD" -name 'libale.a' | head -n1)"
if [ -z "$libale" ]; then echo "ale: cmake built no libale.a (see $CACHE/cmake-build.log)" >&2; exit 1; fi

# 3. The shim: a plain C API over ALEInterface, as a shared library holding ALE (GPL-2.0-only) and zlib.
echo "ale: building libsparrow_ale.so"
g++ -std=c++17 -O2 -fPIC -shared -fvisibility=hidden \
    -I "$SRC/src/ale" -I "$BUILD/src/ale" -I "$SRC/src" -I "$BUILD/src" \
    "$SHIM" "$libale" -lz -o "$LIB.tmp"
mv "$LIB.tmp" "$LIB"
ln -sfn "$SRC/src/ale/python/roms" "$CACHE/roms"
cp "$SRC/LICENSE.md" "$CACHE/lib/ALE-LICENSE.md"
echo "$want" > "$STAMP"
echo "ale: done in $(( $(date +%s) - start )) s: $LIB, ROMs in $CACHE/roms"
