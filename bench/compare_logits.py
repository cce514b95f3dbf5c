#!/usr/bin/python3
"""Compares the logits two compiled models dumped (--dump-logits) for the same tokens.

  compare_logits.py REFERENCE.bin OTHER.bin VOCAB [--name NAME]

Per position: the largest |difference| relative to max |reference logit|, whether the argmax and
the top-5 set agree; printed as one markdown table row (worst, mean, agreements), followed by
each position whose argmax moved with the reference's margin between its best two logits (a
near-tie moves for any representation). Used by bench/head-error.sh to measure what a quantized
output head (ternc --head=q8_0, q6_k) costs against the exact one, end to end.
"""

import argparse
import sys

import numpy as np


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("reference")
    p.add_argument("other")
    p.add_argument("vocab", type=int)
    p.add_argument("--name", default="")
    args = p.parse_args(argv)
    ref = np.fromfile(args.reference, dtype=np.float32)
    got = np.fromfile(args.other, dtype=np.float32)
    if ref.size != got.size or ref.size % args.vocab:
        sys.exit("compare_logits: %d and %d logits are not the same positions of %d" %
                 (ref.size, got.size, args.vocab))
    ref = ref.reshape(-1, args.vocab).astype(np.float64)
    got = got.reshape(-1, args.vocab).astype(np.float64)
    rel = np.abs(got - ref).max(axis=1) / np.abs(ref).max(axis=1)
    argmax = np.argmax(ref, axis=1) == np.argmax(got, axis=1)
    top5 = [set(np.argsort(r)[-5:]) == set(np.argsort(g)[-5:]) for r, g in zip(ref, got)]
    n = len(ref)
    print("| %s | %.1e | %.1e | %d/%d | %d/%d |" % (args.name, rel.max(), rel.mean(),
                                                     argmax.sum(), n, sum(top5), n))
    for t in np.nonzero(~argmax)[0]:
        best2 = np.sort(ref[t])[-2:]
        print("  position %d: argmax %d -> %d; the reference's best two logits are %.3g apart "
              "(max |logit| %.3g)" % (t, np.argmax(ref[t]), np.argmax(got[t]),
                                      best2[1] - best2[0], np.abs(ref[t]).max()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
