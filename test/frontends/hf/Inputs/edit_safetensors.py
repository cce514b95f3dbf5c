#!/usr/bin/env python3
"""edit_safetensors.py FILE TENSOR ROW COL VALUE: overwrites element [ROW, COL] of a 2-D F16,
BF16 or F32 tensor of a safetensors file in place (to make one weight wrong for a test)."""
import json
import struct
import sys

path, name, row, col, value = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
    float(sys.argv[5])
with open(path, "r+b") as f:
    (size,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(size))
    entry = header[name]
    width = {"F16": 2, "BF16": 2, "F32": 4}[entry["dtype"]]
    offset = 8 + size + entry["data_offsets"][0] + (row * entry["shape"][1] + col) * width
    if entry["dtype"] == "F16":
        data = struct.pack("<e", value)
    elif entry["dtype"] == "F32":
        data = struct.pack("<f", value)
    else:
        data = struct.pack("<f", value)[2:]
    f.seek(offset)
    f.write(data)
