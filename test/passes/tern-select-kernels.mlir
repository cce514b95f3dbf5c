// RUN: tern-opt %s --tern-select-kernels=target=x86-64-avx2 | FileCheck %s --check-prefix=AVX2
// RUN: tern-opt %s --tern-select-kernels=target=x86-64-avx512-vnni | FileCheck %s --check-prefix=VNNI
// RUN: tern-opt %s --tern-select-kernels=target=x86-64-multi | FileCheck %s --check-prefix=MULTI
// RUN: tern-opt %s --tern-select-kernels=target=aarch64-dotprod | FileCheck %s --check-prefix=DOT
// RUN: tern-opt %s --tern-select-kernels=target=generic | FileCheck %s --check-prefix=GENERIC
// RUN: tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/tuning-avx2.json" | FileCheck %s --check-prefix=TUNED
// RUN: not tern-opt %s --tern-select-kernels=target=riscv 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx512 tuning=%S/Inputs/tuning-avx2.json" 2>&1 | FileCheck %s --check-prefix=WRONGDB
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/tuning-bad-family.json" 2>&1 | FileCheck %s --check-prefix=BADFAMILY
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/tuning-not-json.json" 2>&1 | FileCheck %s --check-prefix=NOTJSON
// RUN: not tern-opt %s --tern-select-kernels="target=x86-64-avx2 tuning=%S/Inputs/missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING

// For x86-64-avx2: the multiply-add family's AVX2 variant with its schedule, the decoder
// table's AVX2 row, scalar kernels for what fusion left.
// AVX2: module attributes {tern.target = "x86-64-avx2"}
// AVX2: tern.quant_input {{.+}} {eps = {{.+}}, tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>}
// AVX2: tern.bitlinear {{.+}} {tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {rows_per_task = 64 : i64, tokens_per_step = 4 : i64}>} {{.+}} !tern.ternary<64x64>
// AVX2: tern.bitlinear {{.+}} {tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {{.+}}>} {{.+}} !tern.ternary<32x64>
// AVX2: tern.attention {{.+}} {causal, tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>}
// AVX2: tern.act_quant {{.+}} {tern.kernel = #tern.kernel<"generic", "generic", {}>}
// AVX2: tern.matmul {{.+}} {tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>}

// VNNI: tern.quant_input {{.+}}#tern.kernel<"decoder", "x86_64_avx512", {}>
// VNNI: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "x86_64_avx512vnni",

// MULTI: tern.quant_input {{.+}}#tern.kernel<"decoder", "dispatch", {}>
// MULTI: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "dispatch",

// DOT: tern.quant_input {{.+}}#tern.kernel<"decoder", "aarch64_neon", {}>
// DOT: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "aarch64_dotprod",

// GENERIC: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "generic",
// GENERIC: tern.attention {{.+}}#tern.kernel<"decoder", "generic", {}>

// The database's entries win where they match: the 32x64 projection (not the 64x64 one) and
// every attention.
// TUNED: tern.bitlinear {{.+}}#tern.kernel<"mad_i2", "x86_64_avx2", {{.+}} !tern.ternary<64x64>
// TUNED: tern.bitlinear {{.+}}#tern.kernel<"lut_tl2", "x86_64_avx2", {row_blocks = 2 : i64}>{{.+}} !tern.ternary<32x64>
// TUNED: tern.attention {{.+}}#tern.kernel<"generic", "generic", {}>

// BADTARGET: error: unknown target 'riscv'; expected host, x86-64-avx2, x86-64-avx512, x86-64-avx512-vnni, x86-64-multi, aarch64, aarch64-dotprod or generic
// WRONGDB: error: tuning database {{.+}}tuning-avx2.json: tuned for target 'x86-64-avx2', not 'x86-64-avx512'
// BADFAMILY: error: tuning database {{.+}}tuning-bad-family.json: unknown kernel family 'fast'; expected mad_i2, lut_tl1, lut_tl2, decoder or generic
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
