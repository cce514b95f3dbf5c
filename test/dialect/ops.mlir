// Round trip of every tern operation and type: custom syntax, generic syntax and bytecode must all
// parse back to the same IR.
// RUN: tern-opt %s | tern-opt | FileCheck %s
// RUN: tern-opt %s --mlir-print-op-generic | tern-opt | FileCheck %s
// RUN: tern-opt %s --emit-bytecode | tern-opt | FileCheck %s

// CHECK-LABEL: func.func @types
// CHECK-SAME: !tern.ternary<2560x2560>
// CHECK-SAME: !tern.packed<640x2560, #tern.layout<i2, tile_n = 16, tile_k = 4>>
// CHECK-SAME: !tern.packed<6912x2560, #tern.layout<tl1, tile_n = 32, tile_k = 64>>
// CHECK-SAME: !tern.packed<2560x6912, #tern.layout<tl2, tile_n = 32, tile_k = 96>>
// CHECK-SAME: !tern.kv_cache<layers = 30, kv_heads = 5, head_dim = 128, context = 4096, f16>
// CHECK-SAME: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 2, context = ?, i8>
// CHECK-SAME: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 64, context = 16, bf16>
func.func @types(%a: !tern.ternary<2560x2560>,
                 %b: !tern.packed<640x2560, #tern.layout<i2, tile_n = 16, tile_k = 4>>,
                 %c: !tern.packed<6912x2560, #tern.layout<tl1, tile_n = 32, tile_k = 64>>,
                 %d: !tern.packed<2560x6912, #tern.layout<tl2, tile_n = 32, tile_k = 96>>,
                 %e: !tern.kv_cache<layers = 30, kv_heads = 5, head_dim = 128, context = 4096, f16>,
                 %f: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 2, context = ?, i8>,
                 %g: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 64, context = 16, bf16>) {
  return
}

// CHECK-LABEL: func.func @weights
func.func @weights() {
  // CHECK: tern.weight "model.embed_tokens.weight" : tensor<128256x2560xbf16>
  %emb = tern.weight "model.embed_tokens.weight" : tensor<128256x2560xbf16>
  // CHECK: tern.weight "model.layers.0.self_attn.q_proj.weight" : !tern.ternary<2560x2560>
  %w = tern.weight "model.layers.0.self_attn.q_proj.weight" : !tern.ternary<2560x2560>
  // CHECK: tern.weight "blob:q_proj" : !tern.packed<2560x2560, #tern.layout<i2, tile_n = 16, tile_k = 4>>
  %p = tern.weight "blob:q_proj" : !tern.packed<2560x2560, #tern.layout<i2, tile_n = 16, tile_k = 4>>
  // CHECK: tern.weight "lm_head.weight" : tensor<32000x4096xi8>
  %h = tern.weight "lm_head.weight" : tensor<32000x4096xi8>
  // CHECK: tern.weight "lm_head.weight:q8_0" : tensor<32000x4096xf32, #tern.layout<q8_0, tile_n = 16, tile_k = 32>>
  %h8 = tern.weight "lm_head.weight:q8_0" : tensor<32000x4096xf32, #tern.layout<q8_0, tile_n = 16, tile_k = 32>>
  // CHECK: tern.weight "lm_head.weight:q6_k" : tensor<32000x4096xf32, #tern.layout<q6_k, tile_n = 16, tile_k = 256>>
  %h6 = tern.weight "lm_head.weight:q6_k" : tensor<32000x4096xf32, #tern.layout<q6_k, tile_n = 16, tile_k = 256>>
  // CHECK: tern.ternary_constant dense<{{\[\[}}1, 0, -1], [0, 1, 1]]> : tensor<2x3xi8> -> !tern.ternary<2x3>
  %c = tern.ternary_constant dense<[[1, 0, -1], [0, 1, 1]]> : tensor<2x3xi8> -> !tern.ternary<2x3>
  return
}

// CHECK-LABEL: func.func @embedding_norm_quant
// CHECK-SAME: (%[[TABLE:[a-z0-9_]+]]: tensor<300x64xbf16>, %[[TOK:[a-z0-9_]+]]: tensor<?xi32>, %[[G:[a-z0-9_]+]]: tensor<64xbf16>, %[[HG:[a-z0-9_]+]]: tensor<16xbf16>)
func.func @embedding_norm_quant(%table: tensor<300x64xbf16>, %tokens: tensor<?xi32>,
                                %g: tensor<64xbf16>, %hg: tensor<16xbf16>)
    -> (tensor<?x64xi8>, tensor<?xf32>) {
  // CHECK: %[[H:[a-z0-9_]+]] = tern.embedding %[[TABLE]][%[[TOK]]] : tensor<300x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
  %h = tern.embedding %table[%tokens] : tensor<300x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>
  // CHECK: %[[N:[a-z0-9_]+]] = tern.rms_norm %[[H]], %[[G]] {eps = 9.99999974E-6 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
  %n = tern.rms_norm %h, %g {eps = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
  // Per head (Qwen3's q_norm): each 16-element group of the 64 alone, with 16 weights.
  // CHECK: tern.rms_norm %[[N]], %[[HG]] {eps = 9.99999997E-7 : f32, group_size = 16 : i64} : tensor<?x64xf32>, tensor<16xbf16> -> tensor<?x64xf32>
  %hn = tern.rms_norm %n, %hg {eps = 1.0e-06 : f32, group_size = 16 : i64} : tensor<?x64xf32>, tensor<16xbf16> -> tensor<?x64xf32>
  // CHECK: %{{.+}}, %{{.+}} = tern.act_quant %[[N]] : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  %q, %s = tern.act_quant %n : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  // CHECK: tern.act_quant %[[N]] {bits = 4 : i64} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  %q4, %s4 = tern.act_quant %n {bits = 4 : i64} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return %q, %s : tensor<?x64xi8>, tensor<?xf32>
}

// CHECK-LABEL: func.func @bitlinear
// CHECK-SAME: (%[[XQ:[a-z0-9_]+]]: tensor<?x96xi8>, %[[XS:[a-z0-9_]+]]: tensor<?xf32>)
func.func @bitlinear(%xq: tensor<?x96xi8>, %xs: tensor<?xf32>) {
  %w = tern.weight "w" : !tern.ternary<40x96>
  %ws = tern.weight "w.scale" : tensor<1xbf16>
  %wr = tern.weight "w.row_scale" : tensor<40xf32>
  %p = tern.weight "p" : !tern.packed<40x96, #tern.layout<tl2, tile_n = 8, tile_k = 48>>
  // CHECK: tern.bitlinear %[[XQ]], %[[XS]], %{{.+}}, %{{.+}} : tensor<?x96xi8>, tensor<?xf32>, !tern.ternary<40x96>, tensor<1xbf16> -> tensor<?x40xf32>
  %0 = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x96xi8>, tensor<?xf32>, !tern.ternary<40x96>, tensor<1xbf16> -> tensor<?x40xf32>
  // CHECK: tern.bitlinear %[[XQ]], %[[XS]], %{{.+}}, %{{.+}} {scale_mode = #tern.scale_mode<divide>} : tensor<?x96xi8>, tensor<?xf32>, !tern.ternary<40x96>, tensor<40xf32> -> tensor<?x40xf32>
  %1 = tern.bitlinear %xq, %xs, %w, %wr {scale_mode = #tern.scale_mode<divide>} : tensor<?x96xi8>, tensor<?xf32>, !tern.ternary<40x96>, tensor<40xf32> -> tensor<?x40xf32>
  // CHECK: tern.bitlinear %[[XQ]], %[[XS]], %{{.+}}, %{{.+}} : tensor<?x96xi8>, tensor<?xf32>, !tern.packed<40x96, #tern.layout<tl2, tile_n = 8, tile_k = 48>>, tensor<1xbf16> -> tensor<?x40xf32>
  %2 = tern.bitlinear %xq, %xs, %p, %ws : tensor<?x96xi8>, tensor<?xf32>, !tern.packed<40x96, #tern.layout<tl2, tile_n = 8, tile_k = 48>>, tensor<1xbf16> -> tensor<?x40xf32>
  // The explicit default is elided when printed.
  // CHECK: tern.bitlinear %[[XQ]], %[[XS]], %{{.+}}, %{{.+}} : tensor<?x96xi8>
  %3 = tern.bitlinear %xq, %xs, %w, %ws {scale_mode = #tern.scale_mode<multiply>} : tensor<?x96xi8>, tensor<?xf32>, !tern.ternary<40x96>, tensor<1xbf16> -> tensor<?x40xf32>
  return
}

// A group-wise scale: one per 128 columns of each row.
// CHECK-LABEL: func.func @bitlinear_groups
func.func @bitlinear_groups(%xq: tensor<?x256xi8>, %xs: tensor<?xf32>) {
  %w = tern.weight "w" : !tern.ternary<40x256>
  %ws = tern.weight "w.scale" : tensor<40x2xbf16>
  // CHECK: tern.bitlinear {{.+}} !tern.ternary<40x256>, tensor<40x2xbf16> -> tensor<?x40xf32>
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x256xi8>, tensor<?xf32>, !tern.ternary<40x256>, tensor<40x2xbf16> -> tensor<?x40xf32>
  return
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%x: tensor<?x64xf32>, %xq: tensor<?x64xi8>, %xs: tensor<?xf32>) {
  %emb = tern.weight "model.embed_tokens.weight" : tensor<300x64xbf16>
  %w8 = tern.weight "head.q" : tensor<300x64xi8>
  %w8s = tern.weight "head.scale" : tensor<300xf32>
  // CHECK: tern.matmul %{{.+}}, %{{.+}} : tensor<?x64xf32>, tensor<300x64xbf16> -> tensor<?x300xf32>
  %0 = tern.matmul %x, %emb : tensor<?x64xf32>, tensor<300x64xbf16> -> tensor<?x300xf32>
  // CHECK: tern.matmul %{{.+}}, %{{.+}} scales(%{{.+}}, %{{.+}}) : tensor<?x64xi8>, tensor<300x64xi8>, tensor<?xf32>, tensor<300xf32> -> tensor<?x300xf32>
  %1 = tern.matmul %xq, %w8 scales(%xs, %w8s) : tensor<?x64xi8>, tensor<300x64xi8>, tensor<?xf32>, tensor<300xf32> -> tensor<?x300xf32>
  return
}

// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:[a-z0-9_]+]]: tensor<?x64xf32>, %[[K:[a-z0-9_]+]]: tensor<?x32xf32>, %[[V:[a-z0-9_]+]]: tensor<?x32xf32>, %[[POS:[a-z0-9_]+]]: tensor<?xi32>, %[[POS64:[a-z0-9_]+]]: tensor<?xi64>, %[[KV:[a-z0-9_]+]]: !tern.kv_cache
func.func @attention(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>,
                     %pos: tensor<?xi32>, %pos64: tensor<?xi64>,
                     %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 128, f32>)
    -> !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 128, f32> {
  // CHECK: %[[QR:[a-z0-9_]+]] = tern.rope %[[Q]], %[[POS]] {head_dim = 16 : i64, theta = 5.000000e+05 : f32} : tensor<?x64xf32>, tensor<?xi32>
  %qr = tern.rope %q, %pos {head_dim = 16 : i64, theta = 5.0e+05 : f32} : tensor<?x64xf32>, tensor<?xi32>
  // CHECK: %[[KR:[a-z0-9_]+]] = tern.rope %[[K]], %[[POS]] {head_dim = 16 : i64, style = #tern.rope_style<interleaved>, theta = 1.000000e+04 : f32} : tensor<?x32xf32>, tensor<?xi32>
  %kr = tern.rope %k, %pos {head_dim = 16 : i64, theta = 1.0e+04 : f32, style = #tern.rope_style<interleaved>} : tensor<?x32xf32>, tensor<?xi32>
  // A scaled RoPE: one divisor of the inverse frequency per pair of a head.
  // CHECK: tern.rope %[[K]], %[[POS]] {freq_factors = array<f32: 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 2.500000e+00, 8.000000e+00, 8.000000e+00, 8.000000e+00>, head_dim = 16 : i64, theta = 1.000000e+04 : f32} : tensor<?x32xf32>, tensor<?xi32>
  %sr = tern.rope %k, %pos {head_dim = 16 : i64, theta = 1.0e+04 : f32, freq_factors = array<f32: 1.0, 1.0, 1.0, 1.0, 2.5, 8.0, 8.0, 8.0>} : tensor<?x32xf32>, tensor<?xi32>
  // CHECK: %{{.+}}, %[[KV1:[a-z0-9_]+]] = tern.attention %[[QR]], %[[KR]], %[[V]], %[[KV]][0] at %[[POS]] {causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 128, f32>, tensor<?xi32> -> tensor<?x64xf32>
  %o, %kv1 = tern.attention %qr, %kr, %v, %kv[0] at %pos {causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 128, f32>, tensor<?xi32> -> tensor<?x64xf32>
  // CHECK: tern.attention %{{.+}}, %[[KR]], %[[V]], %[[KV1]][1] at %[[POS64]] {scale = 1.250000e-01 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 128, f32>, tensor<?xi64> -> tensor<?x64xf32>
  %o2, %kv2 = tern.attention %o, %kr, %v, %kv1[1] at %pos64 {scale = 0.125 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 128, f32>, tensor<?xi64> -> tensor<?x64xf32>
  return %kv2 : !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 128, f32>
}

// CHECK-LABEL: func.func @elementwise
// CHECK-SAME: (%[[A:[a-z0-9_]+]]: tensor<?x160xf32>, %[[B:[a-z0-9_]+]]: tensor<?x160xf32>)
func.func @elementwise(%a: tensor<?x160xf32>, %b: tensor<?x160xf32>) -> tensor<?x160xf32> {
  // CHECK: %[[R:[a-z0-9_]+]] = tern.relu2 %[[A]] : tensor<?x160xf32>
  %r = tern.relu2 %a : tensor<?x160xf32>
  // CHECK: %[[S:[a-z0-9_]+]] = tern.silu %[[B]] : tensor<?x160xf32>
  %s = tern.silu %b : tensor<?x160xf32>
  // CHECK: %[[M:[a-z0-9_]+]] = tern.mul %[[R]], %[[S]] : tensor<?x160xf32>
  %m = tern.mul %r, %s : tensor<?x160xf32>
  // CHECK: tern.add %[[M]], %[[A]] : tensor<?x160xf32>
  %sum = tern.add %m, %a : tensor<?x160xf32>
  return %sum : tensor<?x160xf32>
}

// CHECK-LABEL: func.func @fused
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: tensor<?x64xf32>, %[[U:[a-z0-9_]+]]: tensor<?x64xf32>, %[[G:[a-z0-9_]+]]: tensor<64xbf16>, %[[Y:[a-z0-9_]+]]: tensor<?x96xf32>)
func.func @fused(%x: tensor<?x64xf32>, %u: tensor<?x64xf32>, %g: tensor<64xbf16>, %y: tensor<?x96xf32>) {
  %wq = tern.weight "q" : !tern.ternary<64x64>
  %wk = tern.weight "k" : !tern.ternary<32x64>
  %sq = tern.weight "q_scale" : tensor<1xbf16>
  %sk = tern.weight "k_scale" : tensor<32xbf16>
  // CHECK: tern.concat_rows %{{.+}}, %{{.+}} {rows = array<i64: 64, 32>} : !tern.ternary<64x64>, !tern.ternary<32x64> -> !tern.ternary<96x64>
  %w = tern.concat_rows %wq, %wk {rows = array<i64: 64, 32>} : !tern.ternary<64x64>, !tern.ternary<32x64> -> !tern.ternary<96x64>
  // CHECK: tern.concat_rows %{{.+}}, %{{.+}} {rows = array<i64: 64, 32>} : tensor<1xbf16>, tensor<32xbf16> -> tensor<96xbf16>
  %s = tern.concat_rows %sq, %sk {rows = array<i64: 64, 32>} : tensor<1xbf16>, tensor<32xbf16> -> tensor<96xbf16>
  // CHECK: tern.split_cols %[[Y]] : tensor<?x96xf32> -> tensor<?x64xf32>, tensor<?x32xf32>
  %a, %b = tern.split_cols %y : tensor<?x96xf32> -> tensor<?x64xf32>, tensor<?x32xf32>
  // CHECK: tern.quant_input %[[X]] norm(%[[G]] : tensor<64xbf16>) {eps = 9.99999974E-6 : f32} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  %q, %qs = tern.quant_input %x norm(%g : tensor<64xbf16>) {eps = 1.0e-05 : f32} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  // CHECK: tern.quant_input %[[X]] up(%[[U]] : tensor<?x64xf32>) norm(%[[G]] : tensor<64xbf16>) {eps = 9.99999974E-6 : f32, glu = #tern.glu<relu2>} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  %q2, %qs2 = tern.quant_input %x up(%u : tensor<?x64xf32>) norm(%g : tensor<64xbf16>) {glu = #tern.glu<relu2>, eps = 1.0e-05 : f32} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  // CHECK: tern.quant_input %[[X]] up(%[[U]] : tensor<?x64xf32>) {bits = 4 : i64, glu = #tern.glu<silu>} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  %q3, %qs3 = tern.quant_input %x up(%u : tensor<?x64xf32>) {glu = #tern.glu<silu>, bits = 4 : i64} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return
}

// CHECK-LABEL: func.func @kernel_attr
// CHECK: tern.relu2 %{{.+}} {tern.kernel = #tern.kernel<"generic", "generic", {}>} : tensor<?x8xf32>
// CHECK: tern.relu2 %{{.+}} {tern.kernel = #tern.kernel<"lut_tl1", "x86_64_avx2", {row_blocks = 2 : i64}>} : tensor<?x8xf32>
func.func @kernel_attr(%x: tensor<?x8xf32>) {
  %a = tern.relu2 %x {tern.kernel = #tern.kernel<"generic", "generic", {}>} : tensor<?x8xf32>
  %b = tern.relu2 %x {tern.kernel = #tern.kernel<"lut_tl1", "x86_64_avx2", {row_blocks = 2 : i64}>} : tensor<?x8xf32>
  return
}
