// A BitNet b1.58 2B4T-shaped model at toy sizes, written in the tern dialect as an importer
// produces it: one decoder layer, hidden 64, 4 query heads and 2 KV heads of 16, feed-forward 160,
// vocabulary 300, tied output head. The real model has the same structure at hidden 2560,
// 20/5 heads of 128, feed-forward 6912, 30 layers and 128256 tokens.
//
//   tern-opt examples/decoder-layer/bitnet_2b4t_tiny.mlir --tern-set-context-length=length=4096
//
// Weights are referenced by their checkpoint names; none of their values live in the IR.

!cache = !tern.kv_cache<layers = 1, kv_heads = 2, head_dim = 16, context = ?, f32>

func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %kv: !cache)
    -> (tensor<?x300xf32>, !cache) {
  %emb = tern.weight "model.embed_tokens.weight" : tensor<300x64xbf16>
  %h0 = tern.embedding %emb[%tokens] : tensor<300x64xbf16>, tensor<?xi32> -> tensor<?x64xf32>

  // --- self-attention: h1 = h0 + o_proj(attn_sub_norm(attention(rope(q), rope(k), v))) ---
  %g_in = tern.weight "model.layers.0.input_layernorm.weight" : tensor<64xbf16>
  %n0 = tern.rms_norm %h0, %g_in {eps = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
  %x0, %s0 = tern.act_quant %n0 : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  %wq = tern.weight "model.layers.0.self_attn.q_proj.weight" : !tern.ternary<64x64>
  %wq_s = tern.weight "model.layers.0.self_attn.q_proj.weight_scale" : tensor<1xbf16>
  %wk = tern.weight "model.layers.0.self_attn.k_proj.weight" : !tern.ternary<32x64>
  %wk_s = tern.weight "model.layers.0.self_attn.k_proj.weight_scale" : tensor<1xbf16>
  %wv = tern.weight "model.layers.0.self_attn.v_proj.weight" : !tern.ternary<32x64>
  %wv_s = tern.weight "model.layers.0.self_attn.v_proj.weight_scale" : tensor<1xbf16>
  %q = tern.bitlinear %x0, %s0, %wq, %wq_s : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<64x64>, tensor<1xbf16> -> tensor<?x64xf32>
  %k = tern.bitlinear %x0, %s0, %wk, %wk_s : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<32x64>, tensor<1xbf16> -> tensor<?x32xf32>
  %v = tern.bitlinear %x0, %s0, %wv, %wv_s : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<32x64>, tensor<1xbf16> -> tensor<?x32xf32>
  %qr = tern.rope %q, %positions {head_dim = 16 : i64, theta = 5.0e+05 : f32} : tensor<?x64xf32>, tensor<?xi32>
  %kr = tern.rope %k, %positions {head_dim = 16 : i64, theta = 5.0e+05 : f32} : tensor<?x32xf32>, tensor<?xi32>
  %attn, %kv1 = tern.attention %qr, %kr, %v, %kv[0] at %positions {causal}
      : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !cache, tensor<?xi32> -> tensor<?x64xf32>
  %g_sub = tern.weight "model.layers.0.self_attn.attn_sub_norm.weight" : tensor<64xbf16>
  %n1 = tern.rms_norm %attn, %g_sub {eps = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
  %x1, %s1 = tern.act_quant %n1 : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  %wo = tern.weight "model.layers.0.self_attn.o_proj.weight" : !tern.ternary<64x64>
  %wo_s = tern.weight "model.layers.0.self_attn.o_proj.weight_scale" : tensor<1xbf16>
  %o = tern.bitlinear %x1, %s1, %wo, %wo_s : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<64x64>, tensor<1xbf16> -> tensor<?x64xf32>
  %h1 = tern.add %h0, %o : tensor<?x64xf32>

  // --- feed-forward: h2 = h1 + down_proj(ffn_sub_norm(relu2(gate_proj(n)) * up_proj(n))) ---
  %g_post = tern.weight "model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  %n2 = tern.rms_norm %h1, %g_post {eps = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
  %x2, %s2 = tern.act_quant %n2 : tensor<?x64xf32> -> tensor<?x64xi8>, tensor<?xf32>
  %wg = tern.weight "model.layers.0.mlp.gate_proj.weight" : !tern.ternary<160x64>
  %wg_s = tern.weight "model.layers.0.mlp.gate_proj.weight_scale" : tensor<1xbf16>
  %wu = tern.weight "model.layers.0.mlp.up_proj.weight" : !tern.ternary<160x64>
  %wu_s = tern.weight "model.layers.0.mlp.up_proj.weight_scale" : tensor<1xbf16>
  %gate = tern.bitlinear %x2, %s2, %wg, %wg_s : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<160x64>, tensor<1xbf16> -> tensor<?x160xf32>
  %up = tern.bitlinear %x2, %s2, %wu, %wu_s : tensor<?x64xi8>, tensor<?xf32>, !tern.ternary<160x64>, tensor<1xbf16> -> tensor<?x160xf32>
  %act = tern.relu2 %gate : tensor<?x160xf32>
  %prod = tern.mul %act, %up : tensor<?x160xf32>
  %g_ffn = tern.weight "model.layers.0.mlp.ffn_sub_norm.weight" : tensor<160xbf16>
  %n3 = tern.rms_norm %prod, %g_ffn {eps = 1.0e-05 : f32} : tensor<?x160xf32>, tensor<160xbf16> -> tensor<?x160xf32>
  %x3, %s3 = tern.act_quant %n3 : tensor<?x160xf32> -> tensor<?x160xi8>, tensor<?xf32>
  %wd = tern.weight "model.layers.0.mlp.down_proj.weight" : !tern.ternary<64x160>
  %wd_s = tern.weight "model.layers.0.mlp.down_proj.weight_scale" : tensor<1xbf16>
  %down = tern.bitlinear %x3, %s3, %wd, %wd_s : tensor<?x160xi8>, tensor<?xf32>, !tern.ternary<64x160>, tensor<1xbf16> -> tensor<?x64xf32>
  %h2 = tern.add %h1, %down : tensor<?x64xf32>

  // --- final norm and the tied output head (the embedding table, transposed) ---
  %g_out = tern.weight "model.norm.weight" : tensor<64xbf16>
  %nf = tern.rms_norm %h2, %g_out {eps = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xbf16> -> tensor<?x64xf32>
  %logits = tern.matmul %nf, %emb : tensor<?x64xf32>, tensor<300x64xbf16> -> tensor<?x300xf32>
  return %logits, %kv1 : tensor<?x300xf32>, !cache
}
