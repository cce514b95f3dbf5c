// RUN: tern-opt %s --split-input-file --tern-fuse-glu-quant | FileCheck %s
// RUN: tern-opt %s --split-input-file --tern-fuse-norm-quant --tern-fuse-glu-quant | FileCheck %s --check-prefix=ORDER

// 2B4T's feed-forward: relu2(gate) * up, ffn_sub_norm, quantization -> one tern.quant_input.
// CHECK-LABEL: func.func @relu2_norm
// CHECK-SAME: (%[[GATE:[a-z0-9_]+]]: tensor<?x160xf32>, %[[UP:[a-z0-9_]+]]: tensor<?x160xf32>, %[[G:[a-z0-9_]+]]: tensor<160xbf16>)
// CHECK-NOT: tern.relu2
// CHECK-NOT: tern.mul
// CHECK: tern.quant_input %[[GATE]] up(%[[UP]] : tensor<?x160xf32>) norm(%[[G]] : tensor<160xbf16>) {eps = 9.99999974E-6 : f32, glu = #tern.glu<relu2>} : tensor<?x160xf32> -> tensor<?x160xi8>, tensor<?xf32>
// The other pass order gives the same op.
// ORDER-LABEL: func.func @relu2_norm
// ORDER: tern.quant_input %arg0 up(%arg1 : tensor<?x160xf32>) norm(%arg2 : tensor<160xbf16>) {eps = 9.99999974E-6 : f32, glu = #tern.glu<relu2>}
func.func @relu2_norm(%gate: tensor<?x160xf32>, %up: tensor<?x160xf32>, %g: tensor<160xbf16>) -> (tensor<?x160xi8>, tensor<?xf32>) {
  %a = tern.relu2 %gate : tensor<?x160xf32>
  %m = tern.mul %a, %up : tensor<?x160xf32>
  %n = tern.rms_norm %m, %g {eps = 1.0e-05 : f32} : tensor<?x160xf32>, tensor<160xbf16> -> tensor<?x160xf32>
  %q, %s = tern.act_quant %n : tensor<?x160xf32> -> tensor<?x160xi8>, tensor<?xf32>
  return %q, %s : tensor<?x160xi8>, tensor<?xf32>
}

// -----

// Llama's feed-forward: up * silu(gate) (either operand order), no sub-norm.
// CHECK-LABEL: func.func @silu
// CHECK: tern.quant_input %arg0 up(%arg1 : tensor<?x96xf32>) {glu = #tern.glu<silu>} : tensor<?x96xf32> -> tensor<?x96xi8>, tensor<?xf32>
// CHECK-NOT: tern.silu
func.func @silu(%gate: tensor<?x96xf32>, %up: tensor<?x96xf32>) -> (tensor<?x96xi8>, tensor<?xf32>) {
  %a = tern.silu %gate : tensor<?x96xf32>
  %m = tern.mul %up, %a : tensor<?x96xf32>
  %q, %s = tern.act_quant %m : tensor<?x96xf32> -> tensor<?x96xi8>, tensor<?xf32>
  return %q, %s : tensor<?x96xi8>, tensor<?xf32>
}

// -----

// The activation has another user: nothing is fused (it would be computed twice).
// CHECK-LABEL: func.func @shared_activation
// CHECK: tern.relu2
// CHECK: tern.mul
// CHECK: tern.act_quant
// CHECK-NOT: tern.quant_input
func.func @shared_activation(%gate: tensor<?x96xf32>, %up: tensor<?x96xf32>) -> (tensor<?x96xi8>, tensor<?x96xf32>) {
  %a = tern.relu2 %gate : tensor<?x96xf32>
  %m = tern.mul %a, %up : tensor<?x96xf32>
  %q, %s = tern.act_quant %m : tensor<?x96xf32> -> tensor<?x96xi8>, tensor<?xf32>
  return %q, %a : tensor<?x96xi8>, tensor<?x96xf32>
}
