#!/usr/bin/python3
"""chat_template_parity_test.py --render BIN --gen-checkpoint BIN --npm DIR --work DIR
                                --template FILE [--tokenizer-kind KIND] [--gguf]

A checkpoint generated with FILE as its chat template: tern (the importer's check, the weights
blob, the runtime's Jinja renderer and tokenizer: tern-render-chat) and Hugging Face's
transformers.js (apply_chat_template, on the same tokenizer.json and tokenizer_config.json)
render every conversation of chat_conversations.json, with and without the generation prompt.
Fails unless each gives the same text and the same token ids, or both refuse it (the template's
raise_exception, with transformers.js's message inside tern's). With --gguf, tern reads the
template from a GGUF file tern-gen-checkpoint wrote it into (tokenizer.chat_template)."""

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
    p.add_argument("--render", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--npm", required=True, help="folder with node_modules")
    p.add_argument("--work", required=True)
    p.add_argument("--template", required=True)
    p.add_argument("--tokenizer-kind", default="byte-level")
    p.add_argument("--gguf", action="store_true")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(args.work, "model")
    run([args.gen_checkpoint, "--preset=tiny", "--quiet", "--chat-template=" + args.template,
         "--tokenizer-kind=" + args.tokenizer_kind, "-o", model])
    source = model
    if args.gguf:
        run([args.gen_checkpoint, "--preset=tiny", "--quiet", "--format=gguf-i2_s",
             "--chat-template=" + args.template, "-o", model + "-gguf"])
        source = os.path.join(model + "-gguf", "model.gguf")

    with open(os.path.join(HERE, "chat_conversations.json")) as f:
        conversations = json.load(f)
    cases = [dict(c, add_generation_prompt=g) for c in conversations for g in (True, False)]
    cases_path = os.path.join(args.work, "cases.json")
    with open(cases_path, "w") as f:
        json.dump(cases, f, ensure_ascii=False)

    ours_path, ref_path = os.path.join(args.work, "tern.json"), os.path.join(args.work, "ref.json")
    run([args.render, source, cases_path, ours_path])
    # ESM imports ignore NODE_PATH: run the script from a copy inside the npm folder.
    script = os.path.join(args.npm, "reference_chat.mjs")
    with open(os.path.join(HERE, "reference_chat.mjs")) as f, open(script, "w") as g:
        g.write(f.read())
    run(["node", script, os.path.join(model, "tokenizer.json"),
         os.path.join(model, "tokenizer_config.json"), cases_path, ref_path])
    with open(ours_path) as f:
        ours = json.load(f)
    with open(ref_path) as f:
        ref = json.load(f)

    if len(ours) != len(cases) or len(ref) != len(cases):
        sys.exit("FAILED: %d cases, tern answered %d, transformers.js %d" % (
            len(cases), len(ours), len(ref)))
    failures, rendered, refused = [], 0, 0
    for i, (case, a, b) in enumerate(zip(cases, ours, ref)):
        label = "case %d (%d messages, add_generation_prompt=%s)" % (
            i, len(case["messages"]), case["add_generation_prompt"])
        if "error" in b or "error" in a:
            if "error" in a and "error" in b and b["error"] and b["error"] in a["error"]:
                refused += 1
                continue
            failures.append("%s: tern %r, transformers.js %r" % (
                label, a.get("error", "rendered"), b.get("error", "rendered")))
            continue
        if a["text"] != b["text"]:
            failures.append("%s: text differs\n  tern:            %r\n  transformers.js: %r"
                            % (label, a["text"], b["text"]))
        elif a["ids"] != b["ids"]:
            failures.append("%s: same text, ids differ\n  tern:            %s\n"
                            "  transformers.js: %s" % (label, a["ids"], b["ids"]))
        else:
            rendered += 1
    for line in failures:
        print(line)
    if failures:
        sys.exit("FAILED: %d of %d cases differ from transformers.js" % (len(failures), len(cases)))
    if rendered < len(cases) // 2:
        sys.exit("FAILED: only %d of %d cases rendered (the rest refused by both)"
                 % (rendered, len(cases)))
    print("PASSED: %s: %d conversations rendered and tokenized as transformers.js does, %d refused "
          "by both" % (os.path.basename(args.template), rendered, refused))


if __name__ == "__main__":
    main()
