// RUN: tern-opt %s --split-input-file --tern-pack-weights | FileCheck %s
// RUN: not tern-opt %S/Inputs/pack-named-weight.mlir --tern-pack-weights 2>&1 | FileCheck %s --check-prefix=NOSTORE
// NOSTORE: error: 'tern.weight' op tern-pack-weights has no weight store to read 'q' from; run it from ternc, which loads the checkpoint
// (tern-opt has no weight store: inline constants pack, named weights are an error; packing a
// model's weights is tested end to end through ternc and test/e2e.)

// Each family's layout: i2 16x16 tiles (N padded to 64, K to 16: 64 x 16 / 4 = 256 bytes), tl1
// 64-row blocks of 4 columns (64 x 4 / 4 = 64 bytes), tl2 64-row blocks of 24 columns plus one
// int32 per padded row (320 + 256 = 576 bytes). The same constant packs once per layout, and
// the logical constant is gone.
// CHECK-LABEL: func.func @layouts
// CHECK-DAG: tern.weight "constant.{{[0-9A-F]+}}:i2" {tern.bytes = 256 : i64, tern.checksum = {{-?[0-9]+}} : i64} : !tern.packed<2x3, #tern.layout<i2, tile_n = 16, tile_k = 16>>
// CHECK-DAG: tern.weight "constant.{{[0-9A-F]+}}:tl1" {tern.bytes = 64 : i64, tern.checksum = {{-?[0-9]+}} : i64} : !tern.packed<2x3, #tern.layout<tl1, tile_n = 64, tile_k = 4>>
// CHECK-DAG: tern.weight "constant.{{[0-9A-F]+}}:tl2" {tern.bytes = 576 : i64, tern.checksum = {{-?[0-9]+}} : i64} : !tern.packed<2x3, #tern.layout<tl2, tile_n = 64, tile_k = 24>>
// CHECK-NOT: tern.ternary_constant
func.func @layouts(%x: tensor<?x3xi8>, %s: tensor<?xf32>, %ws: tensor<1xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = tern.ternary_constant dense<[[1, 0, -1], [0, 1, 1]]> : tensor<2x3xi8> -> !tern.ternary<2x3>
  %a = tern.bitlinear %x, %s, %w, %ws {tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {}>} : tensor<?x3xi8>, tensor<?xf32>, !tern.ternary<2x3>, tensor<1xf32> -> tensor<?x2xf32>
  %b = tern.bitlinear %x, %s, %w, %ws {tern.kernel = #tern.kernel<"lut_tl1", "x86_64_avx2", {}>} : tensor<?x3xi8>, tensor<?xf32>, !tern.ternary<2x3>, tensor<1xf32> -> tensor<?x2xf32>
  %c = tern.bitlinear %x, %s, %w, %ws {tern.kernel = #tern.kernel<"lut_tl2", "x86_64_avx2", {}>} : tensor<?x3xi8>, tensor<?xf32>, !tern.ternary<2x3>, tensor<1xf32> -> tensor<?x2xf32>
  return %a, %b, %c : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

// Without a selected kernel (or with a family that reads no packed weight) nothing changes.
// CHECK-LABEL: func.func @unselected
// CHECK: tern.ternary_constant
// CHECK: tern.bitlinear {{.+}} !tern.ternary<2x3>
func.func @unselected(%x: tensor<?x3xi8>, %s: tensor<?xf32>, %ws: tensor<1xf32>) -> tensor<?x2xf32> {
  %w = tern.ternary_constant dense<[[1, 0, -1], [0, 1, 1]]> : tensor<2x3xi8> -> !tern.ternary<2x3>
  %a = tern.bitlinear %x, %s, %w, %ws : tensor<?x3xi8>, tensor<?xf32>, !tern.ternary<2x3>, tensor<1xf32> -> tensor<?x2xf32>
  return %a : tensor<?x2xf32>
}
