#!/usr/bin/python3
"""chat_template_test.py --ternc BIN --gen-checkpoint BIN --npm DIR --work DIR [--template FILE]

A generated checkpoint (Llama 3's chat template in its tokenizer_config.json, or FILE's)
compiled by ternc, and a conversation of two turns with `-cnv` (the system message from -p,
then two user lines on stdin). Each turn must send the model the token ids Hugging Face's
transformers.js gives on the same tokenizer files: the first turn apply_chat_template([system,
user], add_generation_prompt=True); the second the text that the rendering of [system, user,
assistant: the first reply, user] adds after the first turn's text and the reply; or, when the
template rewrote the earlier turns, the tokens of that whole rendering after those it shares
with what the KV cache holds (then tern must say so). A rendered chat starts with the
tokenizer's BOS unless the template wrote it (tern_model_tokenize_chat, as llama.cpp does; the
reference's apply_chat_template adds none), so the expected ids get it the same way."""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM = "  You answer in one word.  "
USER1 = "What is the capital of France? Ünïcödé, 123 and <|eot_id|> inside.  "
USER2 = "And of Italy?"


def run(cmd, **kwargs):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       errors="replace", **kwargs)
    if r.returncode != 0:
        sys.exit("FAILED: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r


class Reference:
    """transformers.js on the checkpoint's tokenizer files (reference_chat.mjs)."""

    def __init__(self, npm, model, work):
        self.script = os.path.join(npm, "reference_chat.mjs")
        with open(os.path.join(HERE, "reference_chat.mjs")) as f, open(self.script, "w") as g:
            g.write(f.read())
        self.files = [os.path.join(model, "tokenizer.json"),
                      os.path.join(model, "tokenizer_config.json")]
        self.work = work

    def ask(self, requests):
        inp, out = os.path.join(self.work, "requests.json"), os.path.join(self.work, "answers.json")
        with open(inp, "w") as f:
            json.dump(requests, f, ensure_ascii=False)
        run(["node", self.script] + self.files + [inp, out])
        with open(out) as f:
            answers = json.load(f)
        for a in answers:
            if "error" in a:
                sys.exit("FAILED: transformers.js: " + a["error"])
        return answers


def ids_after(label, stderr):
    return [[int(t) for t in m.split()]
            for m in re.findall(r"%s of \d+ tokens:((?: \d+)*)" % label, stderr)]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ternc", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--npm", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--template")
    p.add_argument("--expect-rewrite", action="store_true",
                   help="the template rewrites earlier replies: the second turn must rewind")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(args.work, "model")
    gen = [args.gen_checkpoint, "--preset=tiny", "--quiet", "-o", model]
    if args.template:
        gen.append("--chat-template=" + args.template)
    run(gen)
    exe = os.path.join(args.work, "chat.exe")
    run([args.ternc, model, "--quiet", "-o", exe])
    r = run([exe, "-cnv", "-p", SYSTEM, "-n", "3", "--temp", "0", "--verbose-prompt", "--quiet"],
            input=USER1 + "\n" + USER2 + "\n")
    turns, replies = ids_after("turn", r.stderr), ids_after("reply", r.stderr)
    if len(turns) != 2 or len(replies) != 2:
        sys.exit("FAILED: expected two turns and two replies:\n" + r.stderr)
    resent = "the template rewrote an earlier turn" in r.stderr

    ref = Reference(args.npm, model, args.work)
    # The BOS the tokenizer adds (its post-processor's), if any.
    plain, special = ref.ask([{"encode": "x"}, {"encode_special": "x"}])
    bos = special["ids"][0] if len(special["ids"]) > len(plain["ids"]) else None

    def with_bos(ids):
        return ids if bos is None or ids[:1] == [bos] else [bos] + ids

    first = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER1}]
    one, reply = ref.ask([{"messages": first, "add_generation_prompt": True},
                          {"decode": replies[0]}])
    second = first + [{"role": "assistant", "content": reply["text"]},
                      {"role": "user", "content": USER2}]
    (two,) = ref.ask([{"messages": second, "add_generation_prompt": True}])
    held = one["text"] + reply["text"]
    extends = two["text"].startswith(held)
    first_ids = with_bos(one["ids"])
    if extends:
        (delta,) = ref.ask([{"encode": two["text"][len(held):]}])
        want = delta["ids"]
    else:
        whole, cached = with_bos(two["ids"]), turns[0] + replies[0]
        keep = 0
        while keep < len(cached) and keep < len(whole) - 1 and cached[keep] == whole[keep]:
            keep += 1
        want = whole[keep:]
    print("turn 1: tern %s\n        reference %s" % (turns[0], first_ids))
    print("reply 1: %r" % reply["text"])
    print("turn 2 (%s): tern %s\n        reference %s" % (
        "what the rendering adds" if extends else "the rewritten rendering after the kept tokens",
        turns[1], want))
    if turns[0] != first_ids:
        sys.exit("FAILED: the first turn differs from apply_chat_template")
    if resent == extends:
        sys.exit("FAILED: the rendering %s what the cache holds, but tern %s" % (
            "extends" if extends else "does not extend",
            "rewound the cache" if resent else "did not rewind the cache"))
    if args.expect_rewrite and extends:
        sys.exit("FAILED: the template was to rewrite the first reply, but its rendering extends "
                 "the first turn")
    if turns[1] != want:
        sys.exit("FAILED: the second turn differs from transformers.js")
    print("PASSED: -cnv's two turns equal transformers.js apply_chat_template (%d and %d tokens%s)"
          % (len(turns[0]), len(turns[1]),
             "" if extends else ", the second after the cache was rewound"))


if __name__ == "__main__":
    main()
