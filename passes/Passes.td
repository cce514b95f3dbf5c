//===- Passes.td - tern passes -----------------------------------------------------------------===//
//
// One definition per pass, with a before/after example. The flag is `tern-<verb>-<object>`; the
// lit test of a pass is test/passes/<flag>.mlir.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_PASSES_TD
#define TERN_PASSES_TD

include "mlir/Pass/PassBase.td"

def TernSetContextLengthPass : Pass<"tern-set-context-length", "::mlir::ModuleOp"> {
  let summary = "Fix the context length of every !tern.kv_cache";
  let description = [{
    Importers leave the context length of the KV cache open (`context = ?`) because it is a
    deployment choice, not a property of the model; the driver's `--context=N` runs this pass to
    fix it. Every `!tern.kv_cache` in the module (function signatures, operations, block
    arguments) gets `context = <length>`. A cache that already has a different static length is
    an error unless `overwrite` is set.

    Before (`--tern-set-context-length=length=4096`):

    ```mlir
    func.func @forward(%kv: !tern.kv_cache<layers = 30, kv_heads = 5, head_dim = 128, context = ?, f32>)
    ```

    After:

    ```mlir
    func.func @forward(%kv: !tern.kv_cache<layers = 30, kv_heads = 5, head_dim = 128, context = 4096, f32>)
    ```
  }];
  let options = [
    Option<"length", "length", "int64_t", /*default=*/"0",
           "Context length (positions) of every KV cache; must be positive">,
    Option<"overwrite", "overwrite", "bool", /*default=*/"false",
           "Also replace context lengths that are already static">,
  ];
}

def TernFuseProjectionsPass : Pass<"tern-fuse-projections", "::mlir::func::FuncOp"> {
  let summary = "Fuse bitlinears that share their quantized input (Q/K/V, gate/up)";
  let description = [{
    `tern.bitlinear` ops that read the same `x_q` and `x_scale` with the same `scale_mode` and
    `!tern.ternary` weights become one bitlinear over the row-stacked weight
    (`tern.concat_rows`), with the scales stacked into a per-row scale, followed by a
    `tern.split_cols` that gives every original user its columns. One GEMM reads the input
    once and gives the kernel a bigger, better-balanced call: Q/K/V of 2B4T become one
    3840 x 2560 projection and gate/up one 13824 x 2560. Projections whose results are used
    before the last of them, or whose scales have different element types, are left alone.

    Before:

    ```mlir
    %q = tern.bitlinear %x, %s, %wq, %sq : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<64x64>, tensor<1xbf16> -> tensor<?x64xf32>
    %k = tern.bitlinear %x, %s, %wk, %sk : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<32x64>, tensor<1xbf16> -> tensor<?x32xf32>
    ```

    After:

    ```mlir
    %w = tern.concat_rows %wq, %wk {rows = array<i64: 64, 32>} : !tern.ternary<64x64>, !tern.ternary<32x64> -> !tern.ternary<96x64>
    %ws = tern.concat_rows %sq, %sk {rows = array<i64: 64, 32>} : tensor<1xbf16>, tensor<1xbf16> -> tensor<96xbf16>
    %y = tern.bitlinear %x, %s, %w, %ws : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<96x64>, tensor<96xbf16> -> tensor<?x96xf32>
    %q, %k = tern.split_cols %y : tensor<?x96xf32> -> tensor<?x64xf32>, tensor<?x32xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tern::TernDialect"];
}

def TernFuseNormQuantPass : Pass<"tern-fuse-norm-quant", "::mlir::func::FuncOp"> {
  let summary = "Fuse RMSNorm into the activation quantization that follows it";
  let description = [{
    A `tern.act_quant` of a `tern.rms_norm` whose only user it is becomes one
    `tern.quant_input` with the norm weight and eps: the runtime normalizes and quantizes in one
    pass over the row, and the normalized floats are never stored. A
    `tern.quant_input` that has no norm yet (after `tern-fuse-glu-quant`) absorbs one the same
    way.

    Before:

    ```mlir
    %n = tern.rms_norm %h, %g {eps = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
    %q, %s = tern.act_quant %n : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
    ```

    After:

    ```mlir
    %q, %s = tern.quant_input %h norm(%g : tensor<64xbf16>) {eps = 1.0e-05 : f32} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tern::TernDialect"];
}

def TernFuseGluQuantPass : Pass<"tern-fuse-glu-quant", "::mlir::func::FuncOp"> {
  let summary = "Fuse a gated activation (relu2 or silu times up) into the quantization after it";
  let description = [{
    `tern.mul(tern.relu2(gate), up)` (or `tern.silu`) whose product only feeds the quantization
    of the down projection's input (directly, or through the 2B4T `ffn_sub_norm`) becomes one
    `tern.quant_input` with `glu` set, `up` as operand and the norm, if any: the 6912-wide
    product is never stored. The activation and the product must have no other users.

    Before:

    ```mlir
    %a = tern.relu2 %gate : tensor<?x160xf32>
    %m = tern.mul %a, %up : tensor<?x160xf32>
    %n = tern.rms_norm %m, %g {eps = 1.0e-05 : f32} : tensor<?x160xf32>, tensor<160xbf16> -> tensor<?x160xf32>
    %q, %s = tern.act_quant %n : tensor<?x160xf32> -> tensor<?x160xi8>, tensor<?xf32>
    ```

    After:

    ```mlir
    %q, %s = tern.quant_input %gate up(%up : tensor<?x160xf32>) norm(%g : tensor<160xbf16>) {eps = 1.0e-05 : f32, glu = #tern.glu<relu2>} : tensor<?x160xf32> -> tensor<?x160xi8>, tensor<?xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tern::TernDialect"];
}

def TernSelectKernelsPass : Pass<"tern-select-kernels", "::mlir::ModuleOp"> {
  let summary = "Choose the runtime kernel (family, variant, schedule) of every op";
  let description = [{
    Sets `tern.kernel = #tern.kernel<family, variant, params>` on every op that becomes a kernel
    call, for the `target` CPU. An entry of the tuning database (`tuning=<file.json>`, written
    by tern-tune on this CPU, or any CPU with `force-tuning=true`) that matches an op (its name
    and, for linear layers, the weight's rows and columns) decides; otherwise the documented
    heuristics do (docs/passes.md):

    - `tern.bitlinear`: `mad_i2`, the variant of the target's best ISA (the multiply-add family
      won decode and prefill on every ISA measured; docs/kernels.md). Where that variant is a
      Halide kernel and `kernels=generated`, one schedule per batch bucket (`t1`, `t8`, `t32`,
      `t128`, `t512`: gemm_i2's GeneratorParams, the library's values), which ternc generates
      for the op's shape (docs/tuning.md);
    - `tern.matmul` (float), `tern.attention`, `tern.rope`, `tern.embedding`,
      `tern.quant_input`: the `decoder` table's variant for the target;
    - the ops fusion left alone (`tern.rms_norm`, `tern.act_quant`, an int8 `tern.matmul`,
      elementwise ops): `generic`.

    `target=x86-64-multi` selects `dispatch`: the binary carries several x86 variants and picks
    one at run time. `target=host` reads the compiling machine's features.

    Before (`--tern-select-kernels=target=x86-64-avx2`):

    ```mlir
    %y = tern.bitlinear %x, %s, %w, %ws : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<64x64>, tensor<1xbf16> -> tensor<?x64xf32>
    ```

    After:

    ```mlir
    %y = tern.bitlinear %x, %s, %w, %ws {tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {}>} : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<64x64>, tensor<1xbf16> -> tensor<?x64xf32>
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "host, x86-64-avx2, x86-64-avx512, x86-64-avx512-vnni, x86-64-multi, aarch64, "
           "aarch64-dotprod or generic">,
    Option<"tuning", "tuning", "std::string", /*default=*/"\"\"",
           "A tuning database (JSON) whose entries override the heuristics">,
    Option<"kernels", "kernels", "std::string", /*default=*/"\"generated\"",
           "generated: multiply-add kernels generated per shape where the target's default "
           "is Halide's (ternc generates them); library: the prebuilt variants only">,
    Option<"forceTuning", "force-tuning", "bool", /*default=*/"false",
           "Use a tuning database measured on another CPU">,
  ];
  let dependentDialects = ["::mlir::tern::TernDialect"];
}

def TernPackWeightsPass : Pass<"tern-pack-weights", "::mlir::ModuleOp"> {
  let summary = "Pack the ternary weights of every bitlinear into its kernel's layout";
  let description = [{
    For every `tern.bitlinear` whose `tern.kernel` names a family that reads packed weights
    (`mad_i2`, `lut_tl1`, `lut_tl2`), reads the logical weight (a `tern.weight` of the weight
    store, a `tern.concat_rows` of them, or a `tern.ternary_constant`), packs it with the
    runtime's own packer into the family's layout, adds the bytes to the weight store as
    `<name>:<layout>` and replaces the operand with a `tern.weight` of type
    `!tern.packed<N x K, #tern.layout<...>>` that carries the bytes' size and 64-bit
    checksum (`tern.bytes`, `tern.checksum`; `tern_blob_checksum`). Row-stacked scales (`tern.concat_rows` of dense
    weights) become one stored tensor the same way. The store comes from the driver (`ternc`);
    without one, only inline constants can be packed.

    With `head-format=q8_0` or `q6_k`, the float weight of every float `tern.matmul` (the
    output head) is quantized the same way into that head format (GGUF's Q8_0 numbers in
    16 x 32 tiles, runtime/include/tern/head_q8.h; GGUF's Q6_K numbers in 16 x 256 tiles,
    runtime/include/tern/head_q6.h), stored as `<name>:<format>`, and the matmul reads a
    `tern.weight` of type `tensor<N x K x f32, #tern.layout<q8_0, tile_n = 16, tile_k = 32>>`
    (or `<q6_k, tile_n = 16, tile_k = 256>`). With `tied-embedding` (the default), an embedding
    that shares the table (tied weights) reads the quantized table too (its rows dequantized),
    so the table is stored once, as llama.cpp stores a tied table in its quantized type;
    `tied-embedding=false` keeps the lookup on the original table.

    Before (after `--tern-select-kernels`):

    ```mlir
    %w = tern.weight "q" : !tern.ternary<64x64>
    %y = tern.bitlinear %x, %s, %w, %ws {tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {}>} : ...
    ```

    After:

    ```mlir
    %w = tern.weight "q:i2" {tern.bytes = 1024 : i64, tern.checksum = ... : i64}
           : !tern.packed<64x64, #tern.layout<i2, tile_n = 16, tile_k = 16>>
    %y = tern.bitlinear %x, %s, %w, %ws {tern.kernel = ...} : ...
    ```
  }];
  let options = [
    Option<"headFormat", "head-format", "std::string", /*default=*/"\"\"",
           "Store the output head's float weight in this format: q8_0 (8 bits), q6_k (6.5625 "
           "bits), or empty to keep it as it is">,
    Option<"tiedEmbedding", "tied-embedding", "bool", /*default=*/"true",
           "With head-format, a tied embedding looks its rows up in the quantized table (stored "
           "once) instead of the original one">
  ];
  let constructor = "::mlir::tern::createTernPackWeightsPass()";
  let dependentDialects = ["::mlir::tern::TernDialect"];
}

def TernPlanMemoryPass : Pass<"tern-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Place every activation in one static arena, reusing dead values' bytes";
  let description = [{
    Activations are `[T, W]` tensors (and per-token `[T]` scales) whose token count T is only
    bounded at run time, by `max-tokens` (the largest prefill chunk; default the KV cache's
    context length, which must be static: run `tern-set-context-length` first). Every
    activation gets a byte offset in one arena sized for `max-tokens`, by first fit in program
    order: a value's bytes are reused once its last user has run. A bitlinear also gets int32
    scratch for its accumulators (`round_up(N, 64)` per token, the kernel ABI), live only during
    the op. int8 rows are padded to 16 bytes, as the kernels read them. Function arguments,
    weights and the KV cache are not in the arena.

    Results: `tern.arena = array<i64: ...>` (one offset per result, -1 for results outside the
    arena) and `tern.scratch` on the ops; `tern.arena_bytes` (the peak), `tern.kv_cache_bytes`
    (2 x layers x kv_heads x context x head_dim x element size) and `tern.max_tokens` on the
    function. With `report`, a remark states the arena, what it would take without reuse, and
    the KV cache.

    Before (`--tern-plan-memory=max-tokens=4`):

    ```mlir
    %a = tern.relu2 %x : tensor<?x64xf32>
    %b = tern.relu2 %a : tensor<?x64xf32>
    %c = tern.relu2 %b : tensor<?x64xf32>
    ```

    After (each value 4 x 64 x 4 = 1024 bytes; %c reuses %a's bytes):

    ```mlir
    %a = tern.relu2 %x {tern.arena = array<i64: 0>} : tensor<?x64xf32>
    %b = tern.relu2 %a {tern.arena = array<i64: 1024>} : tensor<?x64xf32>
    %c = tern.relu2 %b {tern.arena = array<i64: 0>} : tensor<?x64xf32>
    ```
  }];
  let options = [
    Option<"maxTokens", "max-tokens", "int64_t", /*default=*/"0",
           "Largest token count of one call (default: the KV cache's context length)">,
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every buffer (a power of two)">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark with the arena's peak, its size without reuse and the KV cache">,
  ];
}

def TernLowerToRuntimePass : Pass<"tern-lower-to-runtime", "::mlir::ModuleOp"> {
  let summary = "Lower the planned forward function to calls of the runtime's graph ops";
  let description = [{
    The compiler's half of the runtime's model ABI (runtime/include/tern/model_abi.h). The
    packed and planned `@forward` becomes `@tern_model_forward(%exec: !llvm.ptr) -> i32`: one
    `func.call @tern_op_<op>` per tern op in program order, whose arguments are constants (arena
    offsets from `tern.arena`/`tern.scratch`, weights-blob offsets from `tern.offset`, shapes,
    op attributes) and the address of the kernel `tern.kernel` names (for example
    `@tern_gemm_i2_x86_64_avx512vnni`, or `@tern_gemm_i2_dispatch` for x86-64-multi). A
    non-zero status returns at once. The model's description (target, required CPU features,
    arena and KV-cache shape, logits offset, weights blob size and checksum) becomes the constant
    global `@tern_compiled_model`. What is left is func/arith/cf/llvm, which MLIR's
    `convert-to-llvm` lowers to the LLVM dialect.

    Requires: a `tern.target` (tern-select-kernels), packed weights with f32 scales and norm
    weights (tern-pack-weights), a memory plan (tern-plan-memory), and `tern.offset` on every
    `tern.weight` plus `tern.weights_size`/`tern.weights_checksum` on the module (set by ternc
    when it writes the weights blob). Each missing piece is an error naming the op.

    Before:

    ```mlir
    %y = tern.bitlinear %q, %s, %w, %ws {tern.arena = array<i64: 4096>, tern.scratch = 0 : i64,
           tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {}>} : ...
    ```

    After:

    ```mlir
    %fn = llvm.mlir.addressof @tern_gemm_i2_x86_64_avx2 : !llvm.ptr
    %status = call @tern_op_bitlinear(%exec, %fn, %c_w, %c64, %c64, %c_q, %c_s, %c_ws, %c0_i32,
                                      %c0, %c4096) : (...) -> i32
    %ok = arith.cmpi eq, %status, %c0_i32 : i32
    cf.cond_br %ok, ^next, ^fail(%status : i32)
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect", "::mlir::arith::ArithDialect",
                           "::mlir::cf::ControlFlowDialect", "::mlir::LLVM::LLVMDialect"];
}

#endif // TERN_PASSES_TD
