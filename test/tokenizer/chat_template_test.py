#!/usr/bin/python3
"""chat_template_test.py --ternc BIN --gen-checkpoint BIN --npm DIR --work DIR

A generated checkpoint (Llama 3's chat template in its tokenizer_config.json) compiled by ternc:
the first turn of `-cnv` (system message from -p, then a user line on stdin) must be the token
ids Hugging Face's transformers.js gives for apply_chat_template([system, user],
add_generation_prompt=True) on the same tokenizer files."""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM = "  You answer in one word.  "
USER = "What is the capital of France? Ünïcödé, 123 and <|eot_id|> inside.  "


def run(cmd, **kwargs):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace", **kwargs)
    if r.returncode != 0:
        sys.exit("FAILED: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ternc", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--npm", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(args.work, "model")
    run([args.gen_checkpoint, "--preset=tiny", "--quiet", "-o", model])
    exe = os.path.join(args.work, "chat.exe")
    run([args.ternc, model, "--quiet", "-o", exe])
    r = run([exe, "-cnv", "-p", SYSTEM, "-n", "2", "--temp", "0", "--verbose-prompt", "--quiet"],
            input=USER + "\n")
    m = re.search(r"turn of \d+ tokens:((?: \d+)+)", r.stderr)
    if not m:
        sys.exit("FAILED: no turn printed:\n" + r.stderr)
    got = [int(t) for t in m.group(1).split()]
    script = os.path.join(args.npm, "reference_tokenize.mjs")
    with open(os.path.join(HERE, "reference_tokenize.mjs")) as f, open(script, "w") as g:
        g.write(f.read())
    ref = run(["node", script, "--chat", os.path.join(model, "tokenizer.json"),
               os.path.join(model, "tokenizer_config.json"), SYSTEM, USER])
    want = json.loads(ref.stdout)
    print("tern:      %s\nreference: %s" % (got, want))
    if got != want:
        sys.exit("FAILED: the first chat turn differs from apply_chat_template")
    print("PASSED: -cnv's first turn equals transformers.js apply_chat_template (%d tokens)"
          % len(got))


if __name__ == "__main__":
    main()
