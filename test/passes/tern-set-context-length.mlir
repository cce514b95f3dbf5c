// RUN: tern-opt %s --split-input-file --tern-set-context-length=length=4096 | FileCheck %s
// RUN: tern-opt %s --split-input-file --tern-set-context-length="length=64 overwrite=true" | FileCheck %s --check-prefix=OVER
// RUN: not tern-opt %s --split-input-file --tern-set-context-length=length=0 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not tern-opt %s --split-input-file --tern-set-context-length=length=2048 2>&1 | FileCheck %s --check-prefix=CONFLICT

// An open context length is fixed everywhere: signature, block arguments, op results.
// CHECK-LABEL: func.func @open
// CHECK-SAME: (%[[Q:[a-z0-9_]+]]: tensor<?x64xf32>, %{{.+}}: tensor<?x32xf32>, %{{.+}}: tensor<?x32xf32>, %{{.+}}: tensor<?xi32>, %[[KV:[a-z0-9_]+]]: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 4096, f32>)
// CHECK-SAME: -> !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 4096, f32>
// CHECK: tern.attention {{.+}} : {{.+}}, !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = 4096, f32>, tensor<?xi32> -> tensor<?x64xf32>
// CHECK-NOT: context = ?
// OVER-LABEL: func.func @open
// OVER-SAME: context = 64
// ZERO: error: tern-set-context-length: length must be positive, found 0
func.func @open(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: tensor<?xi32>,
                %kv: !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = ?, f32>)
    -> !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = ?, f32> {
  %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p {causal}
      : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>,
        !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = ?, f32>, tensor<?xi32>
        -> tensor<?x64xf32>
  return %kv1 : !tern.kv_cache<layers = 2, kv_heads = 2, head_dim = 16, context = ?, f32>
}

// -----

// A static length is kept when it already matches, replaced with overwrite=true, and an error
// otherwise.
// CHECK-LABEL: func.func @fixed
// CHECK-SAME: context = 4096, f16
// OVER-LABEL: func.func @fixed
// OVER-SAME: context = 64, f16
// CONFLICT: error: KV cache already has context = 4096, not 2048; pass overwrite=true to replace it
func.func @fixed(%kv: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 8, context = 4096, f16>) {
  return
}
