#!/usr/bin/env bash
# The README's main command. Until the compiler driver exists (ternc, issue "Compiler pipeline"),
# the main job builds tern-opt and runs it on the example model: parse and verify the tiny
# 2B4T-shaped decoder, fix its KV-cache context length, and print the IR and its op counts.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
TERN_TARGETS=tern-opt "$root/scripts/build.sh" "$root/build"

example="$root/examples/decoder-layer/bitnet_2b4t_tiny.mlir"
echo "example: tern-opt $example --tern-set-context-length=length=4096 --print-op-stats"
"$root/build/bin/tern-opt" "$example" --tern-set-context-length=length=4096 --print-op-stats
