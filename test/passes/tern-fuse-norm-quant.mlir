// RUN: tern-opt %s --split-input-file --tern-fuse-norm-quant | FileCheck %s

// RMSNorm then quantization: one tern.quant_input with the norm's weight, eps and the bits.
// CHECK-LABEL: func.func @norm_quant
// CHECK-SAME: (%[[H:[a-z0-9_]+]]: tensor<?x64xf32>, %[[G:[a-z0-9_]+]]: tensor<64xbf16>)
// CHECK-NOT: tern.rms_norm
// CHECK-NOT: tern.act_quant
// CHECK: %[[Q:.+]], %[[S:.+]] = tern.quant_input %[[H]] norm(%[[G]] : tensor<64xbf16>) {bits = 4 : i64, eps = 9.99999974E-6 : f32} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
// CHECK: return %[[Q]], %[[S]]
func.func @norm_quant(%h: tensor<?x64xf32>, %g: tensor<64xbf16>) -> (tensor<?x64xi8>, tensor<?xf32>) {
  %n = tern.rms_norm %h, %g {eps = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
  %q, %s = tern.act_quant %n {bits = 4 : i64} : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return %q, %s : tensor<?x64xi8>, tensor<?xf32>
}

// -----

// An ungated tern.quant_input without a norm absorbs the RMSNorm before it. (A gated one never
// does: its norm applies to the gated product, not to the gate.)
// CHECK-LABEL: func.func @into_quant_input
// CHECK: tern.quant_input %arg0 norm(%arg1 : tensor<64xbf16>) {eps = 9.99999974E-6 : f32}
// CHECK-NOT: tern.rms_norm
func.func @into_quant_input(%h: tensor<?x64xf32>, %g: tensor<64xbf16>) -> (tensor<?x64xi8>, tensor<?xf32>) {
  %n = tern.rms_norm %h, %g {eps = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
  %q, %s = tern.quant_input %n : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return %q, %s : tensor<?x64xi8>, tensor<?xf32>
}

// -----

// A norm whose result is also used elsewhere (the final norm feeding the head and something
// else) stays: fusing would compute it twice.
// CHECK-LABEL: func.func @shared_norm
// CHECK: tern.rms_norm
// CHECK: tern.act_quant
// CHECK-NOT: tern.quant_input
func.func @shared_norm(%h: tensor<?x64xf32>, %g: tensor<64xbf16>) -> (tensor<?x64xi8>, tensor<?x64xf32>) {
  %n = tern.rms_norm %h, %g {eps = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
  %q, %s = tern.act_quant %n : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  return %q, %n : tensor<?x64xi8>, tensor<?x64xf32>
}
