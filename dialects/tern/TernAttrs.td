//===- TernAttrs.td - tern enums and attributes ------------------------------------------------===//
#ifndef TERN_ATTRS_TD
#define TERN_ATTRS_TD

include "dialects/tern/TernDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===------------------------------------------------------------------------------------------===//
// Enums
//===------------------------------------------------------------------------------------------===//

def Tern_ScaleMode : I32EnumAttr<"ScaleMode",
    "how a ternary linear layer applies its weight scale", [
      I32EnumAttrCase<"multiply", 0>,
      I32EnumAttrCase<"divide", 1>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tern";
}
def Tern_ScaleModeAttr : EnumAttr<Tern_Dialect, Tern_ScaleMode, "scale_mode"> {
  let summary = "multiply (autobitlinear) or divide (bitlinear, latent) by the weight scale";
  let assemblyFormat = "`<` $value `>`";
}

def Tern_RopeStyle : I32EnumAttr<"RopeStyle", "how RoPE pairs the dimensions of a head", [
      I32EnumAttrCase<"rotate_half", 0>,
      I32EnumAttrCase<"interleaved", 1>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tern";
}
def Tern_RopeStyleAttr : EnumAttr<Tern_Dialect, Tern_RopeStyle, "rope_style"> {
  let summary = "rotate_half (HF Llama/BitNet: pairs i and i + d/2) or interleaved (pairs 2i, 2i+1)";
  let assemblyFormat = "`<` $value `>`";
}

def Tern_Glu : I32EnumAttr<"Glu", "the gate activation of a gated feed-forward", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"relu2", 1>,
      I32EnumAttrCase<"silu", 2>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tern";
}
def Tern_GluAttr : EnumAttr<Tern_Dialect, Tern_Glu, "glu"> {
  let summary = "none (the input as is), relu2 (relu(gate)^2 * up) or silu (silu(gate) * up)";
  let assemblyFormat = "`<` $value `>`";
}

def Tern_WeightFormat : I32EnumAttr<"WeightFormat", "byte layout family of packed weights", [
      I32EnumAttrCase<"i2", 0>,
      I32EnumAttrCase<"tl1", 1>,
      I32EnumAttrCase<"tl2", 2>,
      I32EnumAttrCase<"q8_0", 3>,
      I32EnumAttrCase<"q6_k", 4>]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::tern";
}

//===------------------------------------------------------------------------------------------===//
// #tern.layout
//===------------------------------------------------------------------------------------------===//

def Tern_LayoutAttr : AttrDef<Tern_Dialect, "Layout"> {
  let mnemonic = "layout";
  let summary = "byte layout of packed weights, read by one kernel family";
  let description = [{
    Names a packed weight format and its tile parameters. The ternary formats are the layout of
    a `!tern.packed` weight:

    - `i2`: 2 bits per weight (the value w + 1 in {0, 1, 2}), read by the multiply-add kernels.
      `tile_k` consecutive k of one output row sit together (4 feeds `vpdpbusd` / `sdot`) and
      `tile_n` rows are interleaved.
    - `tl1`: lookup-table format with groups of g = 2 weights: a 4-bit index into a 9-entry table
      of partial sums (2 bits per weight).
    - `tl2`: lookup-table format with groups of g = 3 weights: a 4-bit index into a 14-entry
      half table plus one sign bit (5/3 = 1.67 bits per weight).

    `tile_k` must be a multiple of the format's group size g (1, 2, 3); rows and columns of the
    weight need not be multiples of the tile: kernels handle the tails.

    `q8_0` is the encoding of a float weight tensor stored in 8 bits (the output head; ternc
    `--head=q8_0`): GGUF's Q8_0 numbers (an int8 per weight, an IEEE half scale per row and
    block of 32 columns) in tiles of `tile_n = 16` rows by `tile_k = 32` columns, the only tile
    its kernels read (runtime/include/tern/head_q8.h).

    `q6_k` is the same in ~6.5 bits (ternc `--head=q6_k`): GGUF's Q6_K numbers (a 6-bit code per
    weight, an int8 sub-scale per 16 columns and an IEEE half scale per row and super-block of 256
    columns) in tiles of `tile_n = 16` rows by `tile_k = 256` columns
    (runtime/include/tern/head_q6.h).

    A tied embedding lookup reads the head's table in either encoding (rows dequantized).

    Examples:

    ```mlir
    !tern.packed<2560x2560, #tern.layout<i2, tile_n = 16, tile_k = 4>>
    tensor<128256x2560xf32, #tern.layout<q8_0, tile_n = 16, tile_k = 32>>
    tensor<128256x2560xf32, #tern.layout<q6_k, tile_n = 16, tile_k = 256>>
    ```
  }];
  let parameters = (ins
    EnumParameter<Tern_WeightFormat>:$format,
    "int64_t":$tileN,
    "int64_t":$tileK);
  let assemblyFormat = "`<` $format `,` `tile_n` `=` $tileN `,` `tile_k` `=` $tileK `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of weights that one table index (or one 2-bit code for i2) covers.
    int64_t getGroupSize() const;
    /// Storage cost of one weight, in bits (2 for i2 and tl1, 5/3 for tl2, 8.5 for q8_0,
    /// 6.5625 for q6_k).
    double getBitsPerWeight() const;
  }];
}

//===------------------------------------------------------------------------------------------===//
// #tern.kernel
//===------------------------------------------------------------------------------------------===//

def Tern_KernelAttr : AttrDef<Tern_Dialect, "Kernel"> {
  let mnemonic = "kernel";
  let summary = "the runtime kernel chosen for an op: family, variant and schedule parameters";
  let description = [{
    Set by the kernel-selection pass on every op that becomes a kernel call (as the discardable
    attribute `tern.kernel`), and read by the packing and lowering passes:

    - `family`: `mad_i2` (multiply-add over the i2 layout), `lut_tl1`, `lut_tl2` (lookup tables
      over those layouts), `decoder` (the decoder kernel table: head, attention, RoPE,
      embedding, fused input quantization) or `generic` (scalar kernels);
    - `variant`: a row of the family's variant table in the runtime (`x86_64_avx512vnni`,
      `aarch64_neon`, ...), or `dispatch` when the binary picks the variant at run time
      (`x86-64-multi`);
    - `params`: parameters of the kernel. A `mad_i2` kernel generated per model has one
      schedule dictionary per batch bucket, `t1` (decode, required) and `t8`, `t32`, `t128`,
      `t512` (prefill calls of up to that many tokens), each with gemm_i2's GeneratorParams:
      `row_tiles` (1, 2, 4), `blocks_per_task` (1..64), `token_group` (1..8; 1 in `t1`),
      `unroll` (1, 2, 4, 8) and `prefetch` (0..64). A generated `lut_tl1` / `lut_tl2` kernel
      has the same buckets with gemm_lut's: `row_blocks` (1, 2, 4), `blocks_per_task` (1..64)
      and `token_group` (1..8; 1 in `t1`). The verifier checks every value (docs/tuning.md).
      Other keys are integers a library kernel may read.

    Example:

    ```mlir
    %y = tern.bitlinear %x, %s, %w, %ws {tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx512vnni", {t1 = {blocks_per_task = 1 : i64, prefetch = 16 : i64, row_tiles = 4 : i64, token_group = 1 : i64, unroll = 1 : i64}}>}
           : tensor<?x2560xi8>, tensor<?xf32>, !tern.ternary<2560x2560>, tensor<1xbf16> -> tensor<?x2560xf32>
    ```
  }];
  let parameters = (ins "::mlir::StringAttr":$family, "::mlir::StringAttr":$variant,
                        "::mlir::DictionaryAttr":$params);
  let assemblyFormat = "`<` $family `,` $variant `,` $params `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The packed layout the family reads (i2, tl1, tl2), if it reads ternary weights.
    std::optional<::mlir::tern::WeightFormat> getWeightFormat() const;
  }];
}

#endif // TERN_ATTRS_TD
