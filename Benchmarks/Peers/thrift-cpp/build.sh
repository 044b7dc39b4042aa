#!/usr/bin/env bash
# Builds the Apache Thrift C++ peers into $1 (default: Benchmarks/.build/peers): generates C++
# from the demo IDL with Debian's thrift-compiler and links against libthrift-dev.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${1:-$root/Benchmarks/.build/peers}"
mkdir -p "$out/gen-cpp"
for tool in thrift g++; do
  command -v "$tool" >/dev/null || { echo "build.sh: '$tool' not found (apt-get install thrift-compiler libthrift-dev libboost-dev libevent-dev g++)" >&2; exit 1; }
done
thrift -r --gen cpp -out "$out/gen-cpp" "$root/demo/idl/example.thrift"
generated=("$out/gen-cpp/base_types.cpp" "$out/gen-cpp/example_types.cpp")
g++ -O2 -std=c++17 -I"$out/gen-cpp" -o "$out/thrift-codec-bench" "$here/codec_bench.cpp" "${generated[@]}" -lthrift
echo "$out/thrift-codec-bench"
