#!/bin/sh
# Regenerates Benchmarks/Sources/CodecCompare/Generated/envelope.pb.swift from
# Benchmarks/Protos/envelope.proto. The generated file is committed: building the benchmark
# needs neither protoc nor the plugin, only the swift-protobuf runtime (pinned at 1.39.0).
#
# Needs: protoc (Debian: apt-get install -y protobuf-compiler) and protoc-gen-swift built from
# the same swift-protobuf version as the runtime:
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   swift build -c release --package-path /tmp/swift-protobuf --product protoc-gen-swift
# Override the plugin path with PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
plugin=${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}
out="$here/Sources/CodecCompare/Generated"
mkdir -p "$out"
protoc \
    --plugin=protoc-gen-swift="$plugin" \
    --proto_path="$here/Protos" \
    --swift_out="$out" \
    --swift_opt=Visibility=Internal \
    envelope.proto
echo "generated $out/envelope.pb.swift ($(protoc --version), $("$plugin" --version))"
