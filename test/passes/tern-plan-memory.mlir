// RUN: tern-opt %s --split-input-file --tern-plan-memory=max-tokens=4 | FileCheck %s
// OPEN: error: tern-plan-memory needs a static KV-cache context; run tern-set-context-length (ternc --context=N) first
// RUN: tern-opt %s --split-input-file --tern-plan-memory="max-tokens=4 report=true" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT
// RUN: not tern-opt %S/Inputs/plan-open-context.mlir --tern-plan-memory 2>&1 | FileCheck %s --check-prefix=OPEN
// RUN: not tern-opt %s --split-input-file --tern-plan-memory="max-tokens=4 alignment=48" 2>&1 | FileCheck %s --check-prefix=ALIGN

// A chain: every value is 4 tokens x 64 x 4 bytes = 1024 bytes. %c reuses %a's bytes (%a died
// at %b); the returned %d stays live to the end.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: attributes {tern.arena_bytes = 2048 : i64, tern.kv_cache_bytes = 0 : i64, tern.max_tokens = 4 : i64}
// CHECK: tern.relu2 %arg0 {tern.arena = array<i64: 0>}
// CHECK: tern.relu2 %{{.+}} {tern.arena = array<i64: 1024>}
// CHECK: tern.relu2 %{{.+}} {tern.arena = array<i64: 0>}
// CHECK: tern.relu2 %{{.+}} {tern.arena = array<i64: 1024>}
// REPORT: remark: activation arena 2048 bytes for 4 tokens (4096 bytes without reuse), KV cache 0 bytes for 0 positions
func.func @chain(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %a = tern.relu2 %x : tensor<?x64xf32>
  %b = tern.relu2 %a : tensor<?x64xf32>
  %c = tern.relu2 %b : tensor<?x64xf32>
  %d = tern.relu2 %c : tensor<?x64xf32>
  return %d : tensor<?x64xf32>
}

// -----

// int8 rows padded to 16 bytes (20 -> 32: 4 x 32 = 128 bytes), per-token scales 4 x 4 = 16
// bytes rounded to 64; the bitlinear's int32 scratch is 4 x round_up(8, 64) x 4 = 1024 bytes,
// live only during the op, so the result (128 bytes) goes after it: 1344 bytes in all. The
// weights (tern.weight) are not in the arena. The KV cache of context 16 holds a whole block of
// 64 positions (the runtime's layout): 2 x 1 layer x 2 heads x 64 x 8 x 4 bytes = 8192.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: tern.arena_bytes = 1344 : i64, tern.kv_cache_bytes = 8192 : i64
// CHECK: tern.act_quant %arg0 {tern.arena = array<i64: 0, 128>}
// CHECK: tern.weight "w" : !tern.ternary<8x20>
// CHECK: tern.bitlinear {{.+}} {tern.arena = array<i64: 1216>, tern.scratch = 192 : i64}
func.func @linear(%x: tensor<?x20xf32>, %ws: tensor<1xf32>, %kv: !tern.kv_cache<layers = 1, kv_heads = 2, head_dim = 8, context = 16, f32>) -> tensor<?x8xf32> {
  %q, %s = tern.act_quant %x : tensor<?x20xf32> -> tensor<?x20xi8>, tensor<?xf32>
  %w = tern.weight "w" : !tern.ternary<8x20>
  %y = tern.bitlinear %q, %s, %w, %ws : tensor<?x20xi8>, tensor<?xf32>, !tern.ternary<8x20>, tensor<1xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// ALIGN: error: tern-plan-memory: alignment must be a power of two, found 48
