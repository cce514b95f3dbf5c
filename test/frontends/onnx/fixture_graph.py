"""The small graph writer the ONNX fixtures share (make_onnx_model.py)."""
import numpy as np
from onnx import helper, numpy_helper


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.count = 0

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, outputs=1, domain="", name=None, **attrs):
        self.count += 1
        name = name or "/%s_%d" % (op, self.count)
        if isinstance(outputs, int):
            outputs = ["%s/output_%d" % (name, i) for i in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, domain=domain,
                                           **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def const(self, value, dtype=np.float32):
        """A Constant node (how torch.onnx.export writes scalars and small shapes)."""
        array = np.array(value, dtype=dtype)
        return self.node("Constant", [], value=numpy_helper.from_array(array))
