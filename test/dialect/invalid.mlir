// Every verifier and parser error of the tern dialect, checked by its message.
// RUN: tern-opt %s --split-input-file --verify-diagnostics

//===--- !tern.ternary / !tern.packed / #tern.layout ---===//

// expected-error @+1 {{expected a weight shape N x K (2 dimensions), found 3 dimension(s)}}
func.func @ternary_rank(%w: !tern.ternary<2x3x4>)

// -----

// expected-error @+1 {{!tern.ternary dimensions must be positive, found 0x4}}
func.func @ternary_zero(%w: !tern.ternary<0x4>)

// -----

// expected-error @+1 {{expected static shape}}
func.func @ternary_dynamic(%w: !tern.ternary<?x4>)

// -----

// expected-error @+1 {{!tern.packed dimensions must be positive, found 8x0}}
func.func @packed_zero(%w: !tern.packed<8x0, #tern.layout<i2, tile_n = 16, tile_k = 4>>)

// -----

// expected-error @+1 {{invalid kind of attribute specified}}
func.func @packed_not_a_layout(%w: !tern.packed<8x8, 4 : i64>)

// -----

// expected-error @+1 {{tile_n of a #tern.layout must be positive, found 0}}
func.func @layout_tile_n(%w: !tern.packed<8x8, #tern.layout<i2, tile_n = 0, tile_k = 4>>)

// -----

// expected-error @+1 {{tile_k of a #tern.layout must be positive, found -4}}
func.func @layout_tile_k(%w: !tern.packed<8x8, #tern.layout<i2, tile_n = 8, tile_k = -4>>)

// -----

// expected-error @+1 {{tile_k of a tl2 layout must be a multiple of its group size 3, found 64}}
func.func @layout_tl2_group(%w: !tern.packed<8x8, #tern.layout<tl2, tile_n = 8, tile_k = 64>>)

// -----

// expected-error @+1 {{tile_k of a tl1 layout must be a multiple of its group size 2, found 5}}
func.func @layout_tl1_group(%w: !tern.packed<8x8, #tern.layout<tl1, tile_n = 8, tile_k = 5>>)

// -----

// expected-error @+2 {{expected ::mlir::tern::WeightFormat to be one of: i2, tl1, tl2}}
// expected-error @+1 {{failed to parse Tern_LayoutAttr parameter 'format' which is to be a `::mlir::tern::WeightFormat`}}
func.func @layout_format(%w: !tern.packed<8x8, #tern.layout<i3, tile_n = 8, tile_k = 4>>)

// -----

//===--- !tern.kv_cache ---===//

// expected-error @+1 {{!tern.kv_cache needs at least one layer, found layers = 0}}
func.func @kv_layers(%kv: !tern.kv_cache<layers = 0, kv_heads = 1, head_dim = 8, context = 4, f32>)

// -----

// expected-error @+1 {{!tern.kv_cache needs at least one head, found kv_heads = 0}}
func.func @kv_heads(%kv: !tern.kv_cache<layers = 1, kv_heads = 0, head_dim = 8, context = 4, f32>)

// -----

// expected-error @+1 {{!tern.kv_cache head_dim must be positive, found -8}}
func.func @kv_head_dim(%kv: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = -8, context = 4, f32>)

// -----

// expected-error @+1 {{!tern.kv_cache context must be positive or ?, found 0}}
func.func @kv_context(%kv: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 8, context = 0, f32>)

// -----

// expected-error @+1 {{!tern.kv_cache element type must be f32, f16, bf16 or i8, found 'f64'}}
func.func @kv_element(%kv: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 8, context = 4, f64>)

// -----

// expected-error @+1 {{expected 'kv_heads'}}
func.func @kv_syntax(%kv: !tern.kv_cache<layers = 1, head_dim = 8, context = 4, f32>)

// -----

//===--- tern.weight / tern.ternary_constant ---===//

func.func @weight_name() {
  // expected-error @+1 {{'tern.weight' op needs a non-empty weight-store name}}
  %w = tern.weight "" : tensor<4xf32>
  return
}

// -----

func.func @weight_dynamic() {
  // expected-error @+1 {{'tern.weight' op weight 'w' must have a static shape, found 'tensor<?x4xf32>'}}
  %w = tern.weight "w" : tensor<?x4xf32>
  return
}

// -----

func.func @weight_element() {
  // expected-error @+1 {{'tern.weight' op weight 'w' must have integer or floating-point elements, found 'index'}}
  %w = tern.weight "w" : tensor<4xindex>
  return
}

// -----

func.func @weight_type() {
  // expected-error @+1 {{'tern.weight' op result #0 must be ranked tensor of any type values or ternary weight (!tern.ternary or !tern.packed), but got 'f32'}}
  %w = tern.weight "w" : f32
  return
}

// -----

func.func @constant_shape() {
  // expected-error @+1 {{'tern.ternary_constant' op value of type 'tensor<2x3xi8>' does not have the result's shape 3x2}}
  %w = tern.ternary_constant dense<[[1, 0, -1], [0, 1, 1]]> : tensor<2x3xi8> -> !tern.ternary<3x2>
  return
}

// -----

func.func @constant_value() {
  // expected-error @+1 {{'tern.ternary_constant' op value at [1, 2] is 2; a ternary weight is -1, 0 or +1}}
  %w = tern.ternary_constant dense<[[1, 0, -1], [0, 1, 2]]> : tensor<2x3xi8> -> !tern.ternary<2x3>
  return
}

// -----

//===--- tern.embedding ---===//

func.func @embedding_table(%t: tensor<4x8x2xf32>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'tern.embedding' op expects a [vocab, hidden] table of rank 2, found 'tensor<4x8x2xf32>'}}
  %h = tern.embedding %t[%ids] : tensor<4x8x2xf32>, tensor<?xi32> -> tensor<?x8xf32>
  return
}

// -----

func.func @embedding_ids(%t: tensor<4x8xf32>, %ids: tensor<1x3xi32>) {
  // expected-error @+1 {{'tern.embedding' op expects 1-D token ids of rank 1, found 'tensor<1x3xi32>'}}
  %h = tern.embedding %t[%ids] : tensor<4x8xf32>, tensor<1x3xi32> -> tensor<?x8xf32>
  return
}

// -----

func.func @embedding_result_rank(%t: tensor<4x8xf32>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'tern.embedding' op expects a [tokens, hidden] result of rank 2, found 'tensor<?xf32>'}}
  %h = tern.embedding %t[%ids] : tensor<4x8xf32>, tensor<?xi32> -> tensor<?xf32>
  return
}

// -----

func.func @embedding_rows(%t: tensor<4x8xf32>, %ids: tensor<3xi32>) {
  // expected-error @+1 {{'tern.embedding' op result has 2 rows; expected one per token (3)}}
  %h = tern.embedding %t[%ids] : tensor<4x8xf32>, tensor<3xi32> -> tensor<2x8xf32>
  return
}

// -----

func.func @embedding_width(%t: tensor<4x8xf32>, %ids: tensor<?xi32>) {
  // expected-error @+1 {{'tern.embedding' op result width 6 does not match the table's hidden size 8}}
  %h = tern.embedding %t[%ids] : tensor<4x8xf32>, tensor<?xi32> -> tensor<?x6xf32>
  return
}

// -----

func.func @embedding_ids_type(%t: tensor<4x8xf32>, %ids: tensor<?xf32>) {
  // expected-error @+1 {{'tern.embedding' op operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?xf32>'}}
  %h = tern.embedding %t[%ids] : tensor<4x8xf32>, tensor<?xf32> -> tensor<?x8xf32>
  return
}

// -----

//===--- tern.rms_norm ---===//

func.func @rms_eps(%x: tensor<?x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tern.rms_norm' op eps must be positive and finite, found 0}}
  %n = tern.rms_norm %x, %g {eps = 0.0 : f32} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @rms_rank(%x: tensor<f32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tern.rms_norm' op expects an input of rank >= 1, found 'tensor<f32>'}}
  %n = tern.rms_norm %x, %g {eps = 1.0e-5 : f32} : tensor<f32>, tensor<8xf32> -> tensor<f32>
  return
}

// -----

func.func @rms_weight_rank(%x: tensor<?x8xf32>, %g: tensor<1x8xf32>) {
  // expected-error @+1 {{'tern.rms_norm' op expects a 1-D weight of rank 1, found 'tensor<1x8xf32>'}}
  %n = tern.rms_norm %x, %g {eps = 1.0e-5 : f32} : tensor<?x8xf32>, tensor<1x8xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @rms_weight_size(%x: tensor<?x8xf32>, %g: tensor<4xbf16>) {
  // expected-error @+1 {{'tern.rms_norm' op weight has 4 elements; expected the normalized size 8}}
  %n = tern.rms_norm %x, %g {eps = 1.0e-5 : f32} : tensor<?x8xf32>, tensor<4xbf16> -> tensor<?x8xf32>
  return
}

// -----

func.func @rms_group_weight(%x: tensor<?x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tern.rms_norm' op weight has 8 elements; expected the normalized size 4}}
  %n = tern.rms_norm %x, %g {eps = 1.0e-5 : f32, group_size = 4 : i64} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @rms_group_divides(%x: tensor<?x8xf32>, %g: tensor<3xf32>) {
  // expected-error @+1 {{'tern.rms_norm' op group_size 3 does not divide the last dimension 8}}
  %n = tern.rms_norm %x, %g {eps = 1.0e-5 : f32, group_size = 3 : i64} : tensor<?x8xf32>, tensor<3xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @rms_group_positive(%x: tensor<?x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tern.rms_norm' op group_size must be positive, found 0}}
  %n = tern.rms_norm %x, %g {eps = 1.0e-5 : f32, group_size = 0 : i64} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @rms_result(%x: tensor<?x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'tern.rms_norm' op result type 'tensor<2x8xf32>' must equal the input type 'tensor<?x8xf32>'}}
  %n = tern.rms_norm %x, %g {eps = 1.0e-5 : f32} : tensor<?x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  return
}

// -----

//===--- tern.act_quant ---===//

func.func @quant_bits(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{'tern.act_quant' op bits must be in [2, 8] (stored in i8), found 9}}
  %q, %s = tern.act_quant %x {bits = 9 : i64} : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?xf32>
  return
}

// -----

func.func @quant_rank(%x: tensor<8xf32>) {
  // expected-error @+1 {{'tern.act_quant' op expects a [tokens, features] input of rank 2, found 'tensor<8xf32>'}}
  %q, %s = tern.act_quant %x : tensor<8xf32> -> tensor<8xi8>, tensor<1xf32>
  return
}

// -----

func.func @quant_shape(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{'tern.act_quant' op quantized result 'tensor<?x4xi8>' must have the input's shape, as in 'tensor<?x8xf32>'}}
  %q, %s = tern.act_quant %x : tensor<?x8xf32> -> tensor<?x4xi8>, tensor<?xf32>
  return
}

// -----

func.func @quant_scale_rank(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{'tern.act_quant' op expects a scale of rank 1, found 'tensor<?x1xf32>'}}
  %q, %s = tern.act_quant %x : tensor<?x8xf32> -> tensor<?x8xi8>, tensor<?x1xf32>
  return
}

// -----

func.func @quant_scale_tokens(%x: tensor<3x8xf32>) {
  // expected-error @+1 {{'tern.act_quant' op expects a scale with one element per token (3), found 1}}
  %q, %s = tern.act_quant %x : tensor<3x8xf32> -> tensor<3x8xi8>, tensor<1xf32>
  return
}

// -----

func.func @quant_type(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{'tern.act_quant' op result #0 must be ranked tensor of 8-bit signless integer values, but got 'tensor<?x8xi4>'}}
  %q, %s = tern.act_quant %x : tensor<?x8xf32> -> tensor<?x8xi4>, tensor<?xf32>
  return
}

// -----

//===--- tern.bitlinear ---===//

func.func @bitlinear_rank(%xq: tensor<8xi8>, %xs: tensor<?xf32>, %w: !tern.ternary<4x8>, %ws: tensor<1xf32>) {
  // expected-error @+1 {{'tern.bitlinear' op expects a [tokens, K] x_q of rank 2, found 'tensor<8xi8>'}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<8xi8>, tensor<?xf32>, !tern.ternary<4x8>, tensor<1xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @bitlinear_x_scale(%xq: tensor<2x8xi8>, %xs: tensor<3xf32>, %w: !tern.ternary<4x8>, %ws: tensor<1xf32>) {
  // expected-error @+1 {{'tern.bitlinear' op expects an x_scale with one element per token (2), found 3}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<2x8xi8>, tensor<3xf32>, !tern.ternary<4x8>, tensor<1xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @bitlinear_k(%xq: tensor<?x8xi8>, %xs: tensor<?xf32>, %w: !tern.ternary<4x6>, %ws: tensor<1xf32>) {
  // expected-error @+1 {{'tern.bitlinear' op input has K = 8 columns but the weight has K = 6}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x8xi8>, tensor<?xf32>, !tern.ternary<4x6>, tensor<1xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @bitlinear_scale_rank(%xq: tensor<?x8xi8>, %xs: tensor<?xf32>, %w: !tern.ternary<4x8>, %ws: tensor<f32>) {
  // expected-error @+1 {{'tern.bitlinear' op expects a weight_scale of rank 1, found 'tensor<f32>'}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x8xi8>, tensor<?xf32>, !tern.ternary<4x8>, tensor<f32> -> tensor<?x4xf32>
  return
}

// -----

func.func @bitlinear_scale_size(%xq: tensor<?x8xi8>, %xs: tensor<?xf32>, %w: !tern.ternary<4x8>, %ws: tensor<3xf32>) {
  // expected-error @+1 {{'tern.bitlinear' op expects a weight_scale of 1 element (per tensor) or N = 4 (per row), found 3}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x8xi8>, tensor<?xf32>, !tern.ternary<4x8>, tensor<3xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @bitlinear_scale_groups(%xq: tensor<?x256xi8>, %xs: tensor<?xf32>, %w: !tern.ternary<4x256>, %ws: tensor<4x8xf32>) {
  // expected-error @+1 {{'tern.bitlinear' op expects a group-wise weight_scale [N, K / G] with N = 4 and G = 64, 128 or 256 dividing K = 256, found [4, 8]}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x256xi8>, tensor<?xf32>, !tern.ternary<4x256>, tensor<4x8xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @bitlinear_result_rank(%xq: tensor<?x8xi8>, %xs: tensor<?xf32>, %w: !tern.ternary<4x8>, %ws: tensor<1xf32>) {
  // expected-error @+1 {{'tern.bitlinear' op expects a [tokens, outputs] result of rank 2, found 'tensor<4xf32>'}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x8xi8>, tensor<?xf32>, !tern.ternary<4x8>, tensor<1xf32> -> tensor<4xf32>
  return
}

// -----

func.func @bitlinear_result_rows(%xq: tensor<2x8xi8>, %xs: tensor<2xf32>, %w: !tern.ternary<4x8>, %ws: tensor<1xf32>) {
  // expected-error @+1 {{'tern.bitlinear' op result has 5 rows; expected one per input token (2)}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<2x8xi8>, tensor<2xf32>, !tern.ternary<4x8>, tensor<1xf32> -> tensor<5x4xf32>
  return
}

// -----

func.func @bitlinear_result_cols(%xq: tensor<?x8xi8>, %xs: tensor<?xf32>, %w: !tern.packed<4x8, #tern.layout<i2, tile_n = 4, tile_k = 4>>, %ws: tensor<1xf32>) {
  // expected-error @+1 {{'tern.bitlinear' op result has 8 columns; expected the weight's N = 4}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x8xi8>, tensor<?xf32>, !tern.packed<4x8, #tern.layout<i2, tile_n = 4, tile_k = 4>>, tensor<1xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @bitlinear_weight_type(%xq: tensor<?x8xi8>, %xs: tensor<?xf32>, %w: tensor<4x8xi8>, %ws: tensor<1xf32>) {
  // expected-error @+1 {{'tern.bitlinear' op operand #2 must be ternary weight (!tern.ternary or !tern.packed), but got 'tensor<4x8xi8>'}}
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x8xi8>, tensor<?xf32>, tensor<4x8xi8>, tensor<1xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @bitlinear_mode(%xq: tensor<?x8xi8>, %xs: tensor<?xf32>, %w: !tern.ternary<4x8>, %ws: tensor<1xf32>) {
  // expected-error @+2 {{expected ::mlir::tern::ScaleMode to be one of: multiply, divide}}
  // expected-error @+1 {{failed to parse Tern_ScaleModeAttr parameter 'value' which is to be a `::mlir::tern::ScaleMode`}}
  %y = tern.bitlinear %xq, %xs, %w, %ws {scale_mode = #tern.scale_mode<invert>} : tensor<?x8xi8>, tensor<?xf32>, !tern.ternary<4x8>, tensor<1xf32> -> tensor<?x4xf32>
  return
}

// -----

//===--- tern.matmul ---===//

func.func @matmul_rank(%x: tensor<8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{'tern.matmul' op expects a [tokens, K] input of rank 2, found 'tensor<8xf32>'}}
  %y = tern.matmul %x, %w : tensor<8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @matmul_weight_rank(%x: tensor<?x8xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{'tern.matmul' op expects an [N, K] weight of rank 2, found 'tensor<32xf32>'}}
  %y = tern.matmul %x, %w : tensor<?x8xf32>, tensor<32xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @matmul_k(%x: tensor<?x8xf32>, %w: tensor<4x7xbf16>) {
  // expected-error @+1 {{'tern.matmul' op input has K = 8 columns but the weight has K = 7}}
  %y = tern.matmul %x, %w : tensor<?x8xf32>, tensor<4x7xbf16> -> tensor<?x4xf32>
  return
}

// -----

func.func @matmul_mixed(%x: tensor<?x8xf32>, %w: tensor<4x8xi8>) {
  // expected-error @+1 {{'tern.matmul' op expects input and weight both float or both i8, found 'f32' and 'i8'}}
  %y = tern.matmul %x, %w : tensor<?x8xf32>, tensor<4x8xi8> -> tensor<?x4xf32>
  return
}

// -----

func.func @matmul_float_scales(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>, %xs: tensor<?xf32>, %ws: tensor<4xf32>) {
  // expected-error @+1 {{'tern.matmul' op takes scales only for an i8 input and weight}}
  %y = tern.matmul %x, %w scales(%xs, %ws) : tensor<?x8xf32>, tensor<4x8xf32>, tensor<?xf32>, tensor<4xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @matmul_int_no_scales(%x: tensor<?x8xi8>, %w: tensor<4x8xi8>) {
  // expected-error @+1 {{'tern.matmul' op with i8 operands needs both an input_scale and a weight_scale}}
  %y = tern.matmul %x, %w : tensor<?x8xi8>, tensor<4x8xi8> -> tensor<?x4xf32>
  return
}

// -----

func.func @matmul_input_scale(%x: tensor<2x8xi8>, %w: tensor<4x8xi8>, %xs: tensor<3xf32>, %ws: tensor<4xf32>) {
  // expected-error @+1 {{'tern.matmul' op expects an input_scale with one element per token (2), found 3}}
  %y = tern.matmul %x, %w scales(%xs, %ws) : tensor<2x8xi8>, tensor<4x8xi8>, tensor<3xf32>, tensor<4xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_weight_scale(%x: tensor<?x8xi8>, %w: tensor<4x8xi8>, %xs: tensor<?xf32>, %ws: tensor<2xf32>) {
  // expected-error @+1 {{'tern.matmul' op expects a weight_scale of 1 element (per tensor) or N = 4 (per row), found 2}}
  %y = tern.matmul %x, %w scales(%xs, %ws) : tensor<?x8xi8>, tensor<4x8xi8>, tensor<?xf32>, tensor<2xf32> -> tensor<?x4xf32>
  return
}

// -----

func.func @matmul_result(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{'tern.matmul' op result has 3 columns; expected the weight's N = 4}}
  %y = tern.matmul %x, %w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x3xf32>
  return
}

// -----

func.func @matmul_one_scale(%x: tensor<?x8xi8>, %w: tensor<4x8xi8>, %xs: tensor<?xf32>) {
  // expected-error @+1 {{expected ','}}
  %y = tern.matmul %x, %w scales(%xs) : tensor<?x8xi8>, tensor<4x8xi8>, tensor<?xf32> -> tensor<?x4xf32>
  return
}

// -----

//===--- tern.rope ---===//

func.func @rope_head_dim(%x: tensor<?x64xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tern.rope' op head_dim must be positive and even, found 7}}
  %r = tern.rope %x, %p {head_dim = 7 : i64, theta = 1.0e4 : f32} : tensor<?x64xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_theta(%x: tensor<?x64xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tern.rope' op theta must be positive and finite, found -1}}
  %r = tern.rope %x, %p {head_dim = 16 : i64, theta = -1.0 : f32} : tensor<?x64xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_factor_count(%x: tensor<?x64xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tern.rope' op freq_factors has 3 values; expected head_dim / 2 = 8}}
  %r = tern.rope %x, %p {head_dim = 16 : i64, theta = 1.0e4 : f32, freq_factors = array<f32: 1.0, 2.0, 4.0>} : tensor<?x64xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_factor_value(%x: tensor<?x64xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tern.rope' op freq_factors[1] must be positive and finite, found 0}}
  %r = tern.rope %x, %p {head_dim = 4 : i64, theta = 1.0e4 : f32, freq_factors = array<f32: 1.0, 0.0>} : tensor<?x64xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_rank(%x: tensor<?x4x16xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tern.rope' op expects a [tokens, heads * head_dim] input of rank 2, found 'tensor<?x4x16xf32>'}}
  %r = tern.rope %x, %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : tensor<?x4x16xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_width(%x: tensor<?x60xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tern.rope' op input width 60 is not a multiple of head_dim 16}}
  %r = tern.rope %x, %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : tensor<?x60xf32>, tensor<?xi32>
  return
}

// -----

func.func @rope_positions(%x: tensor<4x64xf32>, %p: tensor<3xi32>) {
  // expected-error @+1 {{'tern.rope' op expects positions with one element per token (4), found 3}}
  %r = tern.rope %x, %p {head_dim = 16 : i64, theta = 1.0e4 : f32} : tensor<4x64xf32>, tensor<3xi32>
  return
}

// -----

func.func @rope_missing_theta(%x: tensor<?x64xf32>, %p: tensor<?xi32>) {
  // expected-error @+1 {{'tern.rope' op requires attribute 'theta'}}
  %r = tern.rope %x, %p {head_dim = 16 : i64} : tensor<?x64xf32>, tensor<?xi32>
  return
}

// -----

//===--- tern.attention ---===//

func.func @attention_layer(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: tensor<?xi32>,
                           %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>) {
  // expected-error @+1 {{'tern.attention' op layer 2 is out of range for a cache of 2 layers}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[2] at %p {causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>, tensor<?xi32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: tensor<?xi32>,
                           %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>) {
  // expected-error @+1 {{'tern.attention' op scale must be positive, found 0}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p {scale = 0.0 : f32} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>, tensor<?xi32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_query_rank(%q: tensor<64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: tensor<?xi32>,
                                %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>) {
  // expected-error @+1 {{'tern.attention' op expects a [tokens, heads * head_dim] query of rank 2, found 'tensor<64xf32>'}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p : tensor<64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>, tensor<?xi32> -> tensor<64xf32>
  return
}

// -----

func.func @attention_key_tokens(%q: tensor<2x64xf32>, %k: tensor<3x32xf32>, %v: tensor<2x32xf32>, %p: tensor<2xi32>,
                                %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>) {
  // expected-error @+1 {{'tern.attention' op key has 3 tokens but the query has 2}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p : tensor<2x64xf32>, tensor<3x32xf32>, tensor<2x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>, tensor<2xi32> -> tensor<2x64xf32>
  return
}

// -----

func.func @attention_value_width(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x48xf32>, %p: tensor<?xi32>,
                                 %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>) {
  // expected-error @+1 {{'tern.attention' op value width 48 does not match the cache's kv_heads * head_dim = 32}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x48xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>, tensor<?xi32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_query_width(%q: tensor<?x72xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: tensor<?xi32>,
                                 %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>) {
  // expected-error @+1 {{'tern.attention' op query width 72 is not a multiple of the cache's head_dim 16}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p : tensor<?x72xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>, tensor<?xi32> -> tensor<?x72xf32>
  return
}

// -----

func.func @attention_groups(%q: tensor<?x48xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: tensor<?xi32>,
                            %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>) {
  // expected-error @+1 {{'tern.attention' op query heads (3) must be a multiple of the cache's kv_heads (2)}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p : tensor<?x48xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>, tensor<?xi32> -> tensor<?x48xf32>
  return
}

// -----

func.func @attention_output(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: tensor<?xi32>,
                            %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>) {
  // expected-error @+1 {{'tern.attention' op output type 'tensor<?x32xf32>' must equal the query type 'tensor<?x64xf32>'}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>, tensor<?xi32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_positions(%q: tensor<2x64xf32>, %k: tensor<2x32xf32>, %v: tensor<2x32xf32>, %p: tensor<5xi32>,
                               %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>) {
  // expected-error @+1 {{'tern.attention' op expects positions with one element per token (2), found 5}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p : tensor<2x64xf32>, tensor<2x32xf32>, tensor<2x32xf32>, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 8, f32>, tensor<5xi32> -> tensor<2x64xf32>
  return
}

// -----

func.func @attention_cache_type(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: tensor<?xi32>, %kv: tensor<8xf32>) {
  // expected-error @+1 {{'tern.attention' op operand #3 must be !tern.kv_cache, but got 'tensor<8xf32>'}}
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<8xf32>, tensor<?xi32> -> tensor<?x64xf32>
  return
}

// -----

//===--- elementwise ---===//

// expected-note @+1 {{prior use here}}
func.func @add_types(%a: tensor<?x8xf32>, %b: tensor<?x4xf32>) {
  // expected-error @+1 {{use of value '%b' expects different type than prior uses: 'tensor<?x8xf32>' vs 'tensor<?x4xf32>'}}
  %c = tern.add %a, %b : tensor<?x8xf32>
  return
}

// -----

func.func @relu2_type(%a: tensor<?x8xi8>) {
  // expected-error @+1 {{'tern.relu2' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<?x8xi8>'}}
  %c = tern.relu2 %a : tensor<?x8xi8>
  return
}

// -----

func.func @mul_generic(%a: tensor<?x8xf32>, %b: tensor<?x4xf32>) {
  // expected-error @+1 {{'tern.mul' op all non-scalar operands/results must have the same shape and base type}}
  %c = "tern.mul"(%a, %b) : (tensor<?x8xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

//===--- tern.quant_input / tern.concat_rows / tern.split_cols ---===//

func.func @quant_input_gate_without_up(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{a gated activation needs an `up` operand}}
  %q, %s = tern.quant_input %x {glu = #tern.glu<relu2>} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return
}

// -----

func.func @quant_input_up_without_gate(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{an `up` operand needs glu = relu2 or silu}}
  %q, %s = tern.quant_input %x up(%x : tensor<?x64xf32>) : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return
}

// -----

func.func @quant_input_norm_without_eps(%x: tensor<?x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{a norm weight and eps go together}}
  %q, %s = tern.quant_input %x norm(%g : tensor<64xf32>) : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return
}

// -----

func.func @quant_input_norm_width(%x: tensor<?x64xf32>, %g: tensor<32xf32>) {
  // expected-error @+1 {{norm weight has 32 elements; expected the input width 64}}
  %q, %s = tern.quant_input %x norm(%g : tensor<32xf32>) {eps = 1.0e-05 : f32} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return
}

// -----

func.func @quant_input_up_type(%x: tensor<?x64xf32>, %u: tensor<?x32xf32>) {
  // expected-error @+1 {{up has type 'tensor<?x32xf32>'; expected the input type 'tensor<?x64xf32>'}}
  %q, %s = tern.quant_input %x up(%u : tensor<?x32xf32>) {glu = #tern.glu<silu>} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return
}

// -----

func.func @quant_input_bits(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{bits must be in [2, 8] (stored in i8), found 9}}
  %q, %s = tern.quant_input %x {bits = 9 : i64} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return
}

// -----

func.func @concat_rows_count(%a: !tern.ternary<4x8>, %b: !tern.ternary<2x8>) {
  // expected-error @+1 {{has 1 row counts for 2 inputs}}
  %w = tern.concat_rows %a, %b {rows = array<i64: 4>} : !tern.ternary<4x8>, !tern.ternary<2x8> -> !tern.ternary<6x8>
  return
}

// -----

func.func @concat_rows_cols(%a: !tern.ternary<4x8>, %b: !tern.ternary<2x6>) {
  // expected-error @+1 {{input 1 is '!tern.ternary<2x6>'; expected 2x8 rows x columns}}
  %w = tern.concat_rows %a, %b {rows = array<i64: 4, 2>} : !tern.ternary<4x8>, !tern.ternary<2x6> -> !tern.ternary<6x8>
  return
}

// -----

func.func @concat_rows_total(%a: !tern.ternary<4x8>, %b: !tern.ternary<2x8>) {
  // expected-error @+1 {{result has 7 rows; expected 6}}
  %w = tern.concat_rows %a, %b {rows = array<i64: 4, 2>} : !tern.ternary<4x8>, !tern.ternary<2x8> -> !tern.ternary<7x8>
  return
}

// -----

func.func @concat_rows_single(%a: !tern.ternary<4x8>) {
  // expected-error @+1 {{expects at least 2 inputs, found 1}}
  %w = tern.concat_rows %a {rows = array<i64: 4>} : !tern.ternary<4x8> -> !tern.ternary<4x8>
  return
}

// -----

func.func @concat_rows_mixed(%a: !tern.ternary<4x8>, %b: tensor<2xf32>) {
  // expected-error @+1 {{input 1 is 'tensor<2xf32>'; expected a !tern.ternary like the result}}
  %w = tern.concat_rows %a, %b {rows = array<i64: 4, 2>} : !tern.ternary<4x8>, tensor<2xf32> -> !tern.ternary<6x8>
  return
}

// -----

func.func @concat_rows_scale_rows(%a: tensor<1xbf16>, %b: tensor<3xbf16>) {
  // expected-error @+1 {{input 1 has 3 rows; expected 2 or 1 (broadcast)}}
  %s = tern.concat_rows %a, %b {rows = array<i64: 4, 2>} : tensor<1xbf16>, tensor<3xbf16> -> tensor<6xbf16>
  return
}

// -----

func.func @concat_rows_scale_type(%a: tensor<1xbf16>, %b: tensor<1xf32>) {
  // expected-error @+1 {{input 1 is 'tensor<1xf32>'; expected 'bf16' with the result's trailing shape}}
  %s = tern.concat_rows %a, %b {rows = array<i64: 4, 2>} : tensor<1xbf16>, tensor<1xf32> -> tensor<6xbf16>
  return
}

// -----

func.func @split_cols_sum(%y: tensor<?x96xf32>) {
  // expected-error @+1 {{output widths sum to 80; expected the input width 96}}
  %a, %b = tern.split_cols %y : tensor<?x96xf32> -> tensor<?x64xf32>, tensor<?x16xf32>
  return
}

// -----

func.func @split_cols_tokens(%y: tensor<4x96xf32>) {
  // expected-error @+1 {{output 1 is 'tensor<3x32xf32>'; expected [tokens, static width] with the input's tokens}}
  %a, %b = tern.split_cols %y : tensor<4x96xf32> -> tensor<4x64xf32>, tensor<3x32xf32>
  return
}

// -----

func.func @kernel_family(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{unknown kernel family 'fast'; expected mad_i2, lut_tl1, lut_tl2, decoder or generic}}
  %a = tern.relu2 %x {tern.kernel = #tern.kernel<"fast", "x", {}>} : tensor<?x8xf32>
  return
}

// -----

func.func @kernel_variant(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{the kernel variant must not be empty}}
  %a = tern.relu2 %x {tern.kernel = #tern.kernel<"generic", "", {}>} : tensor<?x8xf32>
  return
}

// -----

func.func @weight_encoding() {
  // expected-error @+1 {{weight 'h': the only tensor encodings are #tern.layout<q8_0, ...> and #tern.layout<q6_k, ...> on a 2-D float weight (a quantized head), found 'tensor<64x32xf32, #tern.layout<i2, tile_n = 16, tile_k = 16>>'}}
  %w = tern.weight "h" : tensor<64x32xf32, #tern.layout<i2, tile_n = 16, tile_k = 16>>
  return
}

// -----

func.func @weight_encoding_int() {
  // expected-error @+1 {{weight 'h': the only tensor encodings are #tern.layout<q8_0, ...> and #tern.layout<q6_k, ...> on a 2-D float weight (a quantized head), found 'tensor<64x32xi8, #tern.layout<q8_0, tile_n = 16, tile_k = 32>>'}}
  %w = tern.weight "h" : tensor<64x32xi8, #tern.layout<q8_0, tile_n = 16, tile_k = 32>>
  return
}

// -----

func.func @q8_0_tiles() {
  // expected-error @+1 {{a q8_0 layout has tile_n = 16 and tile_k = 32, found tile_n = 16, tile_k = 64}}
  %w = tern.weight "h" : tensor<64x64xf32, #tern.layout<q8_0, tile_n = 16, tile_k = 64>>
  return
}

// -----

func.func @q6_k_tiles() {
  // expected-error @+1 {{a q6_k layout has tile_n = 16 and tile_k = 256, found tile_n = 16, tile_k = 32}}
  %w = tern.weight "h" : tensor<64x64xf32, #tern.layout<q6_k, tile_n = 16, tile_k = 32>>
  return
}
