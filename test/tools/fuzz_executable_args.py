#!/usr/bin/python3
"""fuzz_executable_args.py BINARY [CASES]

Runs a compiled model's executable with random, mostly malformed command lines (unknown flags,
missing values, numbers out of range or not numbers, huge token ids, empty lists) and fails if
any run is killed by a signal, hangs, or exits non-zero without saying why on stderr. The binary
must answer every bad argument with an error, never a crash (exit status 0, 1 or 2)."""

import random
import subprocess
import sys

FLAGS = ["--tokens", "-p", "-f", "--verbose-prompt", "-n", "--n-predict", "--temp", "--top-k", "--top-p", "--min-p",
         "--repeat-penalty", "--repeat-last-n", "--seed", "--chunk", "-t", "--threads",
         "--dump-logits", "--weights", "--bench", "--ignore-eos", "--no-verify", "--quiet",
         "--mmap", "-d", "-r", "-o",
         "--info", "--frobnicate", "-", "--", ""]
VALUES = ["", "\xff\xfe not utf-8", "<|eot_id|>", "héllo wörld", "0", "1", "-1", "2", "3", "7", "-7", "1e9", "1e309", "nan", "inf", "-inf", "0.5",
          "abc", "1,2", "1,,2", ",", "502,10", "99999999999", "-0", "4294967296",
          "9223372036854775808", "1 2", "0x10", "/nonexistent/file", "1,2,3,4,5,6,7,8,9,10,11"]


def main(binary, cases=300):
    rng = random.Random(20261122)
    for case in range(int(cases)):
        args = []
        for _ in range(rng.randrange(0, 6)):
            args.append(rng.choice(FLAGS))
            if rng.random() < 0.8:
                args.append(rng.choice(VALUES))
        if rng.random() < 0.5:  # usually give tokens, so runs get past parsing
            args += ["--tokens", rng.choice(["502", "502,10", "1,2,3", "511", "512", "-1"])]
        # Keep generated runs short.
        args += ["-n", "2"] if "--bench" not in args and rng.random() < 0.3 else []
        try:
            r = subprocess.run([binary] + args, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, errors="replace", timeout=60)
        except subprocess.TimeoutExpired:
            sys.exit("FAILED: case %d hangs: %s" % (case, args))
        if r.returncode < 0 or r.returncode not in (0, 1, 2):
            sys.exit("FAILED: case %d exit status %d: %s\n%s" % (case, r.returncode, args,
                                                                  r.stderr))
        if r.returncode != 0 and "error" not in r.stderr:
            sys.exit("FAILED: case %d exits %d without an error message: %s" %
                     (case, r.returncode, args))
    print("%s: %s command lines, no crash, every failure explained" % (binary, cases))


if __name__ == "__main__":
    main(*sys.argv[1:])
