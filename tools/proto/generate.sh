#!/usr/bin/env bash
# Regenerates Sources/Interop/Generated/*.pb.swift from the .proto subsets here. Run by hand when a .proto changes
# (never at build time); the generated files are committed. Needs protoc (Debian: apt-get install protobuf-compiler,
# 3.21.12 was used) and protoc-gen-swift of the swift-protobuf version in Package.resolved (1.39.0 was used):
#   git clone https://github.com/apple/swift-protobuf /tmp/sp && git -C /tmp/sp checkout 1.39.0 &&
#   (cd /tmp/sp && swift build -c release --product protoc-gen-swift)
#   PROTOC_GEN_SWIFT=/tmp/sp/.build/release/protoc-gen-swift tools/proto/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
plugin=${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift)}
out=../../Sources/Interop/Generated
protoc --plugin=protoc-gen-swift="$plugin" --swift_out="$out" --swift_opt=Visibility=Public \
  tensorboard_event.proto onnx_subset.proto
