"""The fake-quant and integer forms of make_onnx_model.py: what torch.onnx.export (opset 17)
writes for transformers' BitNetForCausalLM, op by op.

  RMSNorm     Pow(x, 2) -> ReduceMean -> Add eps -> Sqrt -> Div(1, .) -> Mul x -> Mul weight
  act quant   Abs -> ReduceMax -> Clip(min 1e-5) -> Div(127, .) = s; Mul(x, s) -> Round ->
              Clip(-128, 127) = q
  projection  --weights=scaled: MatMul(Div(q, s), W) with W = ternary * weight_scale, [K, N]
              --weights=unit:   MatMul(q, W) with W in {-1, 0, 1}, then Div(., Mul(s, ws))
                                (bitlinear) or Mul(Div(., s), ws) (autobitlinear)
              --form=matmulinteger: MatMulInteger(Cast(q, int8), W int8), Cast to float, then
                                as --weights=unit
  RoPE        inv_freq initializer, MatMul with the positions, Concat(freqs, freqs), Cos, Sin;
              rotate_half as Slice/Neg/Concat; x * cos + rotate_half(x) * sin
  attention   Reshape/Transpose to heads, past_key_values Concat (present.* outputs), GQA as
              Unsqueeze/Expand/Reshape, MatMul(q, k^T) * 1/sqrt(d), + a causal mask built from
              Range/Greater/Where over the positions (--mask=greater), as transformers' Trilu
              times the comparison (--mask=triu), or a Trilu alone (--mask=triu-only, with
              --no-past), Softmax, MatMul v, Transpose/Reshape back
  relu^2      Relu then Pow(., 2); SiLU: x * Sigmoid(x)
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

from fixture_graph import Graph

INT64_MAX = np.iinfo(np.int64).max


def build(model, args):
    c = model.config
    g = Graph()
    hidden, heads, kv_heads, d = model.hidden, model.heads, model.kv_heads, model.head_dim
    layers = c["num_hidden_layers"]
    past = not args.no_past
    integer = args.form == "matmulinteger"
    unit = args.weights == "unit" or integer
    qmax = float(2 ** (c.get("input_bits", 8) - 1) - 1)

    g.decoder_io(c, kv_heads, d, "position_ids", past)
    counter = [0]

    def anon(array):  # torch names folded constants onnx::MatMul_<n>
        counter[0] += 1
        return g.init("onnx::MatMul_%d" % (1000 + counter[0]), array)

    def dense(name):
        return g.init(name, model.dense(name).astype(np.float32))

    def axes(*values):
        return g.const(list(values), np.int64)

    def rms(x, weight):
        p = g.node("Pow", [x, g.const(2.0)])
        m = g.node("ReduceMean", [p], axes=[-1], keepdims=1)
        e = g.node("Add", [m, g.const(float(np.float32(model.eps)))])
        r = g.node("Div", [g.const(1.0), g.node("Sqrt", [e])])
        return g.node("Mul", [dense(weight), g.node("Mul", [x, r])])

    def quant(x):
        mx = g.node("ReduceMax", [g.node("Abs", [x])], axes=[-1], keepdims=1)
        s = g.node("Div", [g.const(qmax), g.node("Clip", [mx, g.const(1e-5), ""])])
        q = g.node("Clip", [g.node("Round", [g.node("Mul", [x, s])]), g.const(-qmax - 1),
                            g.const(qmax)])
        return q, s

    def linear(x, layer, group, proj):
        prefix = "model.layers.%d.%s.%s" % (layer, group, proj)
        wt, scale, multiply = model.linear_weights(prefix)
        if "%d.%s" % (layer, proj) in args.float_projection:
            # An unquantized float layer: MatMul(x, W) with W = ternary * scale, no act quant.
            w = wt.astype(np.float32) * np.float32(scale if multiply else 1.0 / scale)
            return g.node("MatMul", [x, anon(w.T)])
        q, s = quant(x)
        if not unit:
            if not multiply:
                sys.exit("make_onnx_model.py: %s: --weights=scaled folds a scale that "
                         "multiplies (autobitlinear) into the weight" % prefix)
            if isinstance(scale, np.ndarray):  # group-wise: each column group its own scale
                per_col = np.repeat(scale, wt.shape[1] // scale.shape[1], axis=1)
                w = wt.astype(np.float32) * per_col.astype(np.float32)
            else:
                w = wt.astype(np.float32) * np.float32(scale)
            return g.node("MatMul", [g.node("Div", [q, s]), anon(w.T)])
        if isinstance(scale, np.ndarray):
            sys.exit("make_onnx_model.py: %s: --weights=unit takes one scale per tensor" % prefix)
        if integer:
            qi = g.node("Cast", [q], to=TensorProto.INT8)
            acc = g.node("MatMulInteger", [qi, anon(wt.T.astype(np.int8))])
            y = g.node("Cast", [acc], to=TensorProto.FLOAT)
        else:
            y = g.node("MatMul", [q, anon(wt.T.astype(np.float32))])
        ws = g.init(prefix + ".weight_scale", np.array([scale], dtype=np.float32))
        if multiply:
            return g.node("Mul", [g.node("Div", [y, s]), ws])
        return g.node("Div", [y, g.node("Mul", [s, ws])])

    # RoPE's cos and sin, once for every layer: [B, 1, S, d].
    inv_freq = (1.0 / (model.theta ** (np.arange(0, d, 2, dtype=np.int64).astype(np.float32) /
                                       d))).astype(np.float32)
    inv = g.node("Unsqueeze", [g.init("model.rotary_emb.inv_freq", inv_freq), axes(0, 2)])
    pos = g.node("Unsqueeze", [g.node("Cast", ["position_ids"], to=TensorProto.FLOAT), axes(1)])
    freqs = g.node("Transpose", [g.node("MatMul", [inv, pos])], perm=[0, 2, 1])
    emb = g.node("Concat", [freqs, freqs], axis=-1)
    cos = g.node("Unsqueeze", [g.node("Cos", [emb]), axes(1)])
    sin = g.node("Unsqueeze", [g.node("Sin", [emb]), axes(1)])

    def rope(x4):
        x1 = g.node("Slice", [x4, axes(0), axes(d // 2), axes(-1)])
        x2 = g.node("Slice", [x4, axes(d // 2), axes(INT64_MAX), axes(-1)])
        rot = g.node("Concat", [g.node("Neg", [x2]), x1], axis=-1)
        return g.node("Add", [g.node("Mul", [x4, cos]), g.node("Mul", [rot, sin])])

    def heads_of(x, n):
        return g.node("Transpose", [g.node("Reshape", [x, axes(0, 0, n, d)])], perm=[0, 2, 1, 3])

    def repeat_kv(x):
        if heads == kv_heads:
            return x
        e = g.node("Expand", [g.node("Unsqueeze", [x, axes(2)]),
                              axes(1, 1, heads // kv_heads, 1, 1)])
        return g.node("Reshape", [e, axes(0, heads, -1, d)])

    mask = None

    lowest = float(np.finfo(np.float32).min)

    def length(x, axis):  # a dim of x as a 1-element int64 vector
        return g.node("Unsqueeze", [g.node("Gather", [g.node("Shape", [x]),
                                                      g.const(axis, np.int64)], axis=0),
                                    axes(0)])

    def triangle(rows, cols):  # float min strictly above the diagonal, else 0
        shape = g.node("Concat", [rows, cols], axis=0)
        fill = g.node("ConstantOfShape", [shape],
                      value=helper.make_tensor("value", TensorProto.FLOAT, [1], [lowest]))
        return g.node("Trilu", [fill, g.const(1, np.int64)], upper=1)

    def causal_mask(keys):
        # mask[b, 0, s, t] = float min where key position t > the query's position, else 0.
        total = g.node("Gather", [g.node("Shape", [keys]), g.const(2, np.int64)], axis=0)
        kpos = g.node("Range", [g.const(0, np.int64), total, g.const(1, np.int64)])
        if args.mask == "triu-only":  # queries at 0..S-1 (no past): the triangle alone
            return g.node("Unsqueeze", [triangle(length("input_ids", 1), length(keys, 2)),
                                        axes(0, 1)])
        if args.mask == "triu":  # transformers: triu(full(min), 1) * (arange(T) > cache_pos)
            later = g.node("Greater", [kpos, g.node("Reshape", ["position_ids", axes(-1, 1)])])
            m = g.node("Mul", [triangle(length("input_ids", 1), length(keys, 2)),
                               g.node("Cast", [later], to=TensorProto.FLOAT)])
            return g.node("Unsqueeze", [m, axes(0, 1)])
        later = g.node("Greater", [g.node("Unsqueeze", [kpos, axes(0, 1)]),
                                   g.node("Unsqueeze", ["position_ids", axes(2)])])
        m = g.node("Where", [later, g.const(lowest), g.const(0.0)])
        return g.node("Unsqueeze", [m, axes(1)])

    embed = dense("model.embed_tokens.weight")
    x = g.node("Gather", [embed, "input_ids"], axis=0)
    for i in range(layers):
        p = "model.layers.%d." % i
        n = rms(x, p + "input_layernorm.weight")
        q = rope(heads_of(linear(n, i, "self_attn", "q_proj"), heads))
        k = rope(heads_of(linear(n, i, "self_attn", "k_proj"), kv_heads))
        v = heads_of(linear(n, i, "self_attn", "v_proj"), kv_heads)
        if past:
            k = g.node("Concat", ["past_key_values.%d.key" % i, k], axis=2,
                       outputs=["present.%d.key" % i])
            v = g.node("Concat", ["past_key_values.%d.value" % i, v], axis=2,
                       outputs=["present.%d.value" % i])
            for kv in ("key", "value"):
                g.outputs.append(helper.make_tensor_value_info(
                    "present.%d.%s" % (i, kv), TensorProto.FLOAT,
                    ["batch_size", kv_heads, "total_sequence_length", d]))
        if mask is None:
            mask = causal_mask(k)
        kt = g.node("Transpose", [repeat_kv(k)], perm=[0, 1, 3, 2])
        scores = g.node("Mul", [g.node("MatMul", [q, kt]), g.const(float(d ** -0.5))])
        probs = g.node("Softmax", [g.node("Add", [scores, mask])], axis=-1)
        a = g.node("Transpose", [g.node("MatMul", [probs, repeat_kv(v)])], perm=[0, 2, 1, 3])
        a = g.node("Reshape", [a, axes(0, 0, heads * d)])
        if model.sub_norms:
            a = rms(a, p + model.sub_norms[0] + ".weight")
        h = g.node("Add", [x, linear(a, i, "self_attn", "o_proj")])
        n = rms(h, p + "post_attention_layernorm.weight")
        gate = linear(n, i, "mlp", "gate_proj")
        up = linear(n, i, "mlp", "up_proj")
        if model.act == "relu2":
            act = g.node("Pow", [g.node("Relu", [gate]), g.const(2.0)])
        else:
            act = g.node("Mul", [gate, g.node("Sigmoid", [gate])])
        m = g.node("Mul", [act, up])
        if model.sub_norms:
            m = rms(m, p + model.sub_norms[1] + ".weight")
        x = g.node("Add", [h, linear(m, i, "mlp", "down_proj")])
    n = rms(x, "model.norm.weight")
    if "lm_head.weight" in model.tensors:
        head = anon(model.dense("lm_head.weight").astype(np.float32).T)
    else:
        head = g.node("Transpose", [embed], perm=[1, 0])
    g.node("MatMul", [n, head], outputs=["logits"])

    graph = helper.make_graph(g.nodes, "bitnet", g.inputs, g.outputs, g.inits)
    return helper.make_model(graph, producer_name="pytorch",
                             opset_imports=[helper.make_opsetid("", 17)])
