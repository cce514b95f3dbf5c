#!/usr/bin/python3
"""Writes a corpus of broken ONNX models, one folder per defect, from good tiny ones.

  make_bad_onnx_models.py GOOD_MODEL GOOD_EXTERNAL_DATA_MODEL OUT_DIR

GOOD_MODEL and GOOD_EXTERNAL_DATA_MODEL are make_onnx_model.py's output (the second with
--external-data, its tensors in model.onnx.data beside it). Each OUT_DIR/<case>/model.onnx is
one of them with exactly one thing wrong; import-errors.test checks the error tern reports for
each. Models are written with SerializeToString, so no onnx checker or external-data writer
touches them. Needs Debian's python3-onnx and numpy.
"""

import copy
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DATA = "model.onnx.data"


def node(model, name):
    return next(n for n in model.graph.node if n.name == name)


def init(model, name):
    return next(t for t in model.graph.initializer if t.name == name)


def set_attr(n, name, value):
    """Sets attribute `name` of node `n` (replacing it if present)."""
    for i, a in enumerate(n.attribute):
        if a.name == name:
            del n.attribute[i]
            break
    n.attribute.append(helper.make_attribute(name, value))


def replace_init(model, name, array):
    """Replaces initializer `name` by `array` (raw_data), keeping its place."""
    t = init(model, name)
    t.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(array), name))


def set_external(t, key, value):
    """Sets key `key` of external tensor `t`'s external_data."""
    assert t.data_location == TensorProto.EXTERNAL, t.name + " is not in external data"
    for kv in t.external_data:
        if kv.key == key:
            kv.value = value
            return
    t.external_data.add(key=key, value=value)


def main(good_path, ext_path, out):
    good = onnx.load(good_path)
    ext = onnx.load(ext_path, load_external_data=False)
    ext_dir = os.path.dirname(os.path.abspath(ext_path))

    def folder(name):
        d = os.path.join(out, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d

    def write(name, model, with_data=False):
        d = folder(name)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(model.SerializeToString())
        if with_data:
            shutil.copy(os.path.join(ext_dir, DATA), os.path.join(d, DATA))
        return d

    def case(name, change):
        """The good model, changed by `change(model)`."""
        m = copy.deepcopy(good)
        change(m)
        write(name, m)

    def ext_case(name, change, with_data=True):
        """The external-data model, changed by `change(model)`; model.onnx.data copied beside it."""
        m = copy.deepcopy(ext)
        change(m)
        write(name, m, with_data)

    L0 = "/model/layers.0"
    Q0 = L0 + "/attn/q_proj/MatMulNBits"
    GQA0 = L0 + "/attn/GroupQueryAttention"
    NORM = "model.norm.weight"
    EMBED = "model.embed_tokens.weight"
    Q0_B = "model.layers.0.self_attn.q_proj.MatMul.weight_Q2G32"
    Q0_SCALES = "model.layers.0.self_attn.q_proj.MatMul.weight_scale"

    # ---- the protobuf container (OnnxModel.cpp)

    # The file cut in half: the protobuf ends inside a field.
    d = folder("truncated")
    with open(good_path, "rb") as f:
        raw = f.read()
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(raw[:len(raw) // 2])

    # Not a protobuf at all: a text file called model.onnx.
    d = folder("not-protobuf")
    with open(os.path.join(d, "model.onnx"), "w") as f:
        f.write("this is not an ONNX model\n")

    # A graph without nodes.
    case("empty-graph", lambda m: m.graph.ClearField("node"))

    # opset_import lists only com.microsoft: no ai.onnx opset.
    def no_default_opset(m):
        keep = [o for o in m.opset_import if o.domain not in ("", "ai.onnx")]
        m.ClearField("opset_import")
        m.opset_import.extend(keep)
    case("no-default-opset", no_default_opset)

    # Two initializers called model.norm.weight.
    case("duplicate-initializer",
         lambda m: m.graph.initializer.append(copy.deepcopy(init(m, NORM))))

    # Two nodes produce one value (not SSA): the relu^2 Mul writes the Relu's output.
    def not_ssa(m):
        sq = node(m, L0 + "/mlp/act_fn/Square")
        sq.output[0] = L0 + "/mlp/act_fn/Relu/output_0"
    case("output-produced-twice", not_ssa)

    # raw_data 4 bytes short of its shape.
    case("raw-data-size", lambda m: setattr(init(m, NORM), "raw_data",
                                            init(m, NORM).raw_data[:-4]))

    # The norm weight in float_data, one value short.
    def float_data_count(m):
        t = init(m, NORM)
        values = numpy_helper.to_array(t).tolist()
        t.ClearField("raw_data")
        t.float_data.extend(values[:-1])
    case("float-data-count", float_data_count)

    # A negative dimension.
    case("negative-dimension", lambda m: init(m, NORM).dims.__setitem__(0, -1))

    # An initializer of strings (a type tern does not read).
    case("string-initializer", lambda m: m.graph.initializer.append(
        helper.make_tensor("vocab", TensorProto.STRING, [2], [b"a", b"b"])))

    # ---- external data (OnnxModel::externalBytes). The embedding table is external at any
    # size_threshold make_onnx_model.py may use.

    # model.onnx.data is not beside the model.
    ext_case("external-data-missing", lambda m: None, with_data=False)

    # A location outside the model's folder: absolute, or through '..'.
    ext_case("external-location-absolute",
             lambda m: set_external(init(m, EMBED), "location", "/tmp/" + DATA))
    ext_case("external-location-dotdot",
             lambda m: set_external(init(m, EMBED), "location", "../good-external/" + DATA))

    # The embedding table's bytes start at the end of the data file.
    size = os.path.getsize(os.path.join(ext_dir, DATA))
    ext_case("external-offset-past-end",
             lambda m: set_external(init(m, EMBED), "offset", str(size)))

    # A length that is not its shape's size ([512, 64] floats are 131072 bytes).
    ext_case("external-length-mismatch",
             lambda m: set_external(init(m, EMBED), "length", "128"))

    # An offset that is not a number.
    ext_case("external-offset-not-number",
             lambda m: set_external(init(m, EMBED), "offset", "0x100"))

    # ---- the op table (OpTable.cpp)

    # An extra live node of an op tern does not know (its output is a graph output).
    def unknown_op(m):
        m.graph.node.append(helper.make_node("Foo", ["logits"], ["foo"], name="/extra/Foo"))
        m.graph.output.append(helper.make_tensor_value_info("foo", TensorProto.FLOAT, None))
    case("unknown-op", unknown_op)

    # A node of a domain tern does not import.
    def custom_domain(m):
        m.opset_import.append(helper.make_opsetid("com.example", 1))
        m.graph.node.append(helper.make_node("Bar", ["logits"], ["bar"], name="/extra/Bar",
                                             domain="com.example"))
        m.graph.output.append(helper.make_tensor_value_info("bar", TensorProto.FLOAT, None))
    case("custom-domain", custom_domain)

    # ai.onnx opset 10: older than tern's floor (11) for Gather, the first op with a floor
    # above it (the attention mask's total length).
    def old_opset(m):
        for o in m.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = 10
    case("opset-too-old", old_opset)

    # No com.microsoft opset import, while MatMulNBits & co. are in that domain.
    def no_ms_opset(m):
        keep = [o for o in m.opset_import if o.domain != "com.microsoft"]
        m.ClearField("opset_import")
        m.opset_import.extend(keep)
    case("no-microsoft-opset", no_ms_opset)

    # ---- the decoder recognizer (DecoderRecognizer.cpp)

    # MatMulNBits with 4-bit weights.
    case("bits-4", lambda m: set_attr(node(m, Q0), "bits", 4))

    # accuracy_level 0: float activations, not BitNet's int8.
    case("accuracy-level-0", lambda m: set_attr(node(m, Q0), "accuracy_level", 0))

    # The scales input names nothing at all.
    case("missing-initializer", lambda m: node(m, Q0).input.__setitem__(2, "nothing"))

    # The scales input is a graph input, not an initializer.
    case("scales-not-initializer",
         lambda m: node(m, Q0).input.__setitem__(2, "attention_mask"))

    # Interleaved rotary (GPT-J style) instead of rotate-half.
    case("rotary-interleaved", lambda m: set_attr(node(m, GQA0), "rotary_interleaved", 1))

    # Sliding-window attention.
    case("local-window-size", lambda m: set_attr(node(m, GQA0), "local_window_size", 128))

    # An attention scale that is not 1/sqrt(head_dim) = 1/4.
    case("attention-scale", lambda m: set_attr(node(m, GQA0), "scale", 0.5))

    # cos_cache all zeros: no rotary table (no theta fits position 1).
    case("cos-cache-zeros", lambda m: replace_init(
        m, "cos_cache", np.zeros_like(numpy_helper.to_array(init(m, "cos_cache")))))

    # cos_cache off by 0.25 at position 100, frequency 3: not the table of one theta.
    def cos_cache_off(m):
        c = numpy_helper.to_array(init(m, "cos_cache")).copy()
        c[100, 3] += np.float32(0.25)
        replace_init(m, "cos_cache", c)
    case("cos-cache-off", cos_cache_off)

    # A Relu between the final norm and the head (inserted before the head: nodes stay in
    # topological order).
    def relu_on_path(m):
        head = node(m, "/lm_head/MatMul")
        relu = helper.make_node("Relu", [head.input[0]], ["/extra/Relu/output_0"],
                                name="/extra/Relu")
        m.graph.node.insert(list(m.graph.node).index(head), relu)
        head.input[0] = "/extra/Relu/output_0"
    case("relu-on-path", relu_on_path)

    # An extra graph output computed by a node the decoder does not contain.
    def extra_output(m):
        m.graph.node.append(helper.make_node("Sigmoid", ["logits"], ["probabilities"],
                                             name="/extra/Sigmoid"))
        m.graph.output.append(helper.make_tensor_value_info("probabilities",
                                                            TensorProto.FLOAT, None))
    case("extra-output", extra_output)

    # No 'logits' graph output (only the present.* KV cache).
    def no_logits(m):
        keep = [o for o in m.graph.output if o.name != "logits"]
        m.graph.ClearField("output")
        m.graph.output.extend(keep)
    case("no-logits", no_logits)

    # The input norm of layer 0 with another epsilon than the others (1e-5).
    case("norm-epsilon", lambda m: set_attr(node(m, L0 + "/input_layernorm/LayerNorm"),
                                            "epsilon", 1e-6))

    # An untied head of shape [vocab, hidden]: MatMul needs [hidden, vocab].
    def head_shape(m):
        head = node(m, "/lm_head/MatMul")
        m.graph.node.remove(node(m, "/lm_head/Transpose"))
        table = numpy_helper.to_array(init(m, "model.embed_tokens.weight"))
        m.graph.initializer.append(numpy_helper.from_array(table, "lm_head.MatMul.weight"))
        head.input[1] = "lm_head.MatMul.weight"
    case("head-shape", head_shape)

    # A cycle through Identity: 'logits' is an Identity of itself (the head's output renamed).
    def identity_cycle(m):
        node(m, "/lm_head/MatMul").output[0] = "/lm_head/MatMul/output_0"
        m.graph.node.append(helper.make_node("Identity", ["logits"], ["logits"],
                                             name="/loop/Identity"))
    case("identity-cycle", identity_cycle)

    # A cycle through the residual stream: layer 0's attention reads the final norm, and its
    # residual sum adds the final residual sum.
    def residual_cycle(m):
        final = "/model/final_norm/SkipLayerNorm"
        for proj in ("q_proj", "k_proj", "v_proj"):
            node(m, L0 + "/attn/%s/MatMulNBits" % proj).input[0] = final + "/output_0"
        node(m, L0 + "/post_attention_layernorm/SkipLayerNorm").input[1] = final + "/output_3"
    case("residual-cycle", residual_cycle)

    # ---- the weights (OnnxImporter.cpp)

    # A 2-bit code of 0 with the default zero point 2: weight [0, 0] is -2.
    def non_ternary(m):
        b = numpy_helper.to_array(init(m, Q0_B)).copy()
        b[0, 0, 0] &= 0b11111100
        replace_init(m, Q0_B, b)
    case("non-ternary", non_ternary)

    # B flattened to [N, blocks * block_size / 4].
    case("b-shape", lambda m: replace_init(
        m, Q0_B, numpy_helper.to_array(init(m, Q0_B)).reshape(64, 16)))

    # A scale per block (K = 64 = 2 blocks of 32): neither per tensor, per row, nor per
    # group of 64, 128 or 256 columns.
    def scales_per_block(m):
        s = numpy_helper.to_array(init(m, Q0_SCALES)).copy()
        s *= np.where(np.arange(s.size) % 2 == 0, 1.0, 2.0).astype(np.float32)
        replace_init(m, Q0_SCALES, s)
    case("scales-per-block", scales_per_block)

    # Packed zero points one byte short (N = 64 rows need 64 bytes).
    def zero_points_size(m):
        m.graph.initializer.append(numpy_helper.from_array(
            np.full((63,), 0b1010, dtype=np.uint8), "q_proj_zero_points"))
        node(m, Q0).input.append("q_proj_zero_points")
    case("zero-points-size", zero_points_size)

    # The final norm's weight is [32]; the model's hidden size is 64.
    case("norm-weight-shape", lambda m: replace_init(
        m, NORM, numpy_helper.to_array(init(m, NORM))[:32]))

    # Layer 1's up_proj says N = 128 (and has 128 rows) where the MLP has 160.
    def up_proj_rows(m):
        n = node(m, "/model/layers.1/mlp/up_proj/MatMulNBits")
        set_attr(n, "N", 128)
        for name, rows in ((n.input[1], 128), (n.input[2], 128 * 2)):
            replace_init(m, name, numpy_helper.to_array(init(m, name))[:rows])
    case("up-proj-rows", up_proj_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
