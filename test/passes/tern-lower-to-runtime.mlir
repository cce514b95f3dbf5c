// RUN: tern-opt %s --split-input-file --tern-lower-to-runtime | FileCheck %s
// RUN: tern-opt %s --split-input-file --tern-lower-to-runtime --cse --convert-to-llvm --reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM
// RUN: not tern-opt %S/Inputs/lower-errors.mlir --split-input-file --tern-lower-to-runtime 2>&1 | FileCheck %s --check-prefix=ERR

// ERR: error: 'tern.weight' op 'embed' has no tern.offset: write the weights blob first (ternc does)
// ERR: error: 'tern.embedding' op has no tern.kernel (run tern-select-kernels first)
// ERR: error: tern-lower-to-runtime: an operand has no arena offset (run tern-plan-memory first)
// ERR: error: 'func.func' op tern-lower-to-runtime: expected @forward(tokens, positions, kv_cache) -> (logits, kv_cache)
// ERR: error: 'tern.bitlinear' op tern-lower-to-runtime: the weight scale 'ws' must be stored as f32 (tern-pack-weights converts the tensors kernels read as floats)
// ERR: error: tern-lower-to-runtime: the module names no weights blob (tern.weights_size / tern.weights_checksum; ternc sets them when it writes the blob)

// A planned one-layer model: every op becomes a call of its tern_op_* with the planner's arena
// offsets, the weights' blob offsets and the selected kernel's address, then a status check.
// CHECK-LABEL: func.func @tern_model_forward(%arg0: !llvm.ptr) -> i32
// Constants print named by their values (%c4096_i64, %c4096_i64_3, ...).
// CHECK: %[[EMB:.+]] = llvm.mlir.addressof @tern_embedding_x86_64_avx2 : !llvm.ptr
// CHECK: %[[S0:.+]] = call @tern_op_embedding(%arg0, %[[EMB]], %c128_i64{{[_0-9]*}}, %c2_i32{{[_0-9]*}}, %c16_i64{{[_0-9]*}}, %c16_i64{{[_0-9]*}}, %c0_i64{{[_0-9]*}}) : (!llvm.ptr, !llvm.ptr, i64, i32, i64, i64, i64) -> i32
// CHECK: %[[OK0:.+]] = arith.cmpi eq, %[[S0]], %{{.+}} : i32
// CHECK: cf.cond_br %[[OK0]], ^bb1, ^[[FAIL:bb[0-9]+]](%[[S0]] : i32)
// No up operand (-1), the f32 norm weight at 1024, eps, q and scale at 256 and 512.
// CHECK: llvm.mlir.addressof @tern_quant_input_x86_64_avx2
// CHECK: call @tern_op_quant_input(%arg0, %{{.+}}, %c0_i64{{[_0-9]*}}, %c-1_i64{{[_0-9]*}}, %c16_i64{{[_0-9]*}}, %c0_i32{{[_0-9]*}}, %c1024_i64{{[_0-9]*}}, %cst{{[_0-9]*}}, %c256_i64{{[_0-9]*}}, %c512_i64{{[_0-9]*}})
// The kernel of the op's #tern.kernel, the packed weight at its tern.offset, rows and columns,
// q and its scales, the f32 scales, the per-row flag (32 scales), the scratch and the result.
// CHECK: %[[GEMM:.+]] = llvm.mlir.addressof @tern_gemm_i2_x86_64_avx2 : !llvm.ptr
// CHECK: call @tern_op_bitlinear(%arg0, %[[GEMM]], %c4096_i64{{[_0-9]*}}, %c32_i64{{[_0-9]*}}, %c16_i64{{[_0-9]*}}, %c256_i64{{[_0-9]*}}, %c512_i64{{[_0-9]*}}, %c2048_i64{{[_0-9]*}}, %c1_i32{{[_0-9]*}}, %c2048_i64{{[_0-9]*}}, %c4096_i64{{[_0-9]*}})
// One call per output of split_cols.
// CHECK-COUNT-2: call @tern_op_split_cols
// The generic variant's RoPE has its own name; no freq_factors is a null table.
// CHECK: llvm.mlir.addressof @tern_rope_variant_generic
// CHECK: %[[NOFACTORS:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK: call @tern_op_rope({{.+}}, %[[NOFACTORS]], %c8192_i64{{[_0-9]*}})
// A scaled RoPE passes its factors as a constant table.
// CHECK: %[[FACTORS:.+]] = llvm.mlir.addressof @tern_rope_freq_factors_{{[0-9a-f]+}} : !llvm.ptr
// CHECK: call @tern_op_rope({{.+}}, %[[FACTORS]], %c8192_i64{{[_0-9]*}})
// CHECK: call @tern_op_elementwise
// The head's result is the returned logits (is_logits = 1: a prompt can skip all rows but the last).
// CHECK: llvm.mlir.addressof @tern_head_matmul_dispatch
// CHECK: call @tern_op_matmul(%arg0, %{{.+}}, %c9216_i64{{[_0-9]*}}, %c16_i64{{[_0-9]*}}, %c128_i64{{[_0-9]*}}, %c2_i32{{[_0-9]*}}, %c16_i64{{[_0-9]*}}, %c1_i32{{[_0-9]*}}, %c10240_i64{{[_0-9]*}})
// CHECK: return %{{.+}} : i32
// CHECK: ^[[FAIL]](%[[CODE:.+]]: i32):
// CHECK-NEXT: return %[[CODE]] : i32
// The kernels are external symbols whose address is taken; the ops are declared with the
// argument types the calls use.
// CHECK: llvm.func @tern_embedding_x86_64_avx2(...) -> i32
// CHECK: func.func private @tern_op_embedding(!llvm.ptr, !llvm.ptr, i64, i32, i64, i64, i64) -> i32
// CHECK-NOT: func.func @forward
// The description, as tern_model_desc lays it out.
// CHECK: llvm.mlir.global private constant @tern_rope_freq_factors_{{[0-9a-f]+}}(dense<[1.000000e+00, {{.+}}, 8.000000e+00]> : tensor<8xf32>) {{.*}}: !llvm.array<8 x f32>
// CHECK: llvm.mlir.global external constant @tern_compiled_model() {{.*}} : !llvm.struct<(i64, ptr, ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64)>
// CHECK: llvm.mlir.addressof @tern_model_family
// CHECK: llvm.mlir.addressof @tern_model_target
// Required features of x86-64-avx2: avx2 | fma | f16c (bits 1, 2, 3).
// CHECK: llvm.mlir.constant(14 : i64)
// The weight bytes of one token: the f32 norm (64), the packed weight (128), its f32 scales
// (128) and the bf16 table the head streams (512); the embedding's lookup is not counted.
// CHECK: llvm.mlir.constant(832 : i64)
// CHECK-NEXT: llvm.insertvalue %{{.+}}[16]
// The rows the forward leaves (the logits: 16 per token), no pooling (a language model), not
// normalized.
// CHECK: llvm.mlir.constant(16 : i64)
// CHECK-NEXT: llvm.insertvalue %{{.+}}[17]
// CHECK: llvm.mlir.constant(0 : i64)
// CHECK-NEXT: llvm.insertvalue %{{.+}}[18]
// CHECK: llvm.mlir.constant(0 : i64)
// CHECK-NEXT: llvm.insertvalue %{{.+}}[19]

// LLVM: llvm.func @tern_model_forward(%arg0: !llvm.ptr) -> i32
// LLVM: llvm.call @tern_op_bitlinear
// LLVM: llvm.mlir.global external constant @tern_compiled_model()
module attributes {tern.family = "test", tern.target = "x86-64-avx2", tern.bos_token_id = 1 : i64,
                   tern.weights_size = 8192 : i64, tern.weights_checksum = 42 : i64} {
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>,
                     %cache: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>)
      -> (tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>)
      attributes {tern.arena_bytes = 16384 : i64, tern.max_tokens = 4 : i64} {
    %table = tern.weight "embed" {tern.offset = 128 : i64} : tensor<16x16xbf16>
    %x = tern.embedding %table[%tokens] {tern.arena = array<i64: 0>, tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>} : tensor<16x16xbf16>, tensor<?xi32> -> tensor<?x16xf32>
    %g = tern.weight "norm:f32" {tern.offset = 1024 : i64} : tensor<16xf32>
    %q, %s = tern.quant_input %x norm(%g : tensor<16xf32>) {eps = 1.0e-05 : f32, tern.arena = array<i64: 256, 512>, tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>} : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?xf32>
    %w = tern.weight "w:i2" {tern.bytes = 128 : i64, tern.checksum = 1 : i64, tern.offset = 4096 : i64} : !tern.packed<32x16, #tern.layout<i2, tile_n = 16, tile_k = 16>>
    %ws = tern.weight "ws:f32" {tern.offset = 2048 : i64} : tensor<32xf32>
    %y = tern.bitlinear %q, %s, %w, %ws {tern.arena = array<i64: 4096>, tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {}>, tern.scratch = 2048 : i64} : tensor<?x16xi8>, tensor<?xf32>, !tern.packed<32x16, #tern.layout<i2, tile_n = 16, tile_k = 16>>, tensor<32xf32> -> tensor<?x32xf32>
    %a, %b = tern.split_cols %y {tern.arena = array<i64: 6144, 7168>} : tensor<?x32xf32> -> tensor<?x16xf32>, tensor<?x16xf32>
    %r = tern.rope %a, %positions {head_dim = 16 : i64, tern.arena = array<i64: 8192>, tern.kernel = #tern.kernel<"decoder", "generic", {}>, theta = 1.0e+04 : f32} : tensor<?x16xf32>, tensor<?xi32>
    %r2 = tern.rope %r, %positions {head_dim = 16 : i64, tern.arena = array<i64: 8192>, tern.kernel = #tern.kernel<"decoder", "generic", {}>, theta = 1.0e+04 : f32, freq_factors = array<f32: 1.0, 1.0, 1.0, 1.0, 2.5, 8.0, 8.0, 8.0>} : tensor<?x16xf32>, tensor<?xi32>
    %sum = tern.add %r2, %b {tern.arena = array<i64: 9216>, tern.kernel = #tern.kernel<"generic", "generic", {}>} : tensor<?x16xf32>
    %logits = tern.matmul %sum, %table {tern.arena = array<i64: 10240>, tern.kernel = #tern.kernel<"decoder", "dispatch", {}>} : tensor<?x16xf32>, tensor<16x16xbf16> -> tensor<?x16xf32>
    return %logits, %cache : tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>
  }
}

// -----

// Generated kernels: a bitlinear with bucket schedules calls its bucket table (one constant
// global per distinct set of kernels, {max tokens, token group, function}). A lookup-table one
// passes its layout (2: tl2) and gemm_lut pipelines whose token group is theirs (1 in the table).
// CHECK-LABEL: func.func @tern_model_forward
// CHECK: %[[LUT:.+]] = llvm.mlir.addressof @tern_gemm_buckets_{{[0-9a-f_]+}} : !llvm.ptr
// CHECK: call @tern_op_bitlinear_lut_generated(%arg0, %[[LUT]], %c5_i64{{[_0-9]*}}, %c2_i32{{[_0-9]*}}, %c4096_i64
// CHECK: %[[MAD:.+]] = llvm.mlir.addressof @tern_gemm_buckets_{{[0-9a-f_]+}} : !llvm.ptr
// CHECK: call @tern_op_bitlinear_generated(%arg0, %[[MAD]], %c5_i64{{[_0-9]*}}, %c8192_i64
// CHECK: llvm.mlir.global private constant @tern_gemm_buckets_{{[0-9a-f_]+}}() {{.*}} : !llvm.array<5 x struct<(i64, i64, ptr)>>
// CHECK: llvm.mlir.addressof @tern_gen_gemm_lut_
// CHECK: llvm.mlir.addressof @tern_gen_gemm_lut_
// CHECK-NEXT: llvm.mlir.constant(8 : i64) : i64
// CHECK-NEXT: llvm.insertvalue {{.+}}[1, 0]
// CHECK-NEXT: llvm.mlir.constant(1 : i64) : i64
// CHECK-NEXT: llvm.insertvalue {{.+}}[1, 1]
// CHECK: llvm.func @tern_gen_gemm_lut_{{[0-9a-f]+}}(...) -> i32
// CHECK: func.func private @tern_op_bitlinear_lut_generated(!llvm.ptr, !llvm.ptr, i64, i32, i64, i64, i64, i64, i64, i64, i32, i64, i64) -> i32
// The tiles are called by the pipelines only, never by graph code.
// CHECK-NOT: @tern_gen_lut_tile
module attributes {tern.family = "test", tern.target = "x86-64-avx512-vnni", tern.bos_token_id = 1 : i64,
                   tern.weights_size = 16384 : i64, tern.weights_checksum = 42 : i64} {
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>,
                     %cache: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>)
      -> (tensor<?x64xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>)
      attributes {tern.arena_bytes = 16384 : i64, tern.max_tokens = 4 : i64} {
    %table = tern.weight "embed" {tern.offset = 128 : i64} : tensor<64x64xbf16>
    %x = tern.embedding %table[%tokens] {tern.arena = array<i64: 0>, tern.kernel = #tern.kernel<"decoder", "x86_64_avx512", {}>} : tensor<64x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
    %q, %s = tern.quant_input %x {tern.arena = array<i64: 1024, 1536>, tern.kernel = #tern.kernel<"decoder", "x86_64_avx512", {}>} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
    %w = tern.weight "w:tl2" {tern.bytes = 1536 : i64, tern.checksum = 1 : i64, tern.offset = 4096 : i64} : !tern.packed<64x64, #tern.layout<tl2, tile_n = 64, tile_k = 24>>
    %ws = tern.weight "ws:f32" {tern.offset = 2048 : i64} : tensor<64xf32>
    %y = tern.bitlinear %q, %s, %w, %ws {tern.arena = array<i64: 4096>, tern.kernel = #tern.kernel<"lut_tl2", "x86_64_avx512", {t1 = {blocks_per_task = 1 : i64, row_blocks = 1 : i64, token_group = 1 : i64}, t8 = {blocks_per_task = 2 : i64, row_blocks = 2 : i64, token_group = 3 : i64}, t32 = {blocks_per_task = 2 : i64, row_blocks = 2 : i64, token_group = 1 : i64}, t128 = {blocks_per_task = 2 : i64, row_blocks = 2 : i64, token_group = 1 : i64}, t512 = {blocks_per_task = 2 : i64, row_blocks = 2 : i64, token_group = 1 : i64}}>, tern.scratch = 2048 : i64} : tensor<?x64xi8>, tensor<?xf32>, !tern.packed<64x64, #tern.layout<tl2, tile_n = 64, tile_k = 24>>, tensor<64xf32> -> tensor<?x64xf32>
    %q2, %s2 = tern.quant_input %y {tern.arena = array<i64: 1024, 1536>, tern.kernel = #tern.kernel<"decoder", "x86_64_avx512", {}>} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
    %w2 = tern.weight "w2:i2" {tern.bytes = 1024 : i64, tern.checksum = 1 : i64, tern.offset = 8192 : i64} : !tern.packed<64x64, #tern.layout<i2, tile_n = 16, tile_k = 16>>
    %z = tern.bitlinear %q2, %s2, %w2, %ws {tern.arena = array<i64: 8192>, tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx512vnni", {t1 = {blocks_per_task = 1 : i64, prefetch = 0 : i64, row_tiles = 4 : i64, token_group = 1 : i64, unroll = 1 : i64}, t8 = {blocks_per_task = 1 : i64, prefetch = 0 : i64, row_tiles = 4 : i64, token_group = 4 : i64, unroll = 1 : i64}, t32 = {blocks_per_task = 1 : i64, prefetch = 0 : i64, row_tiles = 4 : i64, token_group = 4 : i64, unroll = 1 : i64}, t128 = {blocks_per_task = 1 : i64, prefetch = 0 : i64, row_tiles = 4 : i64, token_group = 4 : i64, unroll = 1 : i64}, t512 = {blocks_per_task = 1 : i64, prefetch = 0 : i64, row_tiles = 4 : i64, token_group = 4 : i64, unroll = 1 : i64}}>, tern.scratch = 2048 : i64} : tensor<?x64xi8>, tensor<?xf32>, !tern.packed<64x64, #tern.layout<i2, tile_n = 16, tile_k = 16>>, tensor<64xf32> -> tensor<?x64xf32>
    return %z, %cache : tensor<?x64xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>
  }
}
