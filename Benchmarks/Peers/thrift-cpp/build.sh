#!/usr/bin/env bash
# Builds the Apache Thrift C++ peers into $1 (default: Benchmarks/.build/peers): generates C++
# from the demo IDL with Debian's thrift-compiler and links against libthrift-dev.
#   thrift-codec-bench   the codec peer of `skein-bench codec`
#   thrift-echo-server   TNonblockingServer serving ExampleService, for `skein-bench echo`
# A peer is rebuilt only when its source, this script or the IDL is newer than the binary.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${1:-$root/Benchmarks/.build/peers}"
mkdir -p "$out/gen-cpp"
for tool in thrift g++; do
  command -v "$tool" >/dev/null || { echo "build.sh: '$tool' not found (apt-get install thrift-compiler libthrift-dev libboost-dev libevent-dev g++)" >&2; exit 1; }
done
idl=("$root/demo/idl/example.thrift" "$root/demo/idl/base.thrift")

# True when $1 is missing or older than any of the remaining files.
stale() {
  local target="$1"; shift
  [[ -e "$target" ]] || return 0
  local source
  for source in "$@"; do [[ "$source" -nt "$target" ]] && return 0; done
  return 1
}

if stale "$out/gen-cpp/ExampleService.cpp" "${idl[@]}"; then
  thrift -r --gen cpp -out "$out/gen-cpp" "$root/demo/idl/example.thrift"
fi
types=("$out/gen-cpp/base_types.cpp" "$out/gen-cpp/example_types.cpp")

if stale "$out/thrift-codec-bench" "$here/codec_bench.cpp" "$here/build.sh" "${idl[@]}"; then
  g++ -O2 -std=c++17 -I"$out/gen-cpp" -o "$out/thrift-codec-bench" "$here/codec_bench.cpp" "${types[@]}" -lthrift
fi
if stale "$out/thrift-echo-server" "$here/echo_server.cpp" "$here/build.sh" "${idl[@]}"; then
  g++ -O2 -std=c++17 -pthread -I"$out/gen-cpp" -o "$out/thrift-echo-server" "$here/echo_server.cpp" \
    "$out/gen-cpp/ExampleService.cpp" "${types[@]}" -lthriftnb -lthrift -levent
fi
echo "$out/thrift-codec-bench"
echo "$out/thrift-echo-server"
