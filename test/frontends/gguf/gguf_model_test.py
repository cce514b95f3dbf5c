#!/usr/bin/python3
"""End to end for the GGUF frontend: tern-gen-checkpoint writes the same random weights as a
Hugging Face checkpoint and as a GGUF file (--format=gguf-<type>), the checkpoint with the weight
scales the GGUF type stores (per tensor for I2_S, per 256 columns for TQ1_0 / TQ2_0, per 64 for
Q2_0, per row for IQ1_BN / IQ2_BN), so both files hold the same numbers. ternc compiles both
with the same flags; the logits must be equal bit for bit, for the same tokens run as prefill
(chunks of 8), one token per call and chunks of 3.

Where the two files cannot hold the same numbers the comparison says what it allows instead:
  --tolerance R   an F16 embedding table (the checkpoint's is BF16): another head kernel sums in
                  another order, so max |gguf - hf| / max |hf| <= R per position, same argmax;
  --q4-as-q8      a Q4_0 table: the GGUF file is rewritten with the table as Q8_0 blocks of the
                  same numbers (d kept, q - 8) by this script's own numpy, and the binary of
                  that file must equal the Q4_0 file's bit for bit.
  --table TYPE    a table type tern converts to f32 (q4_1, q5_0, q5_1, q4_K, q5_K): the table is
                  replaced by random blocks of TYPE, and the binary must equal, bit for bit, the
                  one of the same file with the table as f32 values dequantized by this script's
                  numpy (llama.cpp's formulas, in float32).

  gguf_model_test.py --ternc B --gen-checkpoint G --work DIR --format gguf-<type>
      [--gen-args "..."] [--hf-args "..."] [--ternc-args "..."] [--hf-ternc-args "..."]
      [--target T] [--tolerance R] [--q4-as-q8]
"""
import argparse
import os
import random
import shlex
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "e2e"))
# The compiled-model tests' runner: a binary's own "this CPU lacks" check exits 77 (skipped).
from compiled_model_test import run  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "Inputs"))
import gguf_io  # noqa: E402

# The checkpoint flags that give each GGUF type's scale granularity.
HF_SCALES = {
    "gguf-i2_s": [], "gguf-f16": [], "gguf-bf16": [],
    "gguf-tq1_0": ["--scale-group=256"], "gguf-tq2_0": ["--scale-group=256"],
    "gguf-q2_0": ["--scale-group=64"],
    "gguf-iq1_bn": ["--row-scales"], "gguf-iq2_bn": ["--row-scales"],
}


def q4_0_to_q8_0(q4, blocks):
    """Q4_0 blocks (fp16 d, 16 bytes of nibbles: low = elements 0..15, high = 16..31) as Q8_0
    blocks (fp16 d, int8 q[32]) of the same numbers."""
    q4 = np.frombuffer(q4, dtype=np.uint8).reshape(blocks, 18)
    out = np.zeros((blocks, 34), dtype=np.uint8)
    out[:, 0:2] = q4[:, 0:2]
    low = (q4[:, 2:18] & 0xF).astype(np.int16) - 8
    high = (q4[:, 2:18] >> 4).astype(np.int16) - 8
    out[:, 2:18] = low.astype(np.int8).view(np.uint8)
    out[:, 18:34] = high.astype(np.int8).view(np.uint8)
    return out.tobytes()


# block elements, block bytes, ggml type id
TABLE_TYPES = {"q4_1": (32, 20, 3), "q5_0": (32, 22, 6), "q5_1": (32, 24, 7),
               "q4_K": (256, 144, 12), "q5_K": (256, 176, 13)}


def random_blocks(kind, blocks, rng):
    """Random blocks of `kind` with small finite scales (fp16 d, and dmin / m)."""
    elems, size, _ = TABLE_TYPES[kind]
    b = rng.integers(0, 256, size=(blocks, size), dtype=np.uint8)
    d = (rng.uniform(0.5, 1.5, blocks) * (0.02 if elems == 32 else 0.002)).astype(np.float16)
    b[:, 0:2] = d.view(np.uint8).reshape(blocks, 2)
    if kind in ("q4_1", "q5_1", "q4_K", "q5_K"):  # the min
        m = (rng.uniform(-1, 1, blocks) * (0.1 if elems == 32 else 0.01)).astype(np.float16)
        b[:, 2:4] = m.view(np.uint8).reshape(blocks, 2)
    return b


def dequantize(kind, b):
    """llama.cpp's dequantize_row_<kind> in numpy float32, block by block: [blocks, elems]."""
    f16 = lambda lo: b[:, lo:lo + 2].copy().view(np.float16)[:, 0].astype(np.float32)
    d = f16(0)[:, None]
    if kind in ("q4_1", "q5_0", "q5_1"):
        m = f16(2)[:, None] if kind != "q5_0" else None
        qs = b[:, -16:].astype(np.int32)
        lo, hi = qs & 0xF, qs >> 4
        if kind != "q4_1":
            qh = b[:, 4 if kind == "q5_1" else 2:][:, :4].copy().view(np.uint32)[:, 0][:, None]
            j = np.arange(16)[None, :]
            lo = lo | (((qh >> j) << 4) & 0x10).astype(np.int32)
            hi = hi | ((qh >> (j + 12)) & 0x10).astype(np.int32)
        x = np.concatenate([lo, hi], axis=1)
        if kind == "q5_0":
            return (x - 16).astype(np.float32) * d
        return x.astype(np.float32) * d + m
    dmin = f16(2)[:, None]
    sc = b[:, 4:16].astype(np.int32)
    scale, mins = np.zeros((len(b), 8), np.int32), np.zeros((len(b), 8), np.int32)
    for j in range(8):  # get_scale_min_k4
        if j < 4:
            scale[:, j], mins[:, j] = sc[:, j] & 63, sc[:, j + 4] & 63
        else:
            scale[:, j] = (sc[:, j + 4] & 0xF) | ((sc[:, j - 4] >> 6) << 4)
            mins[:, j] = (sc[:, j + 4] >> 4) | ((sc[:, j] >> 6) << 4)
    ds = d * scale.astype(np.float32)      # d * sc, in float32
    ms = dmin * mins.astype(np.float32)    # dmin * m
    ql = b[:, -128:].astype(np.int32).reshape(-1, 4, 32)
    q = np.stack([ql & 0xF, ql >> 4], axis=2).reshape(-1, 8, 32)  # sub-block j = 2 * (l / 32) + h
    if kind == "q5_K":
        qh = b[:, 16:48].astype(np.int32)
        for j in range(8):
            q[:, j, :] += np.where(qh & (1 << j), 16, 0)
    return (ds[:, :, None] * q.astype(np.float32) - ms[:, :, None]).reshape(len(b), -1)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--ternc", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--format", required=True, choices=sorted(HF_SCALES))
    p.add_argument("--target", default="host")
    p.add_argument("--gen-args", default="", help="more tern-gen-checkpoint options (both files)")
    p.add_argument("--gguf-args", default="", help="tern-gen-checkpoint options of the GGUF file")
    p.add_argument("--ternc-args", default="", help="ternc options of the GGUF file")
    p.add_argument("--hf-ternc-args", default="", help="ternc options of the checkpoint")
    p.add_argument("--tolerance", type=float, default=0.0)
    p.add_argument("--q4-as-q8", action="store_true")
    p.add_argument("--table", choices=sorted(TABLE_TYPES))
    args = p.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    common = ["--preset=tiny", "--seed=5", "--quiet", "--hidden-size=256",
              "--intermediate-size=512"] + shlex.split(args.gen_args)
    hf = os.path.join(args.work, "hf")
    gg = os.path.join(args.work, "gguf")
    run([args.gen_checkpoint, "--format=bitnet-2b4t", "-o", hf] + HF_SCALES[args.format] + common)
    run([args.gen_checkpoint, "--format=" + args.format, "-o", gg] + common +
        shlex.split(args.gguf_args))
    model = os.path.join(gg, "model.gguf")

    sources = [("hf", hf, args.hf_ternc_args), ("gguf", model, args.ternc_args)]
    if args.q4_as_q8:
        f = gguf_io.read(model)
        t = f.tensor("token_embd.weight")
        assert t.type == gguf_io.Q4_0, "--q4-as-q8 needs a Q4_0 token_embd.weight"
        t.type, t.data = gguf_io.Q8_0, q4_0_to_q8_0(t.data, len(t.data) // 18)
        converted = os.path.join(gg, "q8.gguf")
        gguf_io.write(f, converted)
        sources = [("hf", converted, args.ternc_args), ("gguf", model, args.ternc_args)]
    if args.table:
        elems, size, type_id = TABLE_TYPES[args.table]
        f = gguf_io.read(model)
        t = f.tensor("token_embd.weight")
        blocks = t.ne[0] * t.ne[1] // elems
        raw = random_blocks(args.table, blocks, np.random.default_rng(9))
        t.type, t.data = type_id, raw.tobytes()
        quantized = os.path.join(gg, args.table + ".gguf")
        gguf_io.write(f, quantized)
        t.type, t.data = gguf_io.F32, dequantize(args.table, raw).astype(np.float32).tobytes()
        reference = os.path.join(gg, "f32.gguf")
        gguf_io.write(f, reference)
        sources = [("hf", reference, args.ternc_args), ("gguf", quantized, args.ternc_args)]
    exes = {}
    for name, source, extra in sources:
        exes[name] = os.path.join(args.work, name + ".exe")
        out = run([args.ternc, source, "--target=" + args.target, "--context=64", "--batch=8",
                   "-o", exes[name]] + shlex.split(extra))
        print("".join(l + "\n" for l in out.splitlines() if "imported" in l or "FFN" in l),
              end="")

    rng = random.Random(3)
    tokens = ",".join(str(rng.randrange(300)) for _ in range(13))
    worst = 0.0
    for chunk in ("8", "1", "3"):
        logits = {}
        for name, exe in exes.items():
            dump = os.path.join(args.work, "%s.%s.bin" % (name, chunk))
            run([exe, "--tokens", tokens, "--chunk", chunk, "--dump-logits", dump, "--quiet"])
            logits[name] = np.fromfile(dump, dtype=np.float32).reshape(13, -1)
        a, b = logits["hf"], logits["gguf"]
        if args.tolerance == 0:
            if a.tobytes() != b.tobytes():
                diff = np.flatnonzero(a != b)
                sys.exit("FAILED: chunk %s: the GGUF binary's logits differ from the other's "
                         "(%d of %d values; first at %d)" % (chunk, len(diff), a.size, diff[0]))
            print("chunk %s: %d logits equal bit for bit" % (chunk, a.size))
            continue
        for t in range(a.shape[0]):
            err = float(np.max(np.abs(a[t] - b[t]))) / float(np.max(np.abs(a[t])))
            worst = max(worst, err)
            same = int(np.argmax(a[t])) == int(np.argmax(b[t]))
            print("chunk %s position %2d: rel err %.2e, argmax %d vs %d" % (
                chunk, t, err, int(np.argmax(a[t])), int(np.argmax(b[t]))))
            if err > args.tolerance or not same:
                sys.exit("FAILED: position %d (chunk %s) differs by %.2e (tolerance %.1e)" % (
                    t, chunk, err, args.tolerance))
    print("PASSED: %s %s" % (args.format, "bit for bit" if args.tolerance == 0 else
                             "worst rel err %.2e <= %.1e" % (worst, args.tolerance)))


if __name__ == "__main__":
    main()
