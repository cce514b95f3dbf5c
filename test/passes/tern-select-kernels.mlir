// RUN: tern-opt %s --tern-select-kernels=target=x86-64-avx2 | FileCheck %s --check-prefix=AVX2
// RUN: tern-opt %s --tern-select-kernels=target=x86-64-avx512-vnni | FileCheck %s --check-prefix=VNNI
// RUN: tern-opt %s --tern-select-kernels="target=x86-64-avx512-vnni kernels=library" | FileCheck %s --check-prefix=LIBRARY
// RUN: tern-opt %s --tern-select-kernels=target=x86-64-multi | FileCheck %s --check-prefix=MULTI
// RUN: tern-opt %s --tern-select-kernels=target=aarch64-dotprod | FileCheck %s --check-prefix=DOT
// RUN: tern-opt %s --tern-select-kernels=target=generic | FileCheck %s --check-prefix=GENERIC
// RUN: tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/tuning-avx2.json force-tuning=true" | FileCheck %s --check-prefix=TUNED
// RUN: tern-opt %s --tern-select-kernels="target=x86-64-avx512-vnni tuning=%S/Inputs/tuning-vnni.json force-tuning=true" | FileCheck %s --check-prefix=SCHEDULES
// RUN: tern-opt %s --tern-select-kernels="target=x86-64-avx512-vnni tuning=%S/Inputs/tuning-vnni.json force-tuning=true kernels=library" | FileCheck %s --check-prefix=LIBRARY
// RUN: tern-opt %s --tern-select-kernels="target=x86-64-avx512-vnni tuning=%S/Inputs/tuning-lut.json force-tuning=true" | FileCheck %s --check-prefix=LUT
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-multi tuning=%S/Inputs/tuning-lut-multi.json force-tuning=true" 2>&1 | FileCheck %s --check-prefix=LUTMULTI
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx512-vnni tuning=%S/Inputs/tuning-lut-bad-schedule.json force-tuning=true" 2>&1 | FileCheck %s --check-prefix=LUTBAD
// RUN: not tern-opt %s --tern-select-kernels=target=riscv 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 kernels=fast" 2>&1 | FileCheck %s --check-prefix=BADKERNELS
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/tuning-avx2.json" 2>&1 | FileCheck %s --check-prefix=OTHERCPU
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx512 tuning=%S/Inputs/tuning-avx2.json force-tuning=true" 2>&1 | FileCheck %s --check-prefix=WRONGDB
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/tuning-bad-family.json force-tuning=true" 2>&1 | FileCheck %s --check-prefix=BADFAMILY
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx512-vnni tuning=%S/Inputs/tuning-bad-schedule.json force-tuning=true" 2>&1 | FileCheck %s --check-prefix=BADSCHEDULE
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx512-vnni tuning=%S/Inputs/tuning-bad-bucket.json force-tuning=true" 2>&1 | FileCheck %s --check-prefix=BADBUCKET
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/tuning-old-version.json" 2>&1 | FileCheck %s --check-prefix=VERSION
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/tuning-no-format.json" 2>&1 | FileCheck %s --check-prefix=NOFORMAT
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/tuning-not-json.json" 2>&1 | FileCheck %s --check-prefix=NOTJSON
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING

// For x86-64-avx2: generated multiply-add kernels (a Halide schedule around the vpmaddubsw tile)
// with the library's schedules, 4 row tiles per step for decode and 1 row tile x 4 tokens for
// prefill (more would not fit AVX2's registers); the decoder table's AVX2 row, scalar kernels
// for what fusion left.
// AVX2: module attributes {tern.target = "x86-64-avx2"}
// AVX2: tern.quant_input {{.+}} {eps = {{.+}}, tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>}
// AVX2: tern.bitlinear {{.+}} {tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {t1 = {blocks_per_task = 1 : i64, prefetch = 0 : i64, row_tiles = 4 : i64, token_group = 1 : i64, unroll = 1 : i64}, t128 = {blocks_per_task = 4 : i64, prefetch = 0 : i64, row_tiles = 1 : i64, token_group = 4 : i64, unroll = 1 : i64}{{.+}} !tern.ternary<64x64>
// AVX2: tern.bitlinear {{.+}} {tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {t1 = {{.+}} !tern.ternary<32x64>
// AVX2: tern.attention {{.+}} {causal, tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>}
// AVX2: tern.act_quant {{.+}} {tern.kernel = #tern.kernel<"generic", "generic", {}>}
// AVX2: tern.matmul {{.+}} {tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>}

// With VNNI the library's kernels are Halide's: each bitlinear gets a schedule per batch
// bucket, the library's own (64 rows per task; 4 tokens per weight load for prefill), which
// ternc generates for the op's shape.
// VNNI: tern.quant_input {{.+}}#tern.kernel<"decoder", "x86_64_avx512", {}>
// VNNI: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "x86_64_avx512vnni", {t1 = {blocks_per_task = 1 : i64, prefetch = 0 : i64, row_tiles = 4 : i64, token_group = 1 : i64, unroll = 1 : i64}, t128 = {{{.+}}token_group = 4 : i64{{.+}}}, t32 = {{.+}}, t512 = {{.+}}, t8 = {{.+}}}>

// With kernels=library a database's generated schedules are not used either.
// LIBRARY: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "x86_64_avx512vnni", {}>

// MULTI: tern.quant_input {{.+}}#tern.kernel<"decoder", "dispatch", {}>
// MULTI: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "dispatch", {}>

// DOT: tern.quant_input {{.+}}#tern.kernel<"decoder", "aarch64_neon", {}>
// DOT: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "aarch64_dotprod", {t1 = {{.+}}

// GENERIC: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "generic", {}>
// GENERIC: tern.attention {{.+}}#tern.kernel<"decoder", "generic", {}>

// The database's entries win where they match: the 32x64 projection (not the 64x64 one) and
// every attention.
// TUNED: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "x86_64_avx2", {t1 = {{.+}} !tern.ternary<64x64>
// TUNED: tern.bitlinear {{.+}}#tern.kernel<"lut_tl2", "x86_64_avx2", {row_blocks = 2 : i64}>{{.+}} !tern.ternary<32x64>
// TUNED: tern.attention {{.+}}#tern.kernel<"generic", "generic", {}>

// Tuned schedules for two buckets of the 64x64 projection (the others keep the heuristics);
// the 32x64 one is told to use the library.
// SCHEDULES: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "x86_64_avx512vnni", {t1 = {blocks_per_task = 2 : i64, prefetch = 8 : i64, row_tiles = 2 : i64, token_group = 1 : i64, unroll = 4 : i64}, t128 = {blocks_per_task = 1 : i64, prefetch = 0 : i64, row_tiles = 2 : i64, token_group = 8 : i64, unroll = 1 : i64}, t32 = {blocks_per_task = 1 : i64, prefetch = 0 : i64, row_tiles = 4 : i64, token_group = 4 : i64, unroll = 1 : i64}, {{.+}} !tern.ternary<64x64>
// SCHEDULES: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "x86_64_avx512vnni", {}>{{.+}} !tern.ternary<32x64>

// Generated lookup-table schedules: the 64x64 projection takes the decode bucket's family
// (lut_tl1, packed in its layout), its two tuned buckets and the family's defaults for the others;
// the mad_i2 schedule of another bucket is not mixed in.
// LUT: tern.bitlinear {{.+}}#tern.kernel<"lut_tl1", "x86_64_avx512", {t1 = {blocks_per_task = 2 : i64, row_blocks = 1 : i64, token_group = 1 : i64}, t128 = {blocks_per_task = 2 : i64, row_blocks = 2 : i64, token_group = 1 : i64}, t32 = {blocks_per_task = 2 : i64, row_blocks = 2 : i64, token_group = 1 : i64}, t512 = {{.+}}, t8 = {blocks_per_task = 4 : i64, row_blocks = 4 : i64, token_group = 3 : i64}}>{{.+}} !tern.ternary<64x64>
// LUT: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "x86_64_avx512vnni", {t1 = {{.+}} !tern.ternary<32x64>
// LUTMULTI: error: tuning database {{.+}}tuning-lut-multi.json: generated lut_tl1 kernels for tern.bitlinear '!tern.ternary<64x64>': target 'x86-64-multi' has no generated lookup-table tiles
// LUTBAD: error: tuning database {{.+}}tuning-lut-bad-schedule.json: unknown lut_tl2 schedule parameter 'row_tiles' in t1; expected row_blocks, blocks_per_task or token_group

// BADTARGET: error: unknown target 'riscv'; expected host, x86-64-avx2, x86-64-avx512, x86-64-avx512-vnni, x86-64-multi, aarch64, aarch64-dotprod or generic
// BADKERNELS: error: kernels=fast: expected generated or library
// OTHERCPU: error: tuning database {{.+}}tuning-avx2.json: measured on CPU 'TestVendor family 1 model 2 [avx2] L1d 0K L2 0K L3 0K', but this CPU is '{{.+}}' (tune on this CPU with tern-tune, or use it anyway with --force)
// WRONGDB: error: tuning database {{.+}}tuning-avx2.json: tuned for target 'x86-64-avx2', not 'x86-64-avx512'
// BADFAMILY: error: tuning database {{.+}}tuning-bad-family.json: unknown kernel family 'fast'; expected mad_i2, lut_tl1, lut_tl2, decoder or generic
// BADSCHEDULE: error: tuning database {{.+}}tuning-bad-schedule.json: t1.row_tiles must be an integer in [1, 4], a power of 2, found 3
// BADBUCKET: error: tuning database {{.+}}tuning-bad-bucket.json: kernels[0].bucket must be 1, 8, 32, 128 or 512, not 64
// VERSION: error: tuning database {{.+}}tuning-old-version.json: version 0, this ternc reads version 1 (re-run tern-tune)
// NOFORMAT: error: tuning database {{.+}}tuning-no-format.json: not a tern tuning database (expected an object with "format": "tern-tuning"; tern-tune writes them)
// NOTJSON: error: tuning database {{.+}}tuning-not-json.json: not JSON:
// MISSING: error: tuning database {{.+}}missing.json: cannot read: No such file or directory

func.func @layer(%h: tensor<?x64xf32>, %g: tensor<64xbf16>, %pos: tensor<?xi32>,
                 %kv: !tern.kv_cache<layers = 1, kv_heads = 2, head_dim = 16, context = 64, f32>,
                 %head: tensor<300x64xbf16>) -> (tensor<?x300xf32>, tensor<?x32xi8>) {
  %q8, %s8 = tern.quant_input %h norm(%g : tensor<64xbf16>) {eps = 1.0e-05 : f32} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  %wq = tern.weight "q" : !tern.ternary<64x64>
  %wk = tern.weight "k" : !tern.ternary<32x64>
  %sc = tern.weight "scale" : tensor<1xbf16>
  %q = tern.bitlinear %q8, %s8, %wq, %sc : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<64x64>, tensor<1xbf16> -> tensor<?x64xf32>
  %k = tern.bitlinear %q8, %s8, %wk, %sc : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<32x64>, tensor<1xbf16> -> tensor<?x32xf32>
  %o, %kv1 = tern.attention %q, %k, %k, %kv[0] at %pos {causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 1, kv_heads = 2, head_dim = 16, context = 64, f32>, tensor<?xi32> -> tensor<?x64xf32>
  %kq, %ks = tern.act_quant %k : tensor<?x32xf32> -> tensor<?x32xi8>, tensor<?xf32>
  %logits = tern.matmul %o, %head : tensor<?x64xf32>, tensor<300x64xbf16> -> tensor<?x300xf32>
  return %logits, %kq : tensor<?x300xf32>, tensor<?x32xi8>
}
