// Inputs of tern-lower-to-runtime that it must refuse, each with an error naming what is
// missing (test/passes/tern-lower-to-runtime.mlir checks the messages).
module attributes {tern.target = "x86-64-avx2", tern.weights_size = 64 : i64, tern.weights_checksum = 1 : i64} {
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %cache: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) -> (tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) attributes {tern.arena_bytes = 1024 : i64, tern.max_tokens = 4 : i64} {
    %table = tern.weight "embed" : tensor<16x16xbf16>
    %x = tern.embedding %table[%tokens] {tern.arena = array<i64: 0>, tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>} : tensor<16x16xbf16>, tensor<?xi32> -> tensor<?x16xf32>
    return %x, %cache : tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>
  }
}

// -----

module attributes {tern.target = "x86-64-avx2", tern.weights_size = 64 : i64, tern.weights_checksum = 1 : i64} {
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %cache: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) -> (tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) attributes {tern.arena_bytes = 1024 : i64, tern.max_tokens = 4 : i64} {
    %table = tern.weight "embed" {tern.offset = 0 : i64} : tensor<16x16xbf16>
    %x = tern.embedding %table[%tokens] {tern.arena = array<i64: 0>} : tensor<16x16xbf16>, tensor<?xi32> -> tensor<?x16xf32>
    return %x, %cache : tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>
  }
}

// -----

module attributes {tern.target = "x86-64-avx2", tern.weights_size = 64 : i64, tern.weights_checksum = 1 : i64} {
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %cache: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) -> (tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) attributes {tern.arena_bytes = 1024 : i64, tern.max_tokens = 4 : i64} {
    %table = tern.weight "embed" {tern.offset = 0 : i64} : tensor<16x16xbf16>
    %x = tern.embedding %table[%tokens] {tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>} : tensor<16x16xbf16>, tensor<?xi32> -> tensor<?x16xf32>
    return %x, %cache : tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>
  }
}

// -----

module attributes {tern.target = "x86-64-avx2", tern.weights_size = 64 : i64, tern.weights_checksum = 1 : i64} {
  func.func @forward(%tokens: tensor<?xi32>) -> tensor<?xi32> {
    return %tokens : tensor<?xi32>
  }
}

// -----

module attributes {tern.target = "x86-64-avx2", tern.weights_size = 64 : i64, tern.weights_checksum = 1 : i64} {
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %cache: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) -> (tensor<?x32xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) attributes {tern.arena_bytes = 1024 : i64, tern.max_tokens = 4 : i64} {
    %table = tern.weight "embed" {tern.offset = 0 : i64} : tensor<16x16xbf16>
    %x = tern.embedding %table[%tokens] {tern.arena = array<i64: 0>, tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>} : tensor<16x16xbf16>, tensor<?xi32> -> tensor<?x16xf32>
    %q, %s = tern.act_quant %x {tern.arena = array<i64: 256, 512>} : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?xf32>
    %w = tern.weight "w:i2" {tern.offset = 0 : i64} : !tern.packed<32x16, #tern.layout<i2, tile_n = 16, tile_k = 16>>
    %ws = tern.weight "ws" {tern.offset = 0 : i64} : tensor<1xbf16>
    %y = tern.bitlinear %q, %s, %w, %ws {tern.arena = array<i64: 640>, tern.kernel = #tern.kernel<"mad_i2", "x86_64_avx2", {}>, tern.scratch = 768 : i64} : tensor<?x16xi8>, tensor<?xf32>, !tern.packed<32x16, #tern.layout<i2, tile_n = 16, tile_k = 16>>, tensor<1xbf16> -> tensor<?x32xf32>
    return %y, %cache : tensor<?x32xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>
  }
}

// -----

module attributes {tern.target = "x86-64-avx2"} {
  func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %cache: !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) -> (tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>) attributes {tern.arena_bytes = 1024 : i64, tern.max_tokens = 4 : i64} {
    %table = tern.weight "embed" {tern.offset = 0 : i64} : tensor<16x16xbf16>
    %x = tern.embedding %table[%tokens] {tern.arena = array<i64: 0>, tern.kernel = #tern.kernel<"decoder", "x86_64_avx2", {}>} : tensor<16x16xbf16>, tensor<?xi32> -> tensor<?x16xf32>
    return %x, %cache : tensor<?x16xf32>, !tern.kv_cache<layers = 1, kv_heads = 1, head_dim = 16, context = 32, f32>
  }
}
