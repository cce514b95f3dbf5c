#!/usr/bin/env python3
"""The server's log probabilities against the numpy reference's log-softmax, over HTTP (Python's
http.client) and with the official OpenAI Node SDK (logprobs_client.mjs).

A generated tiny checkpoint is compiled by ternc and served with two sessions. The reference
(test/reference/bitnet_reference.py --out) gives the float64 logits of the token sequences the
server scored: the prompt, followed by the tokens the server generated (recovered from their
text: every token of the vocabulary has a distinct text, "bytes:\\xNN..." when not whole UTF-8,
which is checked first). Its log-softmax, in float64 here, is the expected value of every log
probability, within 1e-4 absolute. A top-N list must hold the reference's best N tokens; a token
outside them is accepted only when its reference log probability is within 1e-4 of the N-th
best (a near-tie float32 may order either way), and that is printed. A generated token must be
the reference's greedy choice, or within 1e-4 of it (printed).

Checked: /v1/completions with a token-id prompt, echo and logprobs 5 and max_tokens 0 (every
prompt token; the first one's null), the same with 4 greedy tokens generated, streamed too (the
chunks' logprobs concatenated equal the whole answer's, text_offset carrying over); a text
prompt with echo (the BOS the server adds is not echoed: the first token's log probability is
real, after it); logprobs 0; logprobs without echo and max_tokens 0; echo without logprobs; a
stop sequence (the tokens it cuts off not listed); /v1/chat/completions with logprobs and
top_logprobs, streamed and not, and sampled with a temperature, top-k and a penalty (the log
probabilities still the model's own distribution's); the OpenAI Node SDK's
reading of the chat shape (streamed and not), of the completions shape and of an error; the
new values' OpenAI-style errors; /tokenize and /detokenize.

  logprobs_test.py --ternc B --gen-checkpoint G --work DIR --npm NODE_MODULES_PARENT
"""
import argparse
import json
import os
import random
import subprocess
import sys
import threading

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server_test import Detokenizer, Server, check, failures, llama3_chat, run  # noqa: E402

REFERENCE = os.path.join(HERE, "..", "reference", "bitnet_reference.py")
CONTEXT = 128
TOLERANCE = 1e-4  # absolute, on log probabilities
NEAR_TIE = 1e-4
PROMPT_IDS = 40  # > 2 chunks of --batch=16: the scored rows come from three forward calls
GENERATED = 4

worst = {}  # check name: the largest |server - reference| seen


def prompt_ids(exe, text):
    """The binary's tokenization of a -p prompt (BOS first, added tokens recognized); its output
    (a sampled token) may not be UTF-8."""
    cmd = exe + ["-p", text, "-n", "1", "--temp", "0", "--verbose-prompt"]
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        sys.exit("FAILED: %r: exit status %d:\n%s" % (cmd, result.returncode, err))
    line = next(l for l in err.splitlines() if "prompt of" in l)
    return [int(t) for t in line.split(":", 2)[2].split()]


def compare(name, got, want):
    """A log probability against the reference's, within TOLERANCE; the worst is kept."""
    if not check(isinstance(got, (int, float)) and not isinstance(got, bool),
                 "%s: %r is not a number" % (name.split(" [")[0], got)):
        return
    diff = abs(float(got) - float(want))
    key = name.split(" [")[0]
    worst[key] = max(worst.get(key, 0.0), diff)
    check(diff <= TOLERANCE, "%s: %.10g, the reference's %.10g (|diff| %.3g)" % (
        name, got, want, diff))


def log_softmax(logits):
    logits = np.asarray(logits, dtype=np.float64)
    m = logits.max(axis=-1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))


def whole_utf8(piece):
    try:
        piece.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def token_text(piece):
    """A token's text as OpenAI writes it: itself when whole UTF-8, else "bytes:\\xNN..."."""
    if whole_utf8(piece):
        return piece.decode("utf-8")
    return "bytes:" + "".join("\\x%02x" % b for b in piece)


def characters(data):
    """The characters that begin in UTF-8 bytes (the bytes that do not continue one)."""
    return sum(1 for b in data if b & 0xC0 != 0x80)


class Vocab:
    """The checkpoint's tokens (tokenizer.json, decoded here): id <-> text and bytes."""

    def __init__(self, detok):
        self.pieces = detok.pieces
        self.by_text, self.by_bytes = {}, {}
        for i, piece in self.pieces.items():
            self.by_text.setdefault(token_text(piece), []).append(i)
            self.by_bytes.setdefault(piece, []).append(i)
        same = [t for t, ids in self.by_text.items() if len(ids) > 1]
        check(not same, "tokens of the same text (their ids cannot be recovered): %r" % same[:5])
        print("vocabulary: %d tokens, each of a distinct text" % len(self.pieces))

    def id_of_text(self, text):
        ids = self.by_text.get(text, [])
        check(len(ids) == 1, "token text %r: ids %r" % (text, ids))
        return ids[0] if ids else None

    def id_of_bytes(self, data):
        ids = self.by_bytes.get(bytes(data), [])
        check(len(ids) == 1, "token bytes %r: ids %r" % (bytes(data), ids))
        return ids[0] if ids else None

    def text(self, ids):
        return b"".join(self.pieces[i] for i in ids)


class References:
    """The reference's log probabilities of token sequences (row i: the distribution of token
    i + 1), each sequence run once; a sequence that is the prefix of one run already reuses it
    (the model is causal)."""

    def __init__(self, model, work):
        self.model, self.work, self.runs = model, work, []

    def __call__(self, ids):
        ids = list(ids)
        for run_ids, lp in self.runs:
            if run_ids[:len(ids)] == ids:
                return lp
        path = os.path.join(self.work, "reference-%d.npy" % len(self.runs))
        run([sys.executable, REFERENCE, self.model, "--tokens", ",".join(map(str, ids)),
             "--out", path])
        lp = log_softmax(np.load(path))
        self.runs.append((ids, lp))
        return lp


def check_top(name, row, alternatives, n):
    """`alternatives` [(id, logprob)] as the server listed them at a position whose reference
    log probabilities are `row`: each value the reference's, and the ids the reference's best
    n (a near-tie excepted)."""
    for i, value in alternatives:
        compare(name + " top", value, row[i])
    ids = [i for i, _ in alternatives]
    if not check(len(ids) == n and len(set(ids)) == n,
                 "%s: %d alternatives %r, not %d" % (name, len(ids), ids, n)):
        return
    if n == 0:
        return
    order = np.argsort(-row, kind="stable")
    best = row[order[:n]]
    tie = False
    for i in ids:
        if i in order[:n]:
            continue
        if row[i] >= best[-1] - NEAR_TIE:
            print("NEAR-TIE: %s: token %d (%.9f) instead of the reference's %d-th best "
                  "(%.9f); its sorted values not compared" % (name, i, row[i], n, best[-1]))
            tie = True
        else:
            check(False, "%s: token %d (reference %.9f) is not among the best %d (%r, down to "
                  "%.9f)" % (name, i, row[i], n, list(order[:n]), best[-1]))
    if not tie:
        values = sorted((v for _, v in alternatives), reverse=True)
        for k, (got, want) in enumerate(zip(values, best)):
            compare("%s sorted top [%d]" % (name, k), got, want)


def check_generated(name, row, token):
    """A greedy (temperature 0) choice: the reference's best, or within NEAR_TIE of it."""
    best = int(np.argmax(row))
    if token == best:
        return
    if row[token] >= row[best] - NEAR_TIE:
        print("NEAR-TIE: %s: token %d (%.9f) instead of the reference's greedy %d (%.9f)" % (
            name, token, row[token], best, row[best]))
    else:
        check(False, "%s: token %d (%.9f), the reference's greedy choice %d (%.9f)" % (
            name, token, row[token], best, row[best]))


def check_completion_logprobs(name, vocab, refs, logprobs, text, sequence, first, n,
                              null_first):
    """/v1/completions' logprobs for tokens sequence[first:] (the echoed prompt and the
    generated ones), the reference's log-softmax of `sequence` the expected values. With
    null_first, the first token (sequence[0], nothing before it) has none."""
    if not check(isinstance(logprobs, dict) and
                 set(logprobs) == {"tokens", "token_logprobs", "top_logprobs", "text_offset"},
                 "%s: logprobs %r" % (name, logprobs)):
        return
    ids = sequence[first:]
    count = len(ids)
    lengths = [check(len(logprobs[key]) == count, "%s: %d %s, not %d" % (
        name, len(logprobs[key]), key, count))
        for key in ("tokens", "token_logprobs", "top_logprobs", "text_offset")]
    if not all(lengths):
        return
    lp = refs(sequence)
    want_tokens = [token_text(vocab.pieces[i]) for i in ids]
    check(logprobs["tokens"] == want_tokens, "%s: tokens %r, the ids' %r" % (
        name, logprobs["tokens"], want_tokens))
    data = vocab.text(ids)
    check(text == data.decode("utf-8", "replace"), "%s: text %r, the tokens' %r" % (
        name, text, data))
    offsets, done = [], 0
    for i in ids:
        offsets.append(characters(data[:done]))
        done += len(vocab.pieces[i])
    check(logprobs["text_offset"] == offsets and offsets[0] == 0,
          "%s: text_offset %r, the tokens' %r" % (name, logprobs["text_offset"], offsets))
    check(all(a <= b for a, b in zip(offsets, offsets[1:])), "%s: text_offset decreases" % name)
    for k, i in enumerate(ids):
        position = first + k
        value = logprobs["token_logprobs"][k]
        top = logprobs["top_logprobs"][k]
        if position == 0:
            check(null_first and value is None and top is None,
                  "%s: the first token's logprob %r, top %r (nothing precedes it)" % (
                      name, value, top))
            continue
        row = lp[position - 1]
        compare("%s [%d]" % (name, position), value, row[i])
        if not check(isinstance(top, dict) and want_tokens[k] in top,
                     "%s [%d]: top_logprobs %r without the token %r" % (
                         name, position, top, want_tokens[k])):
            continue
        check(top[want_tokens[k]] == value, "%s [%d]: the token's own top_logprobs entry %r, "
              "its logprob %r" % (name, position, top[want_tokens[k]], value))
        # n alternatives, and the token itself when it is not one of them.
        entries = [(vocab.id_of_text(t), v) for t, v in top.items()]
        if len(entries) == n + 1:
            entries = [(t, v) for t, v in entries if t != i]
        check_top("%s [%d]" % (name, position), row, entries, n)


def check_chat_logprobs(name, vocab, refs, logprobs, content_text, prompt, n, greedy=True):
    """/v1/chat/completions' logprobs of the generated tokens after `prompt` (greedy: each the
    reference's best); returns their ids (recovered from their bytes)."""
    if not check(isinstance(logprobs, dict) and set(logprobs) == {"content", "refusal"} and
                 logprobs["refusal"] is None and isinstance(logprobs["content"], list),
                 "%s: logprobs %r" % (name, logprobs)):
        return []
    entries = logprobs["content"]
    ids = []
    for k, e in enumerate(entries):
        if not check(set(e) == {"token", "logprob", "bytes", "top_logprobs"},
                     "%s [%d]: entry %r" % (name, k, e)):
            return []
        ids.append(vocab.id_of_bytes(e["bytes"]))
        check(e["token"] == token_text(bytes(e["bytes"])), "%s [%d]: token %r, bytes %r" % (
            name, k, e["token"], e["bytes"]))
    if None in ids:
        return []
    check(vocab.text(ids).decode("utf-8", "replace") == content_text,
          "%s: content %r, the tokens' %r" % (name, content_text, vocab.text(ids)))
    lp = refs(prompt + ids)
    for k, (i, e) in enumerate(zip(ids, entries)):
        position = len(prompt) + k
        row = lp[position - 1]
        if greedy:
            check_generated("%s [%d]" % (name, k), row, i)
        compare("%s [%d]" % (name, k), e["logprob"], row[i])
        top = e["top_logprobs"]
        values = [a["logprob"] for a in top]
        check(values == sorted(values, reverse=True), "%s [%d]: top_logprobs not sorted: %r" % (
            name, k, values))
        alternatives = []
        for a in top:
            if not check(set(a) == {"token", "logprob", "bytes"} and
                         a["token"] == token_text(bytes(a["bytes"])),
                         "%s [%d]: alternative %r" % (name, k, a)):
                continue
            alternatives.append((vocab.id_of_bytes(a["bytes"]), a["logprob"]))
            if alternatives[-1][0] == i:
                check(a["logprob"] == e["logprob"], "%s [%d]: the token's alternative %r, its "
                      "logprob %r" % (name, k, a["logprob"], e["logprob"]))
        check_top("%s [%d]" % (name, k), row, alternatives, n)
    return ids


def events_logprobs(events, chat):
    """A stream's chunks: (text, logprobs concatenated, finish_reason, chunks with logprobs)."""
    text, finish, with_logprobs = "", None, 0
    merged = {"content": []} if chat else {"tokens": [], "token_logprobs": [],
                                           "top_logprobs": [], "text_offset": []}
    for e in events:
        for choice in e["choices"]:
            text += (choice["delta"].get("content") or "") if chat else choice["text"]
            finish = choice["finish_reason"] or finish
            lp = choice.get("logprobs")
            if lp is None:
                continue
            with_logprobs += 1
            for key in merged:
                merged[key] += lp[key]
    return text, merged, finish, with_logprobs


def check_errors(server):
    cases = [
        ("/v1/completions", {"prompt": [1, 2], "logprobs": 6}, "logprobs", "invalid_value",
         "Invalid 'logprobs': expected a value <= 5, but got 6 instead."),
        ("/v1/completions", {"prompt": [1, 2], "logprobs": -1}, "logprobs", "invalid_value",
         "Invalid 'logprobs': expected a value >= 0, but got -1 instead."),
        ("/v1/completions", {"prompt": [1, 2], "logprobs": True}, "logprobs", "invalid_type",
         "Invalid type for 'logprobs': expected an integer, but got a boolean instead."),
        ("/v1/completions", {"prompt": [1, 2], "echo": 1}, "echo", "invalid_type",
         "Invalid type for 'echo': expected a boolean, but got an integer instead."),
        ("/v1/completions", {"prompt": [1, 2], "max_tokens": -1}, "max_tokens", "invalid_value",
         "Invalid 'max_tokens': expected a value >= 0, but got -1 instead."),
        ("/v1/completions", {"prompt": [1, 2], "top_logprobs": 2}, "top_logprobs",
         "unknown_parameter", "Unrecognized request argument supplied: top_logprobs"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                  "top_logprobs": 2}, "top_logprobs", "invalid_value",
         "Invalid 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used."),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                  "logprobs": False, "top_logprobs": 2}, "top_logprobs",
         "invalid_value",
         "Invalid 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used."),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                  "logprobs": True, "top_logprobs": 21}, "top_logprobs",
         "invalid_value", "Invalid 'top_logprobs': expected a value <= 20, but got 21 instead."),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                  "logprobs": True, "top_logprobs": -1}, "top_logprobs",
         "invalid_value", "Invalid 'top_logprobs': expected a value >= 0, but got -1 instead."),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                  "logprobs": 1}, "logprobs", "invalid_type",
         "Invalid type for 'logprobs': expected a boolean, but got an integer instead."),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                  "echo": True}, "echo", "unknown_parameter",
         "Unrecognized request argument supplied: echo"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}],
                                  "max_tokens": 0}, "max_tokens", "invalid_value",
         "Invalid 'max_tokens': expected a value >= 1, but got 0 instead."),
    ]
    for path, body, param, code, message in cases:
        status, headers, payload = server.request("POST", path, body)
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = {}
        check(status == 400 and answer == {"error": {"message": message,
                                                     "type": "invalid_request_error",
                                                     "param": param, "code": code}} and
              headers.get("Content-Type") == "application/json",
              "%s %r: %d %r" % (path, body, status, payload))
    print("errors: %d cases, each a 400 with the message, param and code expected" % len(cases))
    return len(cases)


def check_tokenize(server, vocab, bos, eot):
    text = "Ünïcödé: the model's weights, <|eot_id|> and 12345."
    # parse_special is true unless false (llama-server's default): the added token is one id.
    status, _, parsed = server.post("/tokenize", {"content": text})
    check(status == 200 and set(parsed) == {"tokens"} and parsed["tokens"].count(eot) == 1 and
          vocab.text(parsed["tokens"]) == text.encode(),
          "/tokenize: %d %r (one <|eot_id|> %d expected)" % (status, parsed, eot))
    status, _, plain = server.post("/tokenize", {"content": text, "parse_special": False})
    ids = plain.get("tokens", [])
    check(status == 200 and eot not in ids and vocab.text(ids) == text.encode(),
          "/tokenize parse_special false: %d %r (no <|eot_id|> %d expected)" % (status, plain,
                                                                               eot))
    for tokens in (ids, parsed["tokens"]):
        status, _, back = server.post("/detokenize", {"tokens": tokens})
        check(status == 200 and back == {"content": text}, "/detokenize %r: %d %r" % (
            tokens, status, back))
    status, _, special = server.post("/tokenize", {"content": text, "add_special": True,
                                                   "parse_special": False})
    check(status == 200 and special["tokens"] == [bos] + ids,
          "/tokenize add_special: %r, not the BOS %d then %r" % (special, bos, ids))
    status, _, pieces = server.post("/tokenize", {"content": text, "with_pieces": True,
                                                  "parse_special": False})
    ok = status == 200 and [p.get("id") for p in pieces["tokens"]] == ids
    for p in pieces["tokens"] if ok else []:
        piece = vocab.pieces[p["id"]]
        want = piece.decode("utf-8") if whole_utf8(piece) else list(piece)
        ok = ok and p["piece"] == want and set(p) == {"id", "piece"}
    check(ok, "/tokenize with_pieces: %d %r" % (status, pieces))
    check(any(isinstance(p["piece"], list) for p in pieces["tokens"]),
          "/tokenize with_pieces: no piece that is not whole UTF-8 (%r)" % pieces["tokens"])
    status, _, joined = server.post("/detokenize", {"tokens": [bos] + parsed["tokens"]})
    check(status == 200 and joined == {"content": "<|begin_of_text|>" + text},
          "/detokenize of special tokens: %r" % joined)
    cases = [("/detokenize", {"tokens": [1, 999999]}, "tokens", "invalid_value"),
             ("/detokenize", {"tokens": [1, -2]}, "tokens[1]", "invalid_type"),
             ("/detokenize", {"tokens": "12"}, "tokens", "invalid_type"),
             ("/detokenize", {}, "tokens", "missing_required_parameter"),
             ("/tokenize", {"content": 5}, "content", "invalid_type"),
             ("/tokenize", {"content": "x", "add_special": 1}, "add_special", "invalid_type"),
             ("/tokenize", {"content": "x", "foo": True}, "foo", "unknown_parameter"),
             ("/tokenize", {}, "content", "missing_required_parameter")]
    for path, body, param, code in cases:
        status, _, answer = server.post(path, body)
        error = answer.get("error", {})
        check(status == 400 and error.get("param") == param and error.get("code") == code and
              error.get("type") == "invalid_request_error" and error.get("message"),
              "%s %r: %d %r" % (path, body, status, answer))
    print("/tokenize and /detokenize: a round trip of %d tokens, add_special, parse_special, "
          "with_pieces; %d errors" % (len(ids), len(cases)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ternc", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--npm", required=True, help="where npm installed the openai package")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(args.work, "model")
    run([args.gen_checkpoint, "--preset=tiny", "--seed=7", "--quiet", "-o", model])
    exe = os.path.join(args.work, "tiny")
    run([args.ternc, model, "--context=%d" % CONTEXT, "--batch=16", "--quiet", "-o", exe])
    config = json.load(open(os.path.join(model, "config.json")))
    bos = config["bos_token_id"]
    vocab = Vocab(Detokenizer(os.path.join(model, "tokenizer.json")))
    eot = vocab.id_of_text("<|eot_id|>")
    refs = References(model, args.work)

    # A token-id prompt of whole-UTF-8 tokens but for one character split over two byte tokens
    # ("é": 0xC3 then 0xA9, each "bytes:\xNN" alone).
    rng = random.Random(11)
    whole = [i for i in range(config["vocab_size"]) if i != bos and whole_utf8(vocab.pieces[i])]
    ids = [rng.choice(whole) for _ in range(PROMPT_IDS - 2)]
    ids[10:10] = [vocab.id_of_bytes(b"\xc3"), vocab.id_of_bytes(b"\xa9")]
    text = "Ünïcödé: the quick brown fox's weights"
    messages = [{"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Say hi, ünïcödé"}]
    sampling = {"temperature": 0, "ignore_eos": True}

    server = Server([exe], ["-np", "2", "--alias", "tiny", "--quiet"])
    try:
        status, _, tokenized = server.post("/tokenize", {"content": text, "add_special": True})
        text_ids = tokenized["tokens"]
        cli_ids = prompt_ids([exe], text)
        check(status == 200 and text_ids[0] == bos and text_ids == cli_ids,
              "/tokenize %r: %r, the binary's -p %r" % (text, tokenized, cli_ids))
        status, _, tokenized = server.post("/tokenize", {"content": llama3_chat(messages),
                                                         "add_special": True,
                                                         "parse_special": True})
        chat_ids = tokenized["tokens"]
        cli_ids = prompt_ids([exe], llama3_chat(messages))
        check(status == 200 and chat_ids == cli_ids,
              "/tokenize of the chat: %r, the binary's -p %r" % (tokenized, cli_ids))

        # The token-id and the text prompt at once (two sessions: their prompts may share
        # forward calls).
        bodies = {
            "ids": {"prompt": ids, "echo": True, "logprobs": 5, "max_tokens": 0},
            "text": {"prompt": text, "echo": True, "logprobs": 2, "max_tokens": 0},
        }
        answers = {}

        def post(name):
            try:
                answers[name] = server.post("/v1/completions", bodies[name])
            except Exception as e:  # reported below
                answers[name] = (0, {}, repr(e))

        threads = [threading.Thread(target=post, args=(name,)) for name in bodies]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

        # A token-id prompt scored whole: nothing precedes its first token.
        status, _, answer = answers.get("ids", (0, {}, "no answer"))
        if check(status == 200, "ids, echo, logprobs 5: %d %r" % (status, answer)):
            choice = answer["choices"][0]
            check(choice["finish_reason"] == "length" and
                  answer["usage"]["completion_tokens"] == 0 and
                  answer["usage"]["prompt_tokens"] == len(ids),
                  "ids, echo: finish %r, usage %r" % (choice["finish_reason"], answer["usage"]))
            check(choice["text"] == vocab.text(ids).decode("utf-8"), "ids, echo: text %r" %
                  choice["text"])
            status, _, joined = server.post("/detokenize", {"tokens": ids})
            check(joined == {"content": choice["text"]}, "/detokenize of the prompt: %r" % joined)
            check_completion_logprobs("ids echo logprobs 5", vocab, refs, choice["logprobs"],
                                      choice["text"], ids, 0, 5, True)
            print("ids, echo, logprobs 5: %d tokens scored; %d alternatives each" % (
                len(ids), 5))

        # A text prompt: the BOS the server adds is not echoed.
        status, _, answer = answers.get("text", (0, {}, "no answer"))
        if check(status == 200, "text, echo, logprobs 2: %d %r" % (status, answer)):
            choice = answer["choices"][0]
            check(choice["text"] == text and answer["usage"]["prompt_tokens"] == len(text_ids)
                  and answer["usage"]["completion_tokens"] == 0 and
                  choice["finish_reason"] == "length",
                  "text, echo: %r, usage %r" % (choice["text"], answer["usage"]))
            check(choice["logprobs"] and choice["logprobs"]["token_logprobs"][0] is not None,
                  "text, echo: the first token's logprob is null")
            check_completion_logprobs("text echo logprobs 2", vocab, refs, choice["logprobs"],
                                      choice["text"], text_ids, 1, 2, False)
            print("text, echo, logprobs 2: %d tokens after the BOS scored" % (len(text_ids) - 1))

        # logprobs 0: each token's own entry alone.
        status, _, answer = server.post("/v1/completions", dict(bodies["text"], logprobs=0))
        if check(status == 200, "text, echo, logprobs 0: %d %r" % (status, answer)):
            choice = answer["choices"][0]
            check_completion_logprobs("text echo logprobs 0", vocab, refs, choice["logprobs"],
                                      choice["text"], text_ids, 1, 0, False)
            check(all(len(t) == 1 for t in choice["logprobs"]["top_logprobs"]),
                  "logprobs 0: %r" % choice["logprobs"]["top_logprobs"])

        # logprobs without echo, nothing generated: no tokens. Echo alone: the text, no logprobs.
        status, _, answer = server.post("/v1/completions", {"prompt": ids, "logprobs": 2,
                                                            "max_tokens": 0})
        check(status == 200 and answer["choices"][0]["text"] == "" and
              answer["choices"][0]["logprobs"] == {"tokens": [], "token_logprobs": [],
                                                   "top_logprobs": [], "text_offset": []},
              "logprobs, max_tokens 0, no echo: %d %r" % (status, answer))
        status, _, answer = server.post("/v1/completions", {"prompt": text, "echo": True,
                                                            "max_tokens": 0})
        check(status == 200 and answer["choices"][0]["text"] == text and
              answer["choices"][0]["logprobs"] is None,
              "echo without logprobs: %d %r" % (status, answer))

        # The same prompt with greedy tokens generated after it.
        body = dict(bodies["ids"], logprobs=1, max_tokens=GENERATED, **sampling)
        status, _, answer = server.post("/v1/completions", body)
        generated_answer = answer if status == 200 else None
        gen = []
        if check(status == 200, "ids, echo, %d generated: %d %r" % (GENERATED, status, answer)):
            choice = answer["choices"][0]
            lp = choice["logprobs"]
            check(choice["finish_reason"] == "length" and
                  answer["usage"]["completion_tokens"] == GENERATED,
                  "ids, generated: finish %r, usage %r" % (choice["finish_reason"],
                                                           answer["usage"]))
            gen = [vocab.id_of_text(t) for t in lp["tokens"][len(ids):]]
            check(len(gen) == GENERATED and None not in gen, "ids, generated tokens %r" %
                  lp["tokens"][len(ids):])
            if len(gen) == GENERATED and None not in gen:
                rows = refs(ids + gen)
                for k, i in enumerate(gen):
                    check_generated("ids generated [%d]" % k, rows[len(ids) + k - 1], i)
                check_completion_logprobs("ids echo + generated logprobs 1", vocab, refs, lp,
                                          choice["text"], ids + gen, 0, 1, True)
            print("ids, echo, logprobs 1, %d generated: %r" % (GENERATED,
                                                                lp["tokens"][len(ids):]))

        # Streamed: the chunks' logprobs are the whole answer's.
        if generated_answer:
            events = server.stream("/v1/completions", dict(body, stream=True))
            streamed, merged, finish, chunks = events_logprobs(events, False)
            whole = generated_answer["choices"][0]
            check(streamed == whole["text"] and finish == "length",
                  "streamed: text %r, finish %r; not streamed %r" % (streamed, finish,
                                                                    whole["text"]))
            check(merged == whole["logprobs"], "streamed: logprobs %r, not streamed %r" % (
                merged, whole["logprobs"]))
            check(chunks >= 2 and events[0]["choices"][0]["logprobs"]["token_logprobs"][0] is None
                  and events[-1]["choices"][0]["logprobs"] is None,
                  "streamed: %d chunks with logprobs; first %r, last %r" % (
                      chunks, events[0]["choices"][0].get("logprobs"),
                      events[-1]["choices"][0].get("logprobs")))
            print("ids, echo, logprobs 1, streamed: %d chunks with logprobs, concatenated equal "
                  "to the whole answer's" % chunks)

        # A stop sequence (the third generated token's text, which the two before it do not
        # hold): the tokens it cuts off are not listed, streamed or not.
        stop = vocab.pieces[gen[2]].decode("utf-8") if len(gen) == GENERATED and \
            whole_utf8(vocab.pieces[gen[2]]) else ""
        if stop and stop.strip() and stop not in vocab.text(gen[:2]).decode("utf-8", "replace"):
            stop_body = {"prompt": ids, "logprobs": 2, "max_tokens": GENERATED, "stop": [stop],
                         **sampling}
            status, _, answer = server.post("/v1/completions", stop_body)
            if check(status == 200, "stop %r: %d %r" % (stop, status, answer)):
                choice = answer["choices"][0]
                check(choice["finish_reason"] == "stop", "stop %r: finish %r" % (
                    stop, choice["finish_reason"]))
                check_completion_logprobs("ids stop logprobs 2", vocab, refs, choice["logprobs"],
                                          choice["text"], ids + gen[:2], len(ids), 2, False)
                events = server.stream("/v1/completions", dict(stop_body, stream=True))
                streamed, merged, finish, _ = events_logprobs(events, False)
                check(streamed == choice["text"] and finish == "stop" and
                      merged == choice["logprobs"], "stop %r, streamed: %r %r, not streamed %r" %
                      (stop, streamed, merged, choice["logprobs"]))
                print("stop %r: %r, the tokens before it listed" % (stop, choice["text"]))
        else:
            check(False, "no stop sequence to test in the generated tokens %r" % gen)

        # Chat, streamed and not.
        chat_body = {"messages": messages, "logprobs": True, "top_logprobs": 3, "max_tokens": 5,
                     **sampling}
        status, _, answer = server.post("/v1/chat/completions", chat_body)
        if check(status == 200, "chat, logprobs: %d %r" % (status, answer)):
            choice = answer["choices"][0]
            check(answer["usage"]["prompt_tokens"] == len(chat_ids) and
                  answer["usage"]["completion_tokens"] == 5 and
                  choice["finish_reason"] == "length",
                  "chat: usage %r, finish %r" % (answer["usage"], choice["finish_reason"]))
            gen = check_chat_logprobs("chat top_logprobs 3", vocab, refs, choice["logprobs"],
                                      choice["message"]["content"], chat_ids, 3)
            check(len(gen) == 5, "chat: %d tokens with logprobs, not 5" % len(gen))
            print("chat, logprobs, top_logprobs 3: %r" % choice["message"]["content"])
            events = server.stream("/v1/chat/completions", dict(chat_body, stream=True))
            streamed, merged, finish, chunks = events_logprobs(events, True)
            check(streamed == choice["message"]["content"] and finish == "length" and
                  merged == {"content": choice["logprobs"]["content"]},
                  "chat streamed: %r %r, not streamed %r" % (streamed, merged,
                                                             choice["logprobs"]))
            check(all(e["choices"][0].get("logprobs") is None for e in (events[0], events[-1])),
                  "chat streamed: the role or finish chunk has logprobs")
            print("chat, streamed: %d chunks with logprobs, concatenated equal to the whole "
                  "answer's" % chunks)
        status, _, answer = server.post("/v1/chat/completions", dict(
            chat_body, logprobs=True, top_logprobs=None, max_tokens=2))
        check(status == 200 and all(e["top_logprobs"] == [] for e in
                                    answer["choices"][0]["logprobs"]["content"]),
              "chat, logprobs without top_logprobs: %d %r" % (status, answer))
        check_chat_logprobs("chat top_logprobs 0", vocab, refs,
                            answer["choices"][0]["logprobs"],
                            answer["choices"][0]["message"]["content"], chat_ids, 0)
        status, _, answer = server.post("/v1/chat/completions", dict(
            chat_body, logprobs=False, top_logprobs=None, max_tokens=2))
        check(status == 200 and answer["choices"][0]["logprobs"] is None,
              "chat, logprobs false: %d %r" % (status, answer))

        # Sampled with a temperature, top-k and a penalty: the log probabilities are still the
        # model's own distribution's.
        status, _, answer = server.post("/v1/chat/completions", dict(
            chat_body, temperature=1.5, top_k=3, frequency_penalty=1.5, seed=5, max_tokens=6))
        if check(status == 200, "chat, sampled: %d %r" % (status, answer)):
            choice = answer["choices"][0]
            check_chat_logprobs("chat sampled top_logprobs 3", vocab, refs, choice["logprobs"],
                                choice["message"]["content"], chat_ids, 3, greedy=False)
            print("chat, sampled (temperature 1.5, top_k 3, frequency_penalty 1.5): %r" %
                  choice["message"]["content"])

        # The OpenAI Node SDK: the same values as over HTTP.
        sdk_chat = {"model": "tiny", "messages": messages, "logprobs": True, "top_logprobs": 2,
                    "max_tokens": 4, "temperature": 0}
        sdk_completion = {"model": "tiny", "prompt": ids, "echo": True, "logprobs": 3,
                          "max_tokens": 0}
        sdk_error = {"model": "tiny", "messages": messages, "top_logprobs": 2}
        path = os.path.join(args.work, "sdk-requests.json")
        with open(path, "w") as f:
            json.dump({"chat": sdk_chat, "completion": sdk_completion, "error": sdk_error}, f)
        out = run(["node", os.path.join(HERE, "logprobs_client.mjs"),
                   os.path.join(args.npm, "node_modules"),
                   "http://127.0.0.1:%d/v1" % server.port, path]).stdout
        sdk = json.loads(out)
        status, _, http_chat = server.post("/v1/chat/completions", sdk_chat)
        http_choice = http_chat["choices"][0]
        check_chat_logprobs("SDK chat top_logprobs 2", vocab, refs, sdk["chat"].get("logprobs"),
                            sdk["chat"].get("content"), chat_ids, 2)
        check(sdk["chat"] == {"content": http_choice["message"]["content"],
                              "finish_reason": "length", "logprobs": http_choice["logprobs"]},
              "SDK chat: %r, over HTTP %r" % (sdk["chat"], http_choice))
        check(sdk["chat_stream"].get("content") == http_choice["message"]["content"] and
              sdk["chat_stream"].get("logprobs") == http_choice["logprobs"]["content"] and
              sdk["chat_stream"].get("finish_reason") == "length" and
              sdk["chat_stream"].get("chunks_with_logprobs", 0) >= 2,
              "SDK chat streamed: %r, over HTTP %r" % (sdk["chat_stream"], http_choice))
        status, _, http_completion = server.post("/v1/completions", sdk_completion)
        http_choice = http_completion["choices"][0]
        check_completion_logprobs("SDK completion echo logprobs 3", vocab, refs,
                                  sdk["completion"].get("logprobs"),
                                  sdk["completion"].get("text"), ids, 0, 3, True)
        check(sdk["completion"] == {"text": http_choice["text"], "finish_reason": "length",
                                    "logprobs": http_choice["logprobs"],
                                    "completion_tokens": 0},
              "SDK completion: %r, over HTTP %r" % (sdk["completion"], http_choice))
        message = ("Invalid 'top_logprobs': 'logprobs' must be set to true when "
                   "'top_logprobs' is used.")
        check(sdk["error"] == {"bad_request": True, "status": 400,
                               "type": "invalid_request_error", "param": "top_logprobs",
                               "code": "invalid_value", "error_message": message,
                               "message": "400 " + message},
              "SDK error: %r" % sdk["error"])
        print("OpenAI Node SDK: chat (streamed and not), completions and an error read as over "
              "HTTP")

        # Errors; the tokenizer's endpoints.
        errors = check_errors(server)
        check_tokenize(server, vocab, bos, eot)
    finally:
        code = server.stop()
    check(code == 0, "SIGTERM: exit status %r" % code)

    print("max |server - reference| per check (tolerance %g):" % TOLERANCE)
    for name in sorted(worst):
        print("  %-45s %.3g" % (name, worst[name]))
    if failures:
        sys.exit("FAILED: %d checks:\n%s" % (len(failures), "\n".join(failures)))
    print("PASSED: logprobs: the server's log probabilities equal the reference's log-softmax "
          "within %g (max %.3g) for echoed and generated tokens in both endpoint shapes, "
          "streamed and not; %d errors as the OpenAI API has them; /tokenize and /detokenize; "
          "the OpenAI Node SDK reads them" % (TOLERANCE, max(worst.values()), errors))


if __name__ == "__main__":
    main()
