// RUN: tern-opt %s --split-input-file --tern-fuse-projections | FileCheck %s

// Q/K/V on one quantized input: one bitlinear over the stacked weight, scales stacked into a
// per-row scale, the outputs split back in order.
// CHECK-LABEL: func.func @qkv
// CHECK-DAG: %[[WQ:.+]] = tern.weight "q" : !tern.ternary<64x64>
// CHECK-DAG: %[[WK:.+]] = tern.weight "k" : !tern.ternary<32x64>
// CHECK-DAG: %[[WV:.+]] = tern.weight "v" : !tern.ternary<32x64>
// CHECK-DAG: %[[SQ:.+]] = tern.weight "q_scale" : tensor<1xbf16>
// CHECK: %[[W:.+]] = tern.concat_rows %[[WQ]], %[[WK]], %[[WV]] {rows = array<i64: 64, 32, 32>} : !tern.ternary<64x64>, !tern.ternary<32x64>, !tern.ternary<32x64> -> !tern.ternary<128x64>
// CHECK: %[[S:.+]] = tern.concat_rows %[[SQ]], %{{.+}}, %{{.+}} {rows = array<i64: 64, 32, 32>} : tensor<1xbf16>, tensor<1xbf16>, tensor<1xbf16> -> tensor<128xbf16>
// CHECK: %[[Y:.+]] = tern.bitlinear %arg0, %arg1, %[[W]], %[[S]] : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<128x64>, tensor<128xbf16> -> tensor<?x128xf32>
// CHECK: %[[P:.+]]:3 = tern.split_cols %[[Y]] : tensor<?x128xf32> -> tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
// CHECK: return %[[P]]#0, %[[P]]#1, %[[P]]#2
// CHECK-NOT: tern.bitlinear
func.func @qkv(%x: tensor<?x64xi8>, %s: tensor<?xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %wq = tern.weight "q" : !tern.ternary<64x64>
  %sq = tern.weight "q_scale" : tensor<1xbf16>
  %q = tern.bitlinear %x, %s, %wq, %sq : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<64x64>, tensor<1xbf16> -> tensor<?x64xf32>
  %wk = tern.weight "k" : !tern.ternary<32x64>
  %sk = tern.weight "k_scale" : tensor<1xbf16>
  %k = tern.bitlinear %x, %s, %wk, %sk : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<32x64>, tensor<1xbf16> -> tensor<?x32xf32>
  %wv = tern.weight "v" : !tern.ternary<32x64>
  %sv = tern.weight "v_scale" : tensor<1xbf16>
  %v = tern.bitlinear %x, %s, %wv, %sv : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<32x64>, tensor<1xbf16> -> tensor<?x32xf32>
  return %q, %k, %v : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// The divide convention and per-row scales fuse too; the convention is kept.
// CHECK-LABEL: func.func @divide_per_row
// CHECK: tern.concat_rows %{{.+}}, %{{.+}} {rows = array<i64: 16, 8>} : tensor<16xf32>, tensor<1xf32> -> tensor<24xf32>
// CHECK: tern.bitlinear {{.+}} {scale_mode = #tern.scale_mode<divide>}
func.func @divide_per_row(%x: tensor<?x32xi8>, %s: tensor<?xf32>, %s1: tensor<16xf32>, %s2: tensor<1xf32>) -> (tensor<?x16xf32>, tensor<?x8xf32>) {
  %w1 = tern.weight "a" : !tern.ternary<16x32>
  %w2 = tern.weight "b" : !tern.ternary<8x32>
  %a = tern.bitlinear %x, %s, %w1, %s1 {scale_mode = #tern.scale_mode<divide>} : tensor<?x32xi8>, tensor<?xf32>, !tern.ternary<16x32>, tensor<16xf32> -> tensor<?x16xf32>
  %b = tern.bitlinear %x, %s, %w2, %s2 {scale_mode = #tern.scale_mode<divide>} : tensor<?x32xi8>, tensor<?xf32>, !tern.ternary<8x32>, tensor<1xf32> -> tensor<?x8xf32>
  return %a, %b : tensor<?x16xf32>, tensor<?x8xf32>
}

// -----

// Not fused: different inputs, different conventions, packed weights, and a projection whose
// result is used before the next projection.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: tern.concat_rows
// CHECK-NOT: tern.split_cols
// CHECK-COUNT-6: tern.bitlinear
func.func @left_alone(%x: tensor<?x32xi8>, %y: tensor<?x32xi8>, %s: tensor<?xf32>, %ws: tensor<1xf32>,
                      %p: !tern.packed<8x32, #tern.layout<i2, tile_n = 16, tile_k = 4>>) -> tensor<?x8xf32> {
  %w = tern.weight "w" : !tern.ternary<8x32>
  %a = tern.bitlinear %x, %s, %w, %ws : tensor<?x32xi8>, tensor<?xf32>, !tern.ternary<8x32>, tensor<1xf32> -> tensor<?x8xf32>
  %b = tern.bitlinear %y, %s, %w, %ws : tensor<?x32xi8>, tensor<?xf32>, !tern.ternary<8x32>, tensor<1xf32> -> tensor<?x8xf32>
  %c = tern.bitlinear %x, %s, %w, %ws {scale_mode = #tern.scale_mode<divide>} : tensor<?x32xi8>, tensor<?xf32>, !tern.ternary<8x32>, tensor<1xf32> -> tensor<?x8xf32>
  %d = tern.bitlinear %y, %s, %p, %ws : tensor<?x32xi8>, tensor<?xf32>, !tern.packed<8x32, #tern.layout<i2, tile_n = 16, tile_k = 4>>, tensor<1xf32> -> tensor<?x8xf32>
  %ab = tern.add %a, %b : tensor<?x8xf32>
  %e = tern.bitlinear %y, %s, %w, %ws {scale_mode = #tern.scale_mode<divide>} : tensor<?x32xi8>, tensor<?xf32>, !tern.ternary<8x32>, tensor<1xf32> -> tensor<?x8xf32>
  %f = tern.add %ab, %e : tensor<?x8xf32>
  %abc = tern.add %f, %c : tensor<?x8xf32>
  %g = tern.bitlinear %y, %s, %p, %ws : tensor<?x32xi8>, tensor<?xf32>, !tern.packed<8x32, #tern.layout<i2, tile_n = 16, tile_k = 4>>, tensor<1xf32> -> tensor<?x8xf32>
  %all = tern.add %abc, %d : tensor<?x8xf32>
  %all2 = tern.add %all, %g : tensor<?x8xf32>
  return %all2 : tensor<?x8xf32>
}

// -----

// The first result feeds an op before the second projection: fusing would have to move that
// op, so the pass leaves the pair alone.
// CHECK-LABEL: func.func @used_before_the_last
// CHECK-NOT: tern.concat_rows
// CHECK-COUNT-2: tern.bitlinear
func.func @used_before_the_last(%x: tensor<?x32xi8>, %s: tensor<?xf32>, %ws: tensor<1xf32>) -> tensor<?x8xf32> {
  %w = tern.weight "w" : !tern.ternary<8x32>
  %a = tern.bitlinear %x, %s, %w, %ws : tensor<?x32xi8>, tensor<?xf32>, !tern.ternary<8x32>, tensor<1xf32> -> tensor<?x8xf32>
  %r = tern.relu2 %a : tensor<?x8xf32>
  %b = tern.bitlinear %x, %s, %w, %ws : tensor<?x32xi8>, tensor<?xf32>, !tern.ternary<8x32>, tensor<1xf32> -> tensor<?x8xf32>
  %sum = tern.add %r, %b : tensor<?x8xf32>
  return %sum : tensor<?x8xf32>
}
