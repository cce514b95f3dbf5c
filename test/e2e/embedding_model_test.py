#!/usr/bin/env python3
"""End to end: a generated BitNet embedding model (Qwen3Model, an RMSNorm inside every
projection, last-token pooling) compiled by ternc, against the numpy reference
(test/reference/bitnet_reference.py).

1. The hidden states of fixed token ids (--dump-logits: an embedding model's rows) match the
   reference's per position: max |compiled - reference| / max |reference| <= 1e-3.
2. --embedding -p TEXT: the binary's vector of a text equals the reference's vector of the same
   tokens (the tokenizer's ids with the EOS appended, as --verbose-prompt prints them): unit
   length, max |difference| <= 1e-4, cosine >= 0.9999.
3. The same checkpoint declaring mean pooling, or the first token's without a Normalize module,
   must give another vector (the test can see the pooling convention), and that vector equals
   the reference's.

  embedding_model_test.py --ternc B --gen-checkpoint G --target T --work DIR [--run PREFIX]
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "reference", "bitnet_reference.py")
TEXT = "A ternary embedding of this sentence, Ünïcödé included."


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("FAILED: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r


def embed_text(args, exe, prefix):
    r = run(prefix + [exe, "--embedding", "-p", TEXT, "--verbose-prompt"])
    line = next(l for l in r.stderr.splitlines() if "prompt of" in l)
    tokens = [int(t) for t in line.split(":", 2)[2].split()]
    return tokens, np.array([float(x) for x in r.stdout.split()])


def reference_vector(model, tokens, work):
    out = os.path.join(work, "vector.npy")
    run([sys.executable, REFERENCE, model, "--tokens", ",".join(map(str, tokens)), "--embed",
         "--out", out])
    return np.load(out)


def compare(name, got, want):
    # Relative to the largest element: an unnormalized vector is not of unit length.
    diff = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    cosine = float(got @ want / (np.linalg.norm(got) * np.linalg.norm(want)))
    print("%s: %d floats, |v| = %.6f, max |difference| / max |v| %.2e, cosine %.8f" % (
        name, got.size, np.linalg.norm(got), diff, cosine))
    if got.shape != want.shape or diff > 1e-4 or cosine < 0.9999:
        sys.exit("FAILED: %s differs from the reference" % name)
    return diff


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ternc", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--run", default="", help="prefix that runs the binary (an emulator)")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    prefix = shlex.split(args.run)
    model = os.path.join(args.work, "model")
    run([args.gen_checkpoint, "--format=bitnet-embedding", "--preset=tiny", "--seed=5",
         "--quiet", "-o", model])
    exe = os.path.join(args.work, "model.exe")
    run([args.ternc, model, "--target=" + args.target, "--context=64", "--batch=8", "--quiet",
         "-o", exe])
    info = run(prefix + [exe, "--info"]).stdout
    print(info, end="")
    if "embedding: 64 floats, pooling last, normalized" not in info:
        sys.exit("FAILED: --info does not describe the embedding model")

    # 1. Hidden states per position.
    tokens = [5, 77, 301, 2, 499, 18, 260, 33, 120, 7, 411]
    dump = os.path.join(args.work, "hidden.bin")
    run(prefix + [exe, "--tokens", ",".join(map(str, tokens)), "--dump-logits", dump,
                  "--quiet"])
    ref_path = os.path.join(args.work, "hidden.npy")
    run([sys.executable, REFERENCE, model, "--tokens", ",".join(map(str, tokens)), "--out",
         ref_path])
    reference = np.load(ref_path)
    hidden = np.fromfile(dump, dtype=np.float32).reshape(reference.shape)
    worst = 0.0
    for t in range(len(tokens)):
        err = float(np.max(np.abs(hidden[t] - reference[t])) / np.max(np.abs(reference[t])))
        print("position %2d: rel err %.2e" % (t, err))
        worst = max(worst, err)
    if worst > 1e-3:
        sys.exit("FAILED: hidden states differ from the reference (worst %.2e)" % worst)

    # 2. A text's vector.
    ids, vector = embed_text(args, exe, prefix)
    if ids[-1] != json.load(open(os.path.join(model, "config.json")))["eos_token_id"]:
        sys.exit("FAILED: the text's tokens do not end with the EOS last-token pooling needs")
    diff = compare("last-token vector", vector, reference_vector(model, ids, args.work))

    # 3. The pooling convention is visible: mean pooling, and the first token's unnormalized,
    # give other (correct) vectors.
    apart = []
    for variant, update, normalize in [
            ("mean", dict(pooling_mode_lasttoken=False, pooling_mode_mean_tokens=True), True),
            ("cls", dict(pooling_mode_lasttoken=False, pooling_mode_cls_token=True), False)]:
        other = os.path.join(args.work, variant)
        shutil.rmtree(other, ignore_errors=True)
        shutil.copytree(model, other)
        config_path = os.path.join(other, "1_Pooling", "config.json")
        pooling = json.load(open(config_path))
        pooling.update(update)
        json.dump(pooling, open(config_path, "w"))
        if not normalize:
            modules_path = os.path.join(other, "modules.json")
            modules = [m for m in json.load(open(modules_path))
                       if not m["type"].endswith(".Normalize")]
            json.dump(modules, open(modules_path, "w"))
        other_exe = os.path.join(args.work, variant + ".exe")
        run([args.ternc, other, "--target=" + args.target, "--context=64", "--batch=8",
             "--quiet", "-o", other_exe])
        other_ids, other_vector = embed_text(args, other_exe, prefix)
        distance = float(np.max(np.abs(other_vector - vector)))
        if distance < 1e-2:
            sys.exit("FAILED: %s pooling gives the last token's vector (%.2e apart)" % (
                variant, distance))
        compare("%s-pooled vector" % variant, other_vector,
                reference_vector(other, other_ids, args.work))
        apart.append(distance)
    print("PASSED: bitnet-embedding on %s: hidden states within %.2e of the reference over %d "
          "positions; the text's last-token vector within %.2e; mean pooling (%.2e away) and the "
          "first token's unnormalized (%.2e away) equal to the reference's" % (
              args.target, worst, len(tokens), diff, apart[0], apart[1]))


if __name__ == "__main__":
    main()
