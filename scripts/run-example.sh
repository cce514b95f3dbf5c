#!/usr/bin/env bash
# The README's main command. Until ternc emits executables (issue "Compiler pipeline"), the main
# job is the front half of the compiler on a generated model:
#   1. tern-gen-checkpoint writes a tiny BitNet b1.58 2B4T-layout checkpoint (random weights);
#   2. ternc imports it into tern IR;
#   3. tern-opt fixes the KV-cache context and prints the op counts;
#   4. ternc --emit=mlir-packed fuses it, selects kernels for this CPU and packs the weights;
#   5. the independent numpy reference computes the logits of a few tokens for the same model.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
TERN_TARGETS="tern-opt ternc tern-gen-checkpoint" "$root/scripts/build.sh" "$root/build"

bin="$root/build/bin"
work="$root/build/example"
rm -rf "$work" && mkdir -p "$work"
echo "example: tern-gen-checkpoint --format=bitnet-2b4t --preset=tiny -o $work/model"
"$bin/tern-gen-checkpoint" --format=bitnet-2b4t --preset=tiny --seed=1 -o "$work/model"
echo "example: ternc $work/model --emit=mlir -o $work/model.mlir"
"$bin/ternc" "$work/model" --emit=mlir -o "$work/model.mlir"
echo "example: tern-opt $work/model.mlir --tern-set-context-length=length=512 --print-op-stats"
"$bin/tern-opt" "$work/model.mlir" --tern-set-context-length=length=512 --print-op-stats \
  -o "$work/model.ctx512.mlir"
echo "example: the imported forward function starts like this:"
grep -m 12 -E "func.func|tern\." "$work/model.ctx512.mlir" | cut -c1-160
echo "example: ternc $work/model --emit=mlir-packed --target=host -o $work/model.packed.mlir"
"$bin/ternc" "$work/model" --emit=mlir-packed --target=host -o "$work/model.packed.mlir"
echo "example: after fusion, kernel selection and packing, layer 0 starts like this:"
grep -m 6 -E "tern\.(quant_input|bitlinear|split_cols)" "$work/model.packed.mlir" | cut -c1-200
echo "example: reference logits of tokens 502,10,20,30 (numpy, float64):"
/usr/bin/python3 "$root/test/reference/bitnet_reference.py" "$work/model" --tokens 502,10,20,30
