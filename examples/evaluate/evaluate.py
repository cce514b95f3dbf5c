#!/usr/bin/env python3
"""Scores multiple-choice questions against a tern server as lm-evaluation-harness does.

Each item of arc_items.jsonl is in the ARC dataset's format ({"id", "question", "choices":
{"text", "label"}, "answerKey"}). As the harness's arc_easy task, the context is
"Question: {question}\nAnswer:" and each choice's continuation " {text}"; as its
local-completions model (with add_bos_token=True), the pair is tokenized by the server
(POST /tokenize: the context, then context + continuation, the continuation's ids being what
follows the context's), and the ids are scored with one POST /v1/completions each:

    {"model": M, "prompt": [ids], "temperature": 0, "max_tokens": 1, "logprobs": 1,
     "seed": 1234, "echo": true}

The continuation's log-likelihood is the sum of choices[0].logprobs.token_logprobs[ctxlen:-1]
(the last entry is the one generated token), and it is greedy when each of those equals the
largest of its top_logprobs. acc takes the choice of the largest log-likelihood, acc_norm of the
largest log-likelihood per character of the choice's text (the harness's acc_norm). Python's
standard library only.
"""

import argparse
import http.client
import json
import math
import os
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


class ServerError(Exception):
    pass


def call(url, path, body=None):
    """GET (body None) or POST JSON to url + path; the answer's JSON, or ServerError."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data,
                                     headers={"Content-Type": "application/json"})
    what = ("POST " if data is not None else "GET ") + path
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        try:
            error = json.loads(text)["error"]
            message = "%s: %s" % (error.get("code") or error.get("type"), error["message"])
        except (ValueError, KeyError, TypeError):
            message = text
        raise ServerError("%s: HTTP %d %s" % (what, e.code, message)) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        raise ServerError("%s: no answer (%s): did the server stop? Its log says more"
                          % (what, getattr(e, "reason", None) or e)) from None
    if isinstance(answer, dict) and "error" in answer:
        raise ServerError("%s: %s" % (what, answer["error"]))
    return answer


_tokens = {}


def tokenize(url, text):
    """The text's ids, the BOS first (the harness's tok_encode with add_bos_token=True)."""
    if text not in _tokens:
        _tokens[text] = call(url, "/tokenize", {"content": text, "add_special": True})["tokens"]
    return _tokens[text]


def encode_pair(url, context, continuation):
    """lm-eval's TemplateLM._encode_pair: trailing spaces of the context go to the
    continuation; the continuation's ids are those of context + continuation after the
    context's."""
    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    whole = tokenize(url, context + continuation)
    context_ids = tokenize(url, context)
    return context_ids, whole[len(context_ids):]


def loglikelihood(url, model, context_ids, continuation_ids):
    """(sum of the continuation's log probabilities, greedy) as lm-eval's local-completions
    parse_logprobs computes them."""
    ids = context_ids + continuation_ids
    payload = {"model": model, "prompt": [ids], "temperature": 0, "max_tokens": 1,
               "logprobs": 1, "seed": 1234, "echo": True}
    answer = call(url, "/v1/completions", payload)
    logprobs = answer["choices"][0]["logprobs"]
    if logprobs is None:
        raise ServerError("POST /v1/completions: the answer has no logprobs")
    values, top = logprobs["token_logprobs"], logprobs["top_logprobs"]
    # lm-eval reads the echoed prompt's entries then exactly one generated token's, and drops
    # the last entry unseen: any other count would shift what it sums.
    if len(values) != len(ids) + 1:
        raise ServerError(
            "POST /v1/completions: %d log probabilities for %d prompt tokens and max_tokens 1 "
            "(finish_reason %r, completion_tokens %s): lm-eval's token_logprobs[ctxlen:-1] "
            "would not be the continuation's"
            % (len(values), len(ids), answer["choices"][0].get("finish_reason"),
               answer.get("usage", {}).get("completion_tokens")))
    ctxlen = len(context_ids)
    scored, scored_top = values[ctxlen:-1], top[ctxlen:-1]
    greedy = all(v == max(t.values()) for v, t in zip(scored, scored_top))
    return sum(scored), greedy


def argmax(values):
    return max(range(len(values)), key=values.__getitem__)


def stderr_of(p, n):
    """lm-eval's stderr of a mean of 0/1 scores: the sample standard deviation / sqrt(n)."""
    return math.sqrt(p * (1 - p) / (n - 1)) if n > 1 else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--model", help="the model's name (default: the server's GET /v1/models)")
    parser.add_argument("--items", default=os.path.join(HERE, "arc_items.jsonl"),
                        help="ARC-format items, one JSON object a line")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    if url.endswith("/v1"):
        url = url[:-3]

    with open(args.items) as f:
        items = [json.loads(line) for line in f if line.strip()]
    try:
        model = args.model or call(url, "/v1/models")["data"][0]["id"]
        print("%d items of %s, 0-shot, scored by %s (model %s)"
              % (len(items), os.path.basename(args.items), url, model))
        print("%-34s %-4s %-8s %-4s  %s" % ("item", "acc", "acc_norm", "gold",
                                            "log-likelihood of each choice (* greedy)"))
        acc = acc_norm = greedy_count = requests = 0
        for item in items:
            context = "Question: " + item["question"] + "\nAnswer:"
            texts, labels = item["choices"]["text"], item["choices"]["label"]
            gold = labels.index(item["answerKey"])
            lls, marks = [], []
            for text in texts:
                context_ids, continuation_ids = encode_pair(url, context, " " + text)
                ll, greedy = loglikelihood(url, model, context_ids, continuation_ids)
                lls.append(ll)
                marks.append("*" if greedy else "")
                greedy_count += greedy
                requests += 1
            pred = argmax(lls)
            pred_norm = argmax([ll / len(text) for ll, text in zip(lls, texts)])
            acc += pred == gold
            acc_norm += pred_norm == gold
            print("%-34s %-4s %-8s %-4s  %s"
                  % (item["id"][-34:], labels[pred], labels[pred_norm], labels[gold],
                     "  ".join("%s %.2f%s" % (l, ll, m) for l, ll, m in zip(labels, lls, marks))))
    except ServerError as e:
        print("evaluate: %s" % e, file=sys.stderr)
        return 1

    n = len(items)
    print()
    print("|  Task   |n-shot| Metric |Value |   |Stderr|")
    print("|---------|-----:|--------|-----:|---|-----:|")
    for name, hits in (("acc", acc), ("acc_norm", acc_norm)):
        p = hits / n
        print("|%-9s|%6d|%-8s|%.4f|±  |%.4f|"
              % ("arc_items" if name == "acc" else "", 0, name, p, stderr_of(p, n)))
    print()
    print("%d of %d continuations were the greedy ones. With random weights the accuracy is "
          "chance: about 25 %% with four choices." % (greedy_count, requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
