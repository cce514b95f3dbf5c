#!/usr/bin/env bash
# Builds examples/c-api/app.c against a tiny model compiled with ternc --emit=lib and runs it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${TERN_BIN:-$root/build/bin}"
work="${TERN_WORK:-/tmp/tern-c-api}"
rm -rf "$work" && mkdir -p "$work"
"$bin/tern-gen-checkpoint" --format=bitnet-2b4t --preset=tiny --quiet -o "$work/model"
"$bin/ternc" "$work/model" --emit=lib --quiet -o "$work/libtiny.a"
flags="$(cat "$bin/../lib/tern/x86_64/link-flags" 2>/dev/null || true)"
# shellcheck disable=SC2086
"${CC:-cc}" -I"$work" "$root/examples/c-api/app.c" "$work/libtiny.a" $flags -lpthread -ldl -lm \
  -o "$work/app"
"$work/app"
