// A named weight: tern-opt has no weight store to pack it from (tern-pack-weights.mlir).
func.func @named(%x: tensor<?x3xi8>, %s: tensor<?xf32>, %ws: tensor<1xf32>) -> tensor<?x2xf32> {
  %w = tern.weight "q" : !tern.ternary<2x3>
  %a = tern.bitlinear %x, %s, %w, %ws {tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {}>} : tensor<?x3xi8>, tensor<?xf32>, !tern.ternary<2x3>, tensor<1xf32> -> tensor<?x2xf32>
  return %a : tensor<?x2xf32>
}
