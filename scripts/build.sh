#!/usr/bin/env bash
# Configures and builds tern with clang-22 + lld into a build directory.
#   scripts/build.sh [build-dir] [extra cmake -D options...]
# Targets may be limited with TERN_TARGETS="tern-opt ..." in the environment.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shift || true

jobs="${TERN_JOBS:-$(nproc)}"
mkdir -p "$build"
echo "build: configuring $build"
cmake -G Ninja -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE="${TERN_BUILD_TYPE:-Release}" \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  "$@" >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
echo "build: building ${TERN_TARGETS:-all targets} with $jobs job(s)"
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" ${TERN_TARGETS:+--target $TERN_TARGETS}
