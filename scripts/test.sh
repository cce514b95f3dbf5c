#!/usr/bin/env bash
# The README's test command: installs dependencies, then builds and runs every suite through ctest.
#   1. an AddressSanitizer + UBSan build of the compiler and its tests, with the fuzzers
#      (build-asan/);
#   2. the normal build with the aarch64 cross tests under qemu (build/), whose ctest summary ends
#      the run.
# Set TERN_SKIP_SANITIZERS=1 to skip step 1 while iterating locally.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"

export CTEST_OUTPUT_ON_FAILURE=1
jobs="${TERN_JOBS:-$(nproc)}"

if [ "${TERN_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "test: sanitizer build (address;undefined)"
  "$root/scripts/build.sh" "$root/build-asan" -DTERN_SANITIZER="address;undefined" -DTERN_BUILD_FUZZERS=ON
  ctest --test-dir "$root/build-asan" -j "$jobs" --label-exclude aarch64
fi

echo "test: main build"
"$root/scripts/build.sh" "$root/build" -DTERN_ENABLE_AARCH64_TESTS=ON
ctest --test-dir "$root/build" -j "$jobs"
