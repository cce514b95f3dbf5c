"""The small graph writer the ONNX fixtures share (make_onnx_model.py)."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper


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

    def decoder_io(self, config, kv_heads, head_dim, lengths_input, past):
        """input_ids, `lengths_input` (position_ids or attention_mask), past_key_values.<i>.* if
        `past`, and the logits output, with the symbolic dims exporters use."""
        self.inputs.append(helper.make_tensor_value_info("input_ids", TensorProto.INT64,
                                                         ["batch_size", "sequence_length"]))
        length = "total_sequence_length" if lengths_input == "attention_mask" else \
            "sequence_length"
        self.inputs.append(helper.make_tensor_value_info(lengths_input, TensorProto.INT64,
                                                         ["batch_size", length]))
        if past:
            for i in range(config["num_hidden_layers"]):
                for kv in ("key", "value"):
                    self.inputs.append(helper.make_tensor_value_info(
                        "past_key_values.%d.%s" % (i, kv), TensorProto.FLOAT,
                        ["batch_size", kv_heads, "past_sequence_length", head_dim]))
        self.outputs.append(helper.make_tensor_value_info(
            "logits", TensorProto.FLOAT, ["batch_size", "sequence_length", config["vocab_size"]]))

    def const(self, value, dtype=np.float32):
        """A Constant node (how torch.onnx.export writes scalars and small shapes)."""
        array = np.array(value, dtype=dtype)
        return self.node("Constant", [], value=numpy_helper.from_array(array))
