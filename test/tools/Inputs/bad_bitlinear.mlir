func.func @f(%xq: tensor<?x8xi8>, %xs: tensor<?xf32>, %ws: tensor<1xf32>) -> tensor<?x4xf32> {
  %w = tern.weight "w" : !tern.ternary<4x6>
  // K of the input (8) and of the weight (6) differ.
  %y = tern.bitlinear %xq, %xs, %w, %ws : tensor<?x8xi8>, tensor<?xf32>, !tern.ternary<4x6>, tensor<1xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
