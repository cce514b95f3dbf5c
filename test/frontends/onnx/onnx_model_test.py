#!/usr/bin/python3
"""End to end for the ONNX frontend: a generated checkpoint written as an ONNX model
(make_onnx_model.py), compiled by ternc from both files with the same flags. The two binaries'
logits must be equal bit for bit, for the same tokens run as prefill (8 + 5), one token per call
and chunks of 3. With --ort, ONNX Runtime (npm onnxruntime-node) runs the ONNX file too, and
its logits must agree with the binary's per position:

  max |tern - ort| / max |ort| <= the form's tolerance, and the same argmax unless ORT's best two
  logits are closer than that error.

The fake-quant and MatMulInteger forms define exactly tern's computation: both run it in float32,
so the tolerance is 1e-3, as against the numpy reference. Where the float64 reference puts an
activation x * s within 1e-4 of a .5 tie, float32 implementations may round it apart (a tie flip:
one int8 step of one activation): that position and the later ones are held to 5e-2, counted and
printed, never hidden. The MatMulNBits form's tolerance, 6e-2, covers a difference of definitions:
its int8 path (accuracy_level 4) quantizes activations per block of block_size columns, BitNet
b1.58 (and tern) per token. Every position's error is printed; the worst is in the PASSED line.

  onnx_model_test.py --ternc B --gen-checkpoint G --work DIR --target T [--ort NPM_DIR]
      [--run PREFIX] [make_onnx_model.py options...]
"""
import argparse
import os
import random
import shlex
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE = os.path.join(HERE, "make_onnx_model.py")
ORT_RUN = os.path.join(HERE, "ort_run.mjs")
REFERENCE = os.path.join(HERE, "..", "..", "reference", "bitnet_reference.py")
TOLERANCE = {"matmulnbits": 6e-2, "fake-quant": 1e-3, "matmulinteger": 1e-3}
sys.path.insert(0, os.path.join(HERE, "..", "..", "e2e"))
# The compiled-model tests' runner: a binary's own "this CPU lacks" check exits 77 (skipped);
# their tie-flip thresholds, which the ONNX Runtime comparison applies the same way.
from compiled_model_test import FLIP_TOLERANCE, TIE_DISTANCE, run  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--ternc", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--format", default="bitnet-2b4t")
    p.add_argument("--gen-args", default="", help="more tern-gen-checkpoint options")
    p.add_argument("--run", default="", help="prefix that runs the binaries (an emulator)")
    p.add_argument("--ort", default="", help="folder where npm installed onnxruntime-node")
    p.add_argument("--form", default="matmulnbits", choices=sorted(TOLERANCE))
    p.add_argument("--ternc-args", default="", help="more ternc options for the ONNX model")
    p.add_argument("--differs-from-checkpoint", action="store_true",
                   help="the ONNX model is not the checkpoint's (a float layer): compare with "
                        "ONNX Runtime only")
    args, make_args = p.parse_known_args()
    make_args = ["--form=" + args.form] + make_args
    tolerance = TOLERANCE[args.form]

    os.makedirs(args.work, exist_ok=True)
    ck = os.path.join(args.work, "checkpoint")
    onnx_dir = os.path.join(args.work, "onnx")
    shutil.rmtree(onnx_dir, ignore_errors=True)
    os.makedirs(onnx_dir)
    run([args.gen_checkpoint, "--format=" + args.format, "--preset=tiny", "--seed=7", "--quiet",
         "-o", ck] + shlex.split(args.gen_args))
    model = os.path.join(onnx_dir, "model.onnx")
    print(run(["/usr/bin/python3", MAKE, ck, "-o", model] + make_args), end="")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(ck, f), onnx_dir)

    exes = {}
    sources = (("onnx", model),) if args.differs_from_checkpoint else (("hf", ck), ("onnx", model))
    for name, source in sources:
        exes[name] = os.path.join(args.work, name + ".exe")
        out = run([args.ternc, source, "--target=" + args.target, "--context=64", "--batch=8",
                   "-o", exes[name]] + (shlex.split(args.ternc_args) if name == "onnx" else []))
        if name == "onnx":
            print("".join(l + "\n" for l in out.splitlines() if "imported" in l), end="")

    rng = random.Random(11)
    tokens = [rng.randrange(512) for _ in range(13)]
    token_list = ",".join(map(str, tokens))
    prefix = shlex.split(args.run)
    logits = {}
    for chunk in ("8", "1", "3"):
        for name, exe in exes.items():
            dump = os.path.join(args.work, "%s.%s.bin" % (name, chunk))
            run(prefix + [exe, "--tokens", token_list, "--chunk", chunk, "--dump-logits", dump,
                          "--quiet"])
            logits[name, chunk] = np.fromfile(dump, dtype=np.float32)
        if args.differs_from_checkpoint:
            continue
        a, b = logits["hf", chunk], logits["onnx", chunk]
        if a.size != b.size or a.tobytes() != b.tobytes():
            diff = np.flatnonzero(a != b) if a.size == b.size else []
            sys.exit("FAILED: chunk %s: the ONNX binary's logits differ from the checkpoint "
                     "binary's (%d of %d values differ; first at %s)" % (
                         chunk, len(diff), a.size, diff[:1]))
        print("chunk %s: %d logits equal bit for bit" % (chunk, a.size))

    worst, flips = 0.0, []
    if args.ort:
        tern = logits["onnx", "8"].reshape(len(tokens), -1)
        ref_path, ties_path = (os.path.join(args.work, n) for n in ("ref.npy", "ties.npy"))
        run(["/usr/bin/python3", REFERENCE, ck, "--tokens", token_list, "--out", ref_path,
             "--ties", ties_path])
        ties = np.load(ties_path)
        with_past = "--no-past" not in make_args
        for chunk in (["1", "13"] if with_past else ["13"]):
            dump = os.path.join(args.work, "ort.%s.bin" % chunk)
            print(run(["node", ORT_RUN, "--ort", args.ort, model, "--tokens", token_list,
                       "--chunk", chunk, "--out", dump]), end="")
            ort = np.fromfile(dump, dtype=np.float32).reshape(tern.shape)
            flip_at = None
            for t in range(len(tokens)):
                scale = float(np.max(np.abs(ort[t])))
                err = float(np.max(np.abs(tern[t] - ort[t]))) / scale
                top2 = np.sort(ort[t])[-2:]
                same = int(np.argmax(tern[t])) == int(np.argmax(ort[t]))
                near_tie = top2[1] - top2[0] <= 2 * err * scale
                ok = err <= tolerance and (same or near_tie)
                flipped = ties[t] < TIE_DISTANCE or (flip_at is not None and t > flip_at)
                excused = (not ok and tolerance < FLIP_TOLERANCE and flipped and
                           err <= FLIP_TOLERANCE and (same or near_tie))
                note = "" if ok else "  <-- FAIL"
                if excused:
                    flip_at = t if flip_at is None else flip_at
                    flips.append("chunk %s position %d (%.2e)" % (chunk, t, err))
                    note = ("  <-- TIE FLIP: x * s within %.1e of a .5 tie" % ties[t]
                            if ties[t] < TIE_DISTANCE else
                            "  <-- after the tie flip at position %d" % flip_at)
                else:
                    worst = max(worst, err)
                print("ort chunk %s position %2d: rel err %.2e, argmax %d vs %d%s%s" % (
                    chunk, t, err, int(np.argmax(tern[t])), int(np.argmax(ort[t])), note,
                    "  (near tie)" if not same and ok else ""))
                if not ok and not excused:
                    sys.exit("FAILED: tern and ONNX Runtime differ at position %d (chunk %s)" %
                             (t, chunk))
    print("PASSED: %s %s on %s: %s over %d positions x 3 schedules%s" % (
              args.format, " ".join(make_args) or "(defaults)", args.target,
              "not the checkpoint's model (compared with ONNX Runtime)"
              if args.differs_from_checkpoint else
              "logits equal bit for bit to the checkpoint's binary", len(tokens),
              "; ONNX Runtime agrees within %.2e (tolerance %.0e)%s" % (
                  worst, tolerance, "" if not flips else ", except %d positions after a tie "
                  "flip: %s" % (len(flips), ", ".join(flips))) if args.ort else ""))


if __name__ == "__main__":
    main()
