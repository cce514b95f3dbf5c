func.func @head(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  %h = tern.weight "h" : tensor<32x64xbf16>
  %y = tern.matmul %x, %h : tensor<?x64xf32>, tensor<32x64xbf16> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}
