#!/usr/bin/python3
"""Writes an ONNX model of a generated Hugging Face BitNet checkpoint, with the checkpoint's own
ternary weights and scales, in one of the forms exporters write (docs/frontends.md):

  matmulnbits   onnxruntime-genai's builder: com.microsoft MatMulNBits (bits=2, 4 codes per byte,
                LSB first, codes w + zero point), SimplifiedLayerNormalization and
                SkipSimplifiedLayerNormalization, GroupQueryAttention (do_rotary=1, cos/sin caches)
                or RotaryEmbedding + GroupQueryAttention (--rotary=node), past_key_values.* inputs
                and present.* outputs. Weight scales must multiply (linear_class
                autobitlinear): MatMulNBits computes (code - zero_point) * scale.
  fake-quant    torch.onnx.export of transformers' BitNetForCausalLM: plain ai.onnx ops for the
                activation quantization, RMSNorm, RoPE, attention and the mask
                (fake_quant_form.py), weights {-s, 0, s} (--weights=scaled) or {-1, 0, 1} and
                a scale (--weights=unit).
  matmulinteger the same with int8 activations and weights: MatMulInteger.

Usage:
  make_onnx_model.py CHECKPOINT_DIR -o model.onnx [--form F] [--weights scaled|unit]
      [--block-size 32] [--zero-points none|packed|float] [--no-past] [--rotary=attention|node]
      [--external-data] [--untied-head]

The graph computes the checkpoint's model (test/reference/bitnet_reference.py) with the
numerics of its ops: ONNX Runtime runs it.
"""
import argparse
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "reference"))
import bitnet_reference  # noqa: E402
from fixture_graph import Graph  # noqa: E402
import fake_quant_form  # noqa: E402

PROJECTIONS = [("self_attn", "q_proj"), ("self_attn", "k_proj"), ("self_attn", "v_proj"),
               ("self_attn", "o_proj"), ("mlp", "gate_proj"), ("mlp", "up_proj"),
               ("mlp", "down_proj")]


def matmulnbits_weights(wt, scale, block, zero_points):
    """wt int [N, K] in {-1, 0, 1}, scale (a float, or [N, K / G] group-wise with G a multiple of
    block) -> (B uint8 [N, blocks, block / 4], scales f32 [N * blocks], zero points or None)."""
    n, k = wt.shape
    blocks = (k + block - 1) // block
    zp = 2 if zero_points in ("none", "float") else 1
    codes = np.full((n, blocks * block), zp, dtype=np.uint8)  # padding decodes to 0
    codes[:, :k] = (wt + zp).astype(np.uint8)
    c = codes.reshape(n, blocks, block // 4, 4)
    packed = (c[..., 0] | (c[..., 1] << 2) | (c[..., 2] << 4) | (c[..., 3] << 6)).astype(np.uint8)
    if isinstance(scale, np.ndarray):  # group-wise: each block takes its group's scale
        group = k // scale.shape[1]
        if group % block:
            sys.exit("make_onnx_model.py: scale groups of %d columns need a block size dividing "
                     "them, not %d" % (group, block))
        scales = np.repeat(scale.astype(np.float32), group // block, axis=1).reshape(-1)
    else:
        scales = np.full((n * blocks,), np.float32(scale), dtype=np.float32)
    if zero_points == "none":
        return packed, scales, None
    if zero_points == "float":
        return packed, scales, np.full((n * blocks,), 2.0, dtype=np.float32)
    # packed 2-bit zero points, 4 per byte, LSB first, each row padded to whole bytes
    per_row = (blocks + 3) // 4
    zps = np.zeros((n, per_row * 4), dtype=np.uint8)
    zps[:, :blocks] = zp
    z = zps.reshape(n, per_row, 4)
    return packed, scales, (z[..., 0] | (z[..., 1] << 2) | (z[..., 2] << 4) |
                            (z[..., 3] << 6)).astype(np.uint8).reshape(-1)


def build_matmulnbits(model, args):
    c = model.config
    g = Graph()
    hidden, heads, kv_heads, head_dim = model.hidden, model.heads, model.kv_heads, model.head_dim
    layers = c["num_hidden_layers"]
    eps = float(model.eps)
    past = not args.no_past

    g.decoder_io(c, kv_heads, head_dim, "attention_mask", past)

    # The attention mask's bookkeeping, as the builder writes it: seqlens_k = sum(mask) - 1 and
    # total_sequence_length = mask.shape[1], both int32.
    one = g.init("one_i64", np.array(1, dtype=np.int64))
    axes = g.init("axes_1", np.array([1], dtype=np.int64))
    s = g.node("ReduceSum", ["attention_mask", axes], name="/model/attn_mask_reformat/sum",
               keepdims=0)
    s = g.node("Sub", [s, one], name="/model/attn_mask_reformat/sub")
    seqlens = g.node("Cast", [s], name="/model/attn_mask_reformat/seqlens_k", to=TensorProto.INT32)
    shape = g.node("Shape", ["attention_mask"], name="/model/attn_mask_reformat/shape")
    total = g.node("Gather", [shape, one], name="/model/attn_mask_reformat/gather", axis=0)
    total = g.node("Cast", [total], name="/model/attn_mask_reformat/total_seq_len",
                   to=TensorProto.INT32)

    # cos/sin caches [max positions, head_dim / 2], as the builder computes them.
    max_pos = c["max_position_embeddings"]
    inv_freq = 1.0 / (model.theta ** (np.arange(0, head_dim, 2, dtype=np.int64).astype(np.float32)
                                      / head_dim))
    t = np.arange(max_pos, dtype=np.float32)
    freqs = np.outer(t, inv_freq.astype(np.float32))
    cos = g.init("cos_cache", np.cos(freqs).astype(np.float32))
    sin = g.init("sin_cache", np.sin(freqs).astype(np.float32))
    if args.rotary == "node":
        g.inputs.append(helper.make_tensor_value_info("position_ids", TensorProto.INT64,
                                                      ["batch_size", "sequence_length"]))

    def dense(name):
        return model.dense(name).astype(np.float32)

    def linear(x, layer, group, proj):
        prefix = "model.layers.%d.%s.%s" % (layer, group, proj)
        wt, scale, multiply = model.linear_weights(prefix)
        if not multiply:
            sys.exit("make_onnx_model.py: %s: MatMulNBits needs a scale that multiplies "
                     "(linear_class autobitlinear)" % prefix)
        n, k = wt.shape
        b, sc, zp = matmulnbits_weights(wt.astype(np.int64), scale, args.block_size,
                                        args.zero_points)
        name = "/model/layers.%d/%s/%s/MatMul" % (layer, "attn" if group == "self_attn" else
                                                 "mlp", proj)
        ins = [g.init(prefix + ".MatMul.weight_Q2G%d" % args.block_size, b),
               g.init(prefix + ".MatMul.weight_scale", sc)]
        if zp is not None:
            ins.append(g.init(prefix + ".MatMul.weight_zp", zp))
        return g.node("MatMulNBits", [x] + ins, domain="com.microsoft", name=name + "NBits",
                      K=k, N=n, bits=2, block_size=args.block_size, accuracy_level=4)

    def norm(x, weight, name):
        return g.node("SimplifiedLayerNormalization", [x, g.init(weight, dense(weight))],
                      name=name, axis=-1, epsilon=eps, stash_type=1)

    def skip_norm(x, skip, weight, name):
        out = g.node("SkipSimplifiedLayerNormalization", [x, skip, g.init(weight, dense(weight))],
                     outputs=4, domain="com.microsoft", name=name, epsilon=eps)
        return out[0], out[3]

    embed = g.init("model.embed_tokens.weight", dense("model.embed_tokens.weight"))
    x = g.node("Gather", [embed, "input_ids"], name="/model/embed_tokens/Gather", axis=0)
    residual = x
    n = norm(x, "model.layers.0.input_layernorm.weight", "/model/layers.0/input_layernorm/LayerNorm")
    for i in range(layers):
        p = "model.layers.%d." % i
        q = linear(n, i, "self_attn", "q_proj")
        k = linear(n, i, "self_attn", "k_proj")
        v = linear(n, i, "self_attn", "v_proj")
        name = "/model/layers.%d/attn/GroupQueryAttention" % i
        do_rotary = 1
        if args.rotary == "node":
            do_rotary = 0
            q, k = (g.node("RotaryEmbedding", [x_, "position_ids", cos, sin], domain="com.microsoft",
                           name="/model/layers.%d/attn/%s_rotary/RotaryEmbedding" % (i, w),
                           interleaved=0, num_heads=h)
                    for x_, w, h in ((q, "q", heads), (k, "k", kv_heads)))
        past_k = "past_key_values.%d.key" % i if past else ""
        past_v = "past_key_values.%d.value" % i if past else ""
        outs = ["%s/output_0" % name, "present.%d.key" % i, "present.%d.value" % i]
        attn = g.node("GroupQueryAttention",
                      [q, k, v, past_k, past_v, seqlens, total] +
                      ([cos, sin] if do_rotary else []),
                      outputs=outs, domain="com.microsoft", name=name, num_heads=heads,
                      kv_num_heads=kv_heads, do_rotary=do_rotary, rotary_interleaved=0,
                      scale=float(1.0 / math.sqrt(head_dim)), local_window_size=-1)[0]
        if past:
            for kv in ("key", "value"):
                g.outputs.append(helper.make_tensor_value_info(
                    "present.%d.%s" % (i, kv), TensorProto.FLOAT,
                    ["batch_size", kv_heads, "total_sequence_length", head_dim]))
        if model.sub_norms:
            attn = norm(attn, p + model.sub_norms[0] + ".weight",
                        "/model/layers.%d/attn/sub_norm/LayerNorm" % i)
        o = linear(attn, i, "self_attn", "o_proj")
        n, residual = skip_norm(o, residual, p + "post_attention_layernorm.weight",
                                "/model/layers.%d/post_attention_layernorm/SkipLayerNorm" % i)
        gate = linear(n, i, "mlp", "gate_proj")
        up = linear(n, i, "mlp", "up_proj")
        if model.act == "relu2":
            r = g.node("Relu", [gate], name="/model/layers.%d/mlp/act_fn/Relu" % i)
            act = g.node("Mul", [r, r], name="/model/layers.%d/mlp/act_fn/Square" % i)
        else:
            sig = g.node("Sigmoid", [gate], name="/model/layers.%d/mlp/act_fn/Sigmoid" % i)
            act = g.node("Mul", [gate, sig], name="/model/layers.%d/mlp/act_fn/Mul" % i)
        m = g.node("Mul", [act, up], name="/model/layers.%d/mlp/Mul" % i)
        if model.sub_norms:
            m = norm(m, p + model.sub_norms[1] + ".weight",
                     "/model/layers.%d/mlp/sub_norm/LayerNorm" % i)
        d = linear(m, i, "mlp", "down_proj")
        last = i + 1 == layers
        weight = "model.norm.weight" if last else "model.layers.%d.input_layernorm.weight" % (i + 1)
        n, residual = skip_norm(d, residual, weight,
                                "/model/final_norm/SkipLayerNorm" if last else
                                "/model/layers.%d/input_layernorm/SkipLayerNorm" % (i + 1))
    if "lm_head.weight" in model.tensors:
        head = g.init("lm_head.MatMul.weight", dense("lm_head.weight").T)
    elif args.untied_head:  # a tied head written as its own (transposed) copy of the table
        head = g.init("lm_head.MatMul.weight", dense("model.embed_tokens.weight").T)
    else:
        head = g.node("Transpose", [embed], name="/lm_head/Transpose", perm=[1, 0])
    g.node("MatMul", [n, head], outputs=["logits"], name="/lm_head/MatMul")

    graph = helper.make_graph(g.nodes, "bitnet", g.inputs, g.outputs, g.inits)
    return helper.make_model(graph, producer_name="tern make_onnx_model.py",
                             opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid("com.microsoft", 1)])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--form", default="matmulnbits",
                   choices=["matmulnbits", "fake-quant", "matmulinteger"])
    p.add_argument("--weights", default="scaled", choices=["scaled", "unit"],
                   help="fake-quant: weights {-s, 0, s} (scaled) or {-1, 0, 1} and a scale")
    p.add_argument("--float-projection", action="append", default=[],
                   help="fake-quant: LAYER.NAME (e.g. 0.down_proj) as a float MatMul of "
                        "unquantized activations")
    p.add_argument("--mask", default="greater", choices=["greater", "triu", "triu-only"],
                   help="fake-quant: how the causal mask is built")
    p.add_argument("--block-size", type=int, default=32)
    p.add_argument("--zero-points", default="none", choices=["none", "packed", "float"])
    p.add_argument("--no-past", action="store_true")
    p.add_argument("--rotary", default="attention", choices=["attention", "node"])
    p.add_argument("--external-data", action="store_true",
                   help="tensors of 1 KB or more in <output>.data beside the model")
    p.add_argument("--untied-head", action="store_true")
    p.add_argument("--static-shapes", metavar="S,T",
                   help="static dims: batch 1, S tokens per call, T positions in all")
    args = p.parse_args()
    model = bitnet_reference.Model(args.checkpoint)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    if args.form == "matmulnbits":
        onnx_model = build_matmulnbits(model, args)
    else:
        onnx_model = fake_quant_form.build(model, args)
    onnx_model.ir_version = 8
    if args.static_shapes:  # what an export with fixed shapes writes
        s, t = (int(v) for v in args.static_shapes.split(","))
        fixed = {"batch_size": 1, "sequence_length": s, "total_sequence_length": t,
                 "past_sequence_length": t - s}
        graph = onnx_model.graph
        for v in list(graph.input) + list(graph.output):
            for dim in v.type.tensor_type.shape.dim:
                if dim.dim_param in fixed:
                    dim.dim_value = fixed[dim.dim_param]
    if args.external_data:
        onnx.save_model(onnx_model, args.output, save_as_external_data=True,
                        all_tensors_to_one_file=True,
                        location=os.path.basename(args.output) + ".data", size_threshold=1024)
    else:
        onnx.save_model(onnx_model, args.output)
    print("wrote %s (%s form, %d nodes, %d initializers)" % (
        args.output, args.form, len(onnx_model.graph.node), len(onnx_model.graph.initializer)))


if __name__ == "__main__":
    main()
