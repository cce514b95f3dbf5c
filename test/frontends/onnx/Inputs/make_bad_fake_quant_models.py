#!/usr/bin/python3
"""Writes broken ONNX models of the torch.onnx.export forms, one folder per defect.

  make_bad_fake_quant_models.py FAKE_QUANT UNIT_WEIGHTS MATMULINTEGER OUT_DIR

The inputs are make_onnx_model.py's --form=fake-quant, --form=fake-quant --weights=unit and
--form=matmulinteger output (fake_quant_form.py builds the graph). Each OUT_DIR/<case>/model.onnx
is one of them with exactly one thing wrong; import-errors.test checks the error tern reports
for each. The mutations touch layer 0 (the first of each kind of node in the graph); tern walks
the graph from the logits, so layer 1 is recognized first and is intact. Models are written
with SerializeToString, so no onnx checker touches them. Needs Debian's python3-onnx and numpy.
"""

import copy
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from make_bad_onnx_models import init, set_attr  # the same graph edits


# ---- graph access

def producer(m, value):
    """The node writing `value`, or None (a graph input or an initializer)."""
    return next((n for n in m.graph.node if value in n.output), None)


def first(m, op, where=lambda n: True):
    """The first node of type `op` (in graph order) for which `where(node)` holds."""
    return next(n for n in m.graph.node if n.op_type == op and where(n))


def op_of(m, value):
    p = producer(m, value)
    return p.op_type if p else None


def set_init(m, name, array):
    """Replaces initializer `name` by `array` (raw_data), keeping its place."""
    init(m, name).CopyFrom(numpy_helper.from_array(np.ascontiguousarray(array), name))


def set_const(m, value, array):
    """Replaces the value of the Constant node writing `value`."""
    c = producer(m, value)
    assert c.op_type == "Constant", value + " is not a Constant's output"
    dtype = numpy_helper.to_array(c.attribute[0].t).dtype
    c.attribute[0].t.CopyFrom(numpy_helper.from_array(np.array(array, dtype=dtype)))


def insert_before(m, anchor, nodes):
    """Inserts `nodes` just before node `anchor` (the graph stays in topological order)."""
    at = list(m.graph.node).index(anchor)
    for i, n in enumerate(nodes):
        m.graph.node.insert(at + i, n)


def constant(name, array):
    """A Constant node writing `name`."""
    return helper.make_node("Constant", [], [name], name=name.rsplit("/", 1)[0],
                            value=numpy_helper.from_array(np.asarray(array)))


# ---- layer 0's nodes, found by their place in the graph

def scale_clip(m):
    """Clip(ReduceMax(Abs(x)), 1e-5) of q_proj's activation quantization."""
    return first(m, "Clip", lambda n: op_of(m, n.input[0]) == "ReduceMax")


def q_weight(m):
    """The float weight initializer of q_proj ([K, N]): input B of the first MatMul by one."""
    names = {t.name for t in m.graph.initializer}
    return first(m, "MatMul", lambda n: n.input[1] in names).input[1]


# ---- the mutations, one per case

def weight_not_ternary(m):
    """Row 0 of q_proj's {-s, 0, s} weight holds six magnitudes: no one scale per row."""
    w = numpy_helper.to_array(init(m, q_weight(m))).copy()
    w[:, 0] = np.resize(np.array([1, -1, 0.5, -0.5, 0.25, 0], dtype=np.float32), w.shape[0])
    set_init(m, q_weight(m), w)


def unit_weight_two(m):
    """One weight of q_proj's {-1, 0, 1} matrix is 2: W[K = 3, N = 5] (element [5, 3])."""
    w = numpy_helper.to_array(init(m, q_weight(m))).copy()
    w[3, 5] = 2
    set_init(m, q_weight(m), w)


def clip_eps(m):
    """The activation scale clips max|x| at 1e-6, not BitNet's 1e-5."""
    set_const(m, scale_clip(m).input[1], 1e-6)


def qmax_100(m):
    """qmax 100 instead of 127, consistently: s = 100 / max|x|, q clipped to [-101, 100]."""
    s = first(m, "Div", lambda n: n.input[1] == scale_clip(m).output[0])
    set_const(m, s.input[0], 100.0)
    q = first(m, "Clip", lambda n: op_of(m, n.input[0]) == "Round")
    set_const(m, q.input[1], -101.0)
    set_const(m, q.input[2], 100.0)


def floor_for_round(m):
    """Floor where the quantization rounds (an op tern does not import)."""
    r = first(m, "Round")
    r.op_type, r.name = "Floor", r.name.replace("Round", "Floor")


def softmax_axis_2(m):
    """The attention's Softmax over axis 2 (the queries), not the keys."""
    set_attr(first(m, "Softmax"), "axis", 2)


def attention_scale(m):
    """q k^T scaled by 1/8, not 1/sqrt(head_dim) = 1/4."""
    add = producer(m, first(m, "Softmax").input[0])
    scale = producer(m, add.input[0])
    set_const(m, scale.input[1], 0.125)


def rotate_half_swapped(m):
    """rotate_half as Concat(x1, Neg(x2)): the halves in the wrong order."""
    cat = first(m, "Concat", lambda n: op_of(m, n.input[0]) == "Neg")
    cat.input[0], cat.input[1] = cat.input[1], cat.input[0]


def mask_where_swapped(m):
    """The causal mask's Where with its branches swapped: 0 where the key is later."""
    w = first(m, "Where")
    w.input[1], w.input[2] = w.input[2], w.input[1]


def dynamic_quantize(m):
    """MatMulInteger form: q_proj's int8 Cast reads a DynamicQuantizeLinear of the normed x."""
    cast = producer(m, first(m, "MatMulInteger").input[0])
    x = producer(m, first(m, "Abs").input[0]).output[0]
    name = "/model/layers.0/attn/q_proj/DynamicQuantizeLinear"
    dql = helper.make_node("DynamicQuantizeLinear", [x], [name + "/output_%d" % i for i in range(3)],
                           name=name)
    insert_before(m, cast, [dql])
    cast.input[0] = dql.output[0]


def inv_freq_off(m):
    """inv_freq[3] times 1.5: not the frequencies of any theta."""
    f = numpy_helper.to_array(init(m, "model.rotary_emb.inv_freq")).copy()
    f[3] *= np.float32(1.5)
    set_init(m, "model.rotary_emb.inv_freq", f)


def rmsnorm_axis_1(m):
    """Layer 0's input norm averages x^2 over axis 1 (the sequence), not the hidden axis."""
    set_attr(first(m, "ReduceMean"), "axes", [1])


def cast_uint8(m):
    """MatMulInteger form: q_proj's activations cast to uint8, not int8."""
    cast = producer(m, first(m, "MatMulInteger").input[0])
    set_attr(cast, "to", TensorProto.UINT8)


def matmulinteger_zero_point(m):
    """MatMulInteger form: q_proj's MatMulInteger with an activation zero point of 1."""
    mm = first(m, "MatMulInteger")
    m.graph.initializer.append(numpy_helper.from_array(np.array(1, dtype=np.int8),
                                                       "q_proj_a_zero_point"))
    mm.input.append("q_proj_a_zero_point")


def reshape_computed_shape(m):
    """q's heads split by a Reshape to a shape computed from x's Shape (not a constant)."""
    r = first(m, "Reshape")
    x = r.input[0]
    p = "/model/layers.0/attn/q_shape"
    nodes = [helper.make_node("Shape", [x], [p + "/Shape/output_0"], name=p + "/Shape"),
             constant(p + "/Constant/output_0", np.array([0, 1], dtype=np.int64)),
             helper.make_node("Gather", [p + "/Shape/output_0", p + "/Constant/output_0"],
                              [p + "/Gather/output_0"], name=p + "/Gather", axis=0),
             constant(p + "/Constant_1/output_0", np.array([4, 16], dtype=np.int64)),
             helper.make_node("Concat", [p + "/Gather/output_0", p + "/Constant_1/output_0"],
                              [p + "/Concat/output_0"], name=p + "/Concat", axis=0)]
    insert_before(m, r, nodes)
    r.input[1] = p + "/Concat/output_0"


# ---- malformed nodes (ONNX's checker refuses them; ternc crashes on them today, so
# import-errors.test does not run them yet)

def expand_without_shape(m):
    """The Expand repeating layer 0's key heads has no shape input."""
    del first(m, "Expand").input[1:]


def kv_reshape_without_inputs(m):
    """The Reshape merging layer 0's repeated key heads has no inputs."""
    e = first(m, "Expand")
    del first(m, "Reshape", lambda n: n.input[0] == e.output[0]).input[:]


def sigmoid_without_input(m):
    """Layer 0's relu^2 turned into SiLU, x * Sigmoid(), its Sigmoid without an input."""
    p = first(m, "Pow", lambda n: op_of(m, n.input[0]) == "Relu")
    sig = helper.make_node("Sigmoid", [], ["/extra/Sigmoid/output_0"], name="/extra/Sigmoid")
    insert_before(m, p, [sig])
    p.op_type = "Mul"
    p.input[:] = [producer(m, p.input[0]).input[0], sig.output[0]]


def weight_nan(m):
    """One element of q_proj's {-s, 0, s} weight is NaN."""
    w = numpy_helper.to_array(init(m, q_weight(m))).copy()
    w[3, 5] = np.nan
    set_init(m, q_weight(m), w)


def merge_transpose_perm(m):
    """The attention output's heads are transposed back by [0, 2, 3, 1], not [0, 2, 1, 3]: the
    Reshape after it then mixes head dims into the hidden axis."""
    t = first(m, "Transpose", lambda n: op_of(m, n.input[0]) == "MatMul" and
              list(n.attribute[0].ints) == [0, 2, 1, 3])
    set_attr(t, "perm", [0, 2, 3, 1])


def mask_query_row(m):
    """The mask compares key positions with the query positions unsqueezed at axis 1 (a row,
    [batch, 1, S]) instead of 2 (a column)."""
    u = first(m, "Unsqueeze", lambda n: n.input[0] == "position_ids" and any(
        c.op_type == "Greater" for c in m.graph.node if n.output[0] in c.input))
    set_const(m, u.input[1], [1])


def second_output(m):
    """The final norm reads output 1 of a node (a value its op type does not name)."""
    mul = first(m, "Mul", lambda n: n.output[0] in first(m, "MatMul", lambda x: x.output[0] ==
                                                          "logits").input)
    mul.output.append(mul.output[0] + "_second")
    head = first(m, "MatMul", lambda x: x.output[0] == "logits")
    head.input[0] = mul.output[1]


def main(fake_quant_path, unit_path, integer_path, out):
    bases = {"fake-quant": onnx.load(fake_quant_path), "unit": onnx.load(unit_path),
             "matmulinteger": onnx.load(integer_path)}

    def case(name, base, change):
        """Model `base`, changed by `change(model)`, written to OUT_DIR/<name>/model.onnx."""
        m = copy.deepcopy(bases[base])
        change(m)
        d = os.path.join(out, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(m.SerializeToString())

    case("fq-weight-not-ternary", "fake-quant", weight_not_ternary)
    case("fq-unit-weight-two", "unit", unit_weight_two)
    case("fq-clip-eps", "fake-quant", clip_eps)
    case("fq-qmax-100", "fake-quant", qmax_100)
    case("fq-floor", "fake-quant", floor_for_round)
    case("fq-softmax-axis-2", "fake-quant", softmax_axis_2)
    case("fq-attention-scale", "fake-quant", attention_scale)
    case("fq-rotate-half-swapped", "fake-quant", rotate_half_swapped)
    case("fq-mask-where-swapped", "fake-quant", mask_where_swapped)
    case("fq-inv-freq", "fake-quant", inv_freq_off)
    case("fq-rmsnorm-axis-1", "fake-quant", rmsnorm_axis_1)
    case("fq-reshape-computed-shape", "fake-quant", reshape_computed_shape)
    case("mi-dynamic-quantize", "matmulinteger", dynamic_quantize)
    case("mi-cast-uint8", "matmulinteger", cast_uint8)
    case("mi-zero-point", "matmulinteger", matmulinteger_zero_point)
    case("fq-expand-without-shape", "fake-quant", expand_without_shape)
    case("fq-kv-reshape-without-inputs", "fake-quant", kv_reshape_without_inputs)
    case("fq-sigmoid-without-input", "fake-quant", sigmoid_without_input)
    case("fq-weight-nan", "fake-quant", weight_nan)
    case("fq-merge-transpose-perm", "fake-quant", merge_transpose_perm)
    case("fq-mask-query-row", "fake-quant", mask_query_row)
    case("fq-second-output", "fake-quant", second_output)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
