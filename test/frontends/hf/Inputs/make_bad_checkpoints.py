#!/usr/bin/python3
"""Writes a corpus of broken checkpoints, one folder per defect, from a good tiny one.

  make_bad_checkpoints.py GOOD_DIR SHARDED_GOOD_DIR OUT_DIR

Each folder is the good checkpoint with exactly one thing wrong; import-errors.test checks the
error tern reports for each. Needs only the Python standard library.
"""

import json
import os
import shutil
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    return header, data[8 + n:]


def tensors_of(path):
    """{name: [dtype, shape, bytes]} in file order."""
    header, body = read(path)
    meta = header.pop("__metadata__", None)
    items = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    return meta, {k: [v["dtype"], v["shape"], body[v["data_offsets"][0]:v["data_offsets"][1]]]
                  for k, v in items}


def write(path, meta, tensors):
    """A well-formed file from {name: [dtype, shape, bytes]} (offsets laid out in order)."""
    header, body, offset = {}, b"", 0
    if meta is not None:
        header["__metadata__"] = meta
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        body += raw
        offset += len(raw)
    write_raw(path, json.dumps(header).encode(), body)


def write_raw(path, header_bytes, body, header_len=None):
    header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes) if header_len is None else header_len))
        f.write(header_bytes)
        f.write(body)


def main(good, sharded, out):
    st = "model.safetensors"
    meta, tensors = tensors_of(os.path.join(good, st))
    header, body = read(os.path.join(good, st))

    def case(name, source=good):
        d = os.path.join(out, name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(source, d)
        return d

    def edit_tensors(name, change):
        d = case(name)
        t = {k: list(v) for k, v in tensors.items()}
        change(t)
        write(os.path.join(d, st), meta, t)

    def edit_header(name, change):
        d = case(name)
        h = json.loads(json.dumps(header))
        change(h)
        write_raw(os.path.join(d, st), json.dumps(h).encode(), body)

    def edit_config(name, change):
        d = case(name)
        path = os.path.join(d, "config.json")
        with open(path) as f:
            c = json.load(f)
        change(c)
        with open(path, "w") as f:
            json.dump(c, f)

    # --- the safetensors container
    d = case("truncated")
    with open(os.path.join(d, st), "r+b") as f:
        f.truncate(os.path.getsize(os.path.join(d, st)) // 2)
    d = case("short-file")
    with open(os.path.join(d, st), "wb") as f:
        f.write(b"\x05\x00\x00")
    d = case("header-past-eof")
    size = os.path.getsize(os.path.join(good, st))
    write_raw(os.path.join(d, st), json.dumps(header).encode(), body, header_len=size + 1000)
    d = case("header-over-limit")
    write_raw(os.path.join(d, st), json.dumps(header).encode(), body, header_len=1 << 40)
    d = case("invalid-json")
    write_raw(os.path.join(d, st), b'{"model.norm.weight": {"dtype": "BF16",', body)
    edit_header("unknown-dtype",
                lambda h: h["model.norm.weight"].update(dtype="Q4"))
    edit_header("byte-span-mismatch",
                lambda h: h["model.norm.weight"].update(shape=[65]))

    def overlap(h):
        second = sorted((v["data_offsets"][0], k) for k, v in h.items()
                        if k != "__metadata__")[1][1]
        b, e = h[second]["data_offsets"]
        h[second]["data_offsets"] = [b - 2, e - 2]
    edit_header("overlapping-tensors", overlap)
    edit_header("metadata-not-strings", lambda h: h.update(__metadata__={"format": 1}))

    # --- tensors the model needs
    edit_tensors("missing-tensor", lambda t: t.pop("model.layers.1.mlp.down_proj.weight"))
    edit_tensors("wrong-shape", lambda t: t.update(
        {"model.layers.0.input_layernorm.weight": ["BF16", [32], b"\x80\x3f" * 32]}))

    def code3(t):
        raw = bytearray(t["model.layers.1.self_attn.k_proj.weight"][2])
        raw[64 * 3 + 5] = 0b11000000  # packed row 3, column 5: the last block's code is 3
        t["model.layers.1.self_attn.k_proj.weight"][2] = bytes(raw)
    edit_tensors("packed-code-3", code3)

    def wrong_dtype(t):
        dtype, shape, raw = t["model.layers.0.self_attn.q_proj.weight"]
        t["model.layers.0.self_attn.q_proj.weight"] = ["I8", shape, raw]
    edit_tensors("wrong-dtype", wrong_dtype)

    # --- config.json
    edit_config("missing-config-field", lambda c: c.pop("hidden_size"))
    edit_config("unsupported-architecture",
                lambda c: c.update(architectures=["GPT2LMHeadModel"]))
    edit_config("unsupported-activation", lambda c: c.update(hidden_act="gelu"))
    edit_config("bad-field-type", lambda c: c.update(num_attention_heads="four"))
    edit_config("heads-not-divisible", lambda c: c.update(num_key_value_heads=3))
    d = case("config-not-json")
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write("{ hidden_size: 64 ")
    d = case("no-config")
    os.remove(os.path.join(d, "config.json"))

    # --- sharded checkpoints
    d = case("shard-missing", sharded)
    with open(os.path.join(d, "model.safetensors.index.json")) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    os.remove(os.path.join(d, shards[-1]))
    d = case("shard-index-wrong-file", sharded)
    path = os.path.join(d, "model.safetensors.index.json")
    with open(path) as f:
        index = json.load(f)
    index["weight_map"]["model.norm.weight"] = shards[-1]
    with open(path, "w") as f:
        json.dump(index, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
