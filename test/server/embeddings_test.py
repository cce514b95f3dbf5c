#!/usr/bin/env python3
"""--server with an embedding model: POST /v1/embeddings over HTTP (Python's http.client) and
with the official OpenAI Node SDK, against the numpy reference's vectors.

A generated BitNet embedding model (tern-gen-checkpoint --format=bitnet-embedding) is compiled
by ternc and served. Checked: a single text, a batch of texts, token ids and arrays of them
(used as given), encoding_format base64 (little-endian float32), dimensions (the first N,
renormalized), usage counts; the SDK's default call (which asks for base64 and decodes it) and
its float call; OpenAI-style errors for bad input, unknown fields, dimensions above the model's,
a completion asked of an embedding model and an embedding asked of a language model. Every
vector must be within 1e-4 of the reference's (and a cosine >= 0.9999)."""
import argparse
import base64
import json
import os
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from server_test import Server, check, failures, run  # noqa: E402

REFERENCE = os.path.join(HERE, "..", "reference", "bitnet_reference.py")
TEXTS = ["A ternary embedding.", "Ünïcödé and digits 12345, and <|end_of_text|> written in it.",
         "short"]


def reference(model, tokens):
    out = run([sys.executable, REFERENCE, model, "--tokens", ",".join(map(str, tokens)),
               "--embed"])
    return np.array([float(x) for x in out.stdout.split()])


def text_tokens(exe, text):
    """The ids the binary embeds a text as (--embedding --verbose-prompt: EOS appended)."""
    err = run(exe + ["--embedding", "-p", text, "--verbose-prompt"]).stderr
    line = next(l for l in err.splitlines() if "prompt of" in l)
    return [int(t) for t in line.split(":", 2)[2].split()]


def close(name, got, want):
    got = np.asarray(got, dtype=np.float64)
    ok = got.shape == want.shape and float(np.max(np.abs(got - want))) <= 1e-4 and \
        float(got @ want / (np.linalg.norm(got) * np.linalg.norm(want))) >= 0.9999
    return check(ok, "%s: %s vs the reference %s" % (name, got[:4], want[:4]))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ternc", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--npm", required=True)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(args.work, "model")
    run([args.gen_checkpoint, "--format=bitnet-embedding", "--preset=tiny", "--quiet", "-o",
         model])
    exe = os.path.join(args.work, "embed.exe")
    run([args.ternc, model, "--quiet", "--context=64", "-o", exe])
    ids = [text_tokens([exe], t) for t in TEXTS]
    want = [reference(model, t) for t in ids]
    tokens = [[7, 300, 12, 45], [500, 3]]
    want_tokens = [reference(model, t) for t in tokens]

    server = Server([exe], ["--quiet"])
    try:
        status, _, answer = server.post("/v1/embeddings", {"model": "embed", "input": TEXTS[0]})
        check(status == 200 and answer["object"] == "list" and len(answer["data"]) == 1 and
              answer["data"][0]["object"] == "embedding" and answer["data"][0]["index"] == 0 and
              answer["usage"] == {"prompt_tokens": len(ids[0]), "total_tokens": len(ids[0])},
              "single text: %d %r" % (status, {k: v for k, v in answer.items() if k != "data"}))
        close("single text", answer["data"][0]["embedding"], want[0])

        status, _, answer = server.post("/v1/embeddings", {"input": TEXTS})
        check(status == 200 and [d["index"] for d in answer["data"]] == [0, 1, 2] and
              answer["usage"]["prompt_tokens"] == sum(map(len, ids)), "batch: %d" % status)
        for i, d in enumerate(answer["data"]):
            close("batch[%d]" % i, d["embedding"], want[i])

        status, _, answer = server.post("/v1/embeddings", {"input": tokens[0]})
        check(status == 200, "token ids: %d %r" % (status, answer))
        close("token ids", answer["data"][0]["embedding"], want_tokens[0])
        status, _, answer = server.post("/v1/embeddings", {"input": tokens})
        check(status == 200 and answer["usage"]["prompt_tokens"] == 6, "arrays of ids: %d" % status)
        for i, d in enumerate(answer["data"]):
            close("arrays of ids[%d]" % i, d["embedding"], want_tokens[i])

        status, _, answer = server.post("/v1/embeddings", {"input": TEXTS[1],
                                                           "encoding_format": "base64"})
        raw = base64.b64decode(answer["data"][0]["embedding"])
        close("base64", struct.unpack("<%df" % (len(raw) // 4), raw), want[1])

        status, _, answer = server.post("/v1/embeddings", {"input": TEXTS[2], "dimensions": 16})
        cut = want[2][:16] / np.linalg.norm(want[2][:16])
        check(status == 200 and len(answer["data"][0]["embedding"]) == 16, "dimensions: %d" % status)
        close("dimensions 16", answer["data"][0]["embedding"], cut)

        for body, param, code in [
                ({"input": []}, "input", "invalid_value"),
                ({"input": ""}, "input", "invalid_value"),
                ({"input": {"x": 1}}, "input", "invalid_type"),
                ({"input": [1, -2]}, "input[1]", "invalid_value"),
                ({"input": ["ok", 5]}, "input[1]", "invalid_type"),
                ({"model": "embed"}, "input", "missing_required_parameter"),
                ({"input": "x", "encoding_format": "int8"}, "encoding_format", "invalid_value"),
                ({"input": "x", "dimensions": 65}, "dimensions", "invalid_value"),
                ({"input": "x", "temperature": 1}, "temperature", "unknown_parameter"),
                ({"input": [1] * 65}, "input", "context_length_exceeded"),
                ({"input": [999999]}, "input", "invalid_value")]:
            status, _, answer = server.post("/v1/embeddings", body)
            error = answer.get("error", {})
            check(status == 400 and error.get("param") == param and error.get("code") == code,
                  "%r: %d %r" % (body, status, answer))
        status, _, answer = server.post("/v1/completions", {"prompt": "Hi"})
        check(status == 400 and "is an embedding model" in answer["error"]["message"],
              "completion of an embedding model: %d %r" % (status, answer))

        calls = [{"api": "embeddings", "body": {"model": "embed", "input": TEXTS}},
                 {"api": "embeddings", "body": {"model": "embed", "input": TEXTS[0],
                                                "encoding_format": "float"}},
                 {"api": "embeddings", "body": {"model": "embed", "input": "x",
                                                "dimensions": 99}}]
        calls_path = os.path.join(args.work, "calls.json")
        with open(calls_path, "w") as f:
            json.dump(calls, f)
        out = run(["node", os.path.join(HERE, "openai_client.mjs"),
                   os.path.join(args.npm, "node_modules"),
                   "http://127.0.0.1:%d/v1" % server.port, calls_path]).stdout
        sdk_batch, sdk_float, sdk_error = json.loads(out)
        check(sdk_batch.get("indices") == [0, 1, 2], "SDK batch: %r" % sdk_batch)
        for i, v in enumerate(sdk_batch.get("vectors", [])):
            close("SDK batch[%d] (base64, decoded by the SDK)" % i, v, want[i])
        close("SDK float", sdk_float.get("vectors", [[0]])[0], want[0])
        check(sdk_error.get("status") == 400 and sdk_error.get("param") == "dimensions",
              "SDK error: %r" % sdk_error)
    finally:
        server.stop()

    # A language model has no embeddings.
    lm = os.path.join(args.work, "lm")
    run([args.gen_checkpoint, "--preset=tiny", "--quiet", "-o", lm])
    lm_exe = os.path.join(args.work, "lm.exe")
    run([args.ternc, lm, "--quiet", "-o", lm_exe])
    server = Server([lm_exe], ["--quiet"])
    try:
        status, _, answer = server.post("/v1/embeddings", {"input": "Hi"})
        check(status == 400 and "is a language model" in answer["error"]["message"] and
              answer["error"]["param"] == "model", "embedding of a language model: %r" % answer)
    finally:
        server.stop()
    if failures:
        sys.exit("FAILED: %d checks" % len(failures))
    print("PASSED: /v1/embeddings: %d texts, token ids, base64, dimensions and 11 errors equal "
          "the reference over HTTP, and the OpenAI Node SDK reads them" % len(TEXTS))


if __name__ == "__main__":
    main()
