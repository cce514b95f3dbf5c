#!/usr/bin/env python3
"""The compiled executable's --server, over HTTP on loopback (Python's http.client).

A generated checkpoint is compiled by ternc; the server runs with two sessions. Every answer is
checked against the independent numpy reference (test/reference/bitnet_reference.py): the
prompt's token ids (given, tokenized by the binary's -p, or a chat rendered here in Llama 3's
header format) are run through the reference's greedy generation and decoded with the
checkpoint's tokenizer.json, here. A divergence is accepted only after a step where the
reference's best two logits are within 1e-4 (float32 and float64 may order a near-tie
differently); only the text before it is compared then, and that is printed.

Checked: completions from text and from token ids and chat completions, each streamed and not,
all sent at once (eight requests on two sessions); Server-Sent Events framing, the first chat
chunk's role, finish reasons, usage (also as a stream's last chunk), prompt reuse between
requests (cached_tokens), stop sequences, the context limit; GET /metrics (llama-server's names;
counters consistent with the requests); --api-key (401s, open /health); OpenAI-style
errors for bad JSON,
unknown fields, wrong types and values, unsupported values, long prompts, unknown URLs and
methods, a body over 16 MiB; malformed HTTP; /v1/models and /health; a port in use; SIGTERM. With --npm, the official OpenAI Node
SDK (npm "openai", openai_client.mjs) makes the same kinds of calls, streamed and not, and must
read the same texts and errors.

  server_test.py --ternc B --gen-checkpoint G --work DIR [--npm NODE_MODULES_PARENT]
      [--target T --run "qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib -cpu max"]
"""
import argparse
import http.client
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "reference", "bitnet_reference.py")
CONTEXT = 128
TOKENS = 12  # generated per request
NEAR_TIE = 1e-4

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL: " + message, flush=True)
    return condition


def run(cmd, **kwargs):
    print("+ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)
    if result.returncode != 0:
        sys.exit("FAILED: exit status %d:\n%s%s" % (result.returncode, result.stdout,
                                                    result.stderr))
    return result


class Detokenizer:
    """tokenizer.json's byte-level BPE vocabulary, decoded to bytes (GPT-2's byte mapping)."""

    def __init__(self, path):
        tokenizer = json.load(open(path, encoding="utf-8"))
        printable = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) +
                     list(range(0xAE, 0xFF + 1)))
        chars, extra = {}, 0
        for b in range(256):
            if b in printable:
                chars[chr(b)] = b
            else:
                chars[chr(256 + extra)] = b
                extra += 1
        self.pieces = {}
        for text, token in tokenizer["model"]["vocab"].items():
            self.pieces[token] = bytes(chars[c] for c in text)
        for added in tokenizer.get("added_tokens", []):
            self.pieces[added["id"]] = added["content"].encode("utf-8")

    def text(self, ids):
        return b"".join(self.pieces[i] for i in ids).decode("utf-8", "replace")


class Expected:
    """The reference's greedy continuation of a prompt, as text."""

    def __init__(self, model, detok, prompt_ids):
        out = run([sys.executable, REFERENCE, model, "--tokens", ",".join(map(str, prompt_ids)),
                   "--generate", str(TOKENS)]).stdout
        lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
        self.ids = [int(t) for t in lines["generated"].split()]
        margins = [float(m) for m in lines["margins"].split()]
        # Tokens up to the first near-tie must match exactly.
        self.sure = next((i for i, m in enumerate(margins) if m < NEAR_TIE), len(self.ids))
        self.prompt_tokens = len(prompt_ids)
        self.text = detok.text(self.ids)
        self.sure_text = detok.text(self.ids[:self.sure])

    def matches(self, text):
        if self.sure == len(self.ids):
            return text == self.text
        print("NEAR-TIE: the reference's step %d is a near-tie; comparing %d tokens" % (
            self.sure, self.sure))
        return text.startswith(self.sure_text.rstrip("\ufffd"))


class Server:
    def __init__(self, exe, args, env=None):
        self.proc = subprocess.Popen(exe + ["--server", "--port", "0"] + args,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        line = self.proc.stdout.readline()
        print(line.strip(), flush=True)
        if not line.startswith("listening on http://127.0.0.1:"):
            sys.exit("FAILED: the server did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(line.split(":")[2].split()[0])
        self.log = []
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()

    def _read_log(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def request(self, method, path, body=None, raw=None, headers=None):
        """(status, headers, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        sent = {"Content-Type": "application/json"} if data is not None else {}
        sent.update(headers or {})
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        return response.status, dict(response.getheaders()), payload

    def post(self, path, body):
        status, headers, payload = self.request("POST", path, body)
        return status, headers, json.loads(payload)

    def stream(self, path, body):
        """The events of a streamed answer: JSON objects, then "[DONE]"; also checks framing."""
        status, headers, payload = self.request("POST", path, body)
        check(status == 200, "%s stream: status %d" % (path, status))
        check(headers.get("Content-Type", "").startswith("text/event-stream"),
              "%s stream: Content-Type %r" % (path, headers.get("Content-Type")))
        text = payload.decode("utf-8")
        check(text.endswith("\n\n"), "%s stream: does not end with a blank line" % path)
        events = []
        for block in text.split("\n\n")[:-1]:
            if not check(block.startswith("data: "), "%s stream: event %r" % (path, block)):
                continue
            data = block[len("data: "):]
            events.append(data if data == "[DONE]" else json.loads(data))
        check(events and events[-1] == "[DONE]", "%s stream: no [DONE] at the end" % path)
        return events[:-1]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = "hung"
        self.reader.join(timeout=5)
        return code


def completion_text(chat, answer):
    choice = answer["choices"][0]
    return choice["message"]["content"] if chat else choice["text"]


def check_answer(name, chat, answer, expected, finish="length"):
    check(answer.get("object") == ("chat.completion" if chat else "text_completion"),
          "%s: object %r" % (name, answer.get("object")))
    check(answer["id"].startswith("chatcmpl-" if chat else "cmpl-"), "%s: id %r" % (
        name, answer["id"]))
    check(answer["model"] == "tiny", "%s: model %r" % (name, answer["model"]))
    text = completion_text(chat, answer)
    check(expected.matches(text), "%s: text %r, the reference's %r" % (name, text, expected.text))
    check(answer["choices"][0]["finish_reason"] == finish, "%s: finish_reason %r" % (
        name, answer["choices"][0]["finish_reason"]))
    usage = answer["usage"]
    check(usage["prompt_tokens"] == expected.prompt_tokens and
          usage["completion_tokens"] == TOKENS and
          usage["total_tokens"] == expected.prompt_tokens + TOKENS,
          "%s: usage %r" % (name, usage))
    print("%s: %r" % (name, text))


def check_stream(name, chat, events, expected, include_usage):
    if chat:
        first = events.pop(0)
        check(first["choices"][0]["delta"] == {"role": "assistant", "content": ""},
              "%s: first chunk %r" % (name, first))
    usage = events.pop()["usage"] if include_usage else None
    final = events.pop()
    check(final["choices"][0]["finish_reason"] == "length", "%s: final chunk %r" % (name, final))
    ids = {e["id"] for e in events + [final]}
    check(len(ids) == 1, "%s: chunks of several ids %r" % (name, ids))
    for e in events:
        check(e["object"] == ("chat.completion.chunk" if chat else "text_completion") and
              e["choices"][0]["finish_reason"] is None, "%s: chunk %r" % (name, e))
    text = "".join(e["choices"][0]["delta"]["content"] if chat else e["choices"][0]["text"]
                   for e in events)
    check(expected.matches(text), "%s: streamed %r, the reference's %r" % (
        name, text, expected.text))
    if include_usage:
        check(usage["prompt_tokens"] == expected.prompt_tokens and
              usage["completion_tokens"] == TOKENS, "%s: usage chunk %r" % (name, usage))
    print("%s: %d chunks %r" % (name, len(events), text))


def llama3_chat(messages):
    """Llama 3's header format, written out here (what the generated tokenizer_config.json's
    chat_template renders, after its BOS)."""
    return "".join("<|start_header_id|>%s<|end_header_id|>\n\n%s<|eot_id|>" % (
        m["role"], m["content"].strip()) for m in messages) + \
        "<|start_header_id|>assistant<|end_header_id|>\n\n"


def prompt_ids(exe, text):
    """The binary's tokenization of a -p prompt (BOS first, added tokens recognized)."""
    err = run(exe + ["-p", text, "-n", "1", "--temp", "0", "--verbose-prompt"]).stderr
    line = next(l for l in err.splitlines() if "prompt of" in l)
    return [int(t) for t in line.split(":", 2)[2].split()]


def check_sdk(server, args, bodies, expected):
    """The OpenAI Node SDK's view of the same requests."""
    calls = [{"api": "models"},
             {"api": "completions", "body": dict(bodies["text"][2], model="tiny")},
             {"api": "chat", "body": dict(bodies["chat"][2], model="tiny", stream=True,
                                          stream_options={"include_usage": True})},
             {"api": "chat", "body": dict(bodies["chat"][2], model="tiny")},
             {"api": "completions", "body": dict(bodies["ids"][2], model="tiny", stream=True)},
             {"api": "chat", "body": {"model": "tiny", "messages": []}},
             {"api": "completions", "body": {"model": "tiny", "prompt": "x", "foo": 1}}]
    path = os.path.join(args.work, "sdk-calls.json")
    with open(path, "w") as f:
        json.dump(calls, f)
    out = run(["node", os.path.join(HERE, "openai_client.mjs"),
               os.path.join(args.npm, "node_modules"),
               "http://127.0.0.1:%d/v1" % server.port, path]).stdout
    models, text, chat_stream, chat, ids_stream, empty, unknown = json.loads(out)
    check(models == {"ids": ["tiny"]}, "SDK models: %r" % models)
    for name, got, want in (("text", text, expected["text"]),
                            ("chat streamed", chat_stream, expected["chat"]),
                            ("chat", chat, expected["chat"]),
                            ("ids streamed", ids_stream, expected["ids"])):
        check("text" in got and want.matches(got["text"]) and got["finish_reason"] == "length",
              "SDK %s: %r, the reference's %r" % (name, got, want.text))
    check(chat_stream.get("usage", {}).get("completion_tokens") == TOKENS,
          "SDK chat stream usage: %r" % chat_stream.get("usage"))
    check(empty.get("status") == 400 and empty.get("code") == "invalid_value" and
          empty.get("param") == "messages", "SDK empty messages: %r" % empty)
    check(unknown.get("status") == 400 and unknown.get("code") == "unknown_parameter" and
          unknown.get("param") == "foo" and
          "Unrecognized request argument supplied: foo" in unknown.get("message", ""),
          "SDK unknown field: %r" % unknown)
    print("OpenAI Node SDK: %d calls as expected" % len(calls))


def parse_metrics(text):
    """Prometheus text: {name: value}, and {name: type} from the # TYPE lines."""
    values, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values, types


def check_metrics(server, requests, tokens):
    """GET /metrics after `requests` concurrent requests of `tokens` generated tokens each."""
    status, headers, payload = server.request("GET", "/metrics")
    values, types = parse_metrics(payload.decode())
    check(status == 200 and headers.get("Content-Type", "").startswith(
        "text/plain; version=0.0.4"), "/metrics: %d %r" % (status, headers))
    want = {"llamacpp:prompt_tokens_total": "counter", "llamacpp:prompt_seconds_total": "counter",
            "llamacpp:tokens_predicted_total": "counter",
            "llamacpp:tokens_predicted_seconds_total": "counter",
            "llamacpp:n_decode_total": "counter", "llamacpp:n_busy_slots_per_decode": "gauge",
            "llamacpp:prompt_tokens_seconds": "gauge",
            "llamacpp:predicted_tokens_seconds": "gauge",
            "llamacpp:kv_cache_usage_ratio": "gauge", "llamacpp:kv_cache_tokens": "gauge",
            "llamacpp:requests_processing": "gauge", "llamacpp:requests_deferred": "gauge",
            "tern_requests_served_total": "counter", "tern_requests_refused_total": "counter"}
    for name, kind in want.items():
        check(types.get(name) == kind and name in values, "/metrics: %s %r" % (name, kind))
    # Each request's last token is sampled, never evaluated.
    check(values.get("llamacpp:tokens_predicted_total", 0) >= requests * (tokens - 1),
          "/metrics: %r generated tokens" % values.get("llamacpp:tokens_predicted_total"))
    check(values.get("llamacpp:requests_processing") == 0 and
          values.get("llamacpp:requests_deferred") == 0 and
          values.get("tern_requests_served_total", 0) >= requests,
          "/metrics after the requests: %r" % values)
    check(0 < values.get("llamacpp:kv_cache_usage_ratio", 0) <= 1, "/metrics: KV-cache usage")
    # How many requests overlapped depends on timing (a tiny model answers in a millisecond):
    # load_test.py asserts the batching, under 64 clients.
    check(values.get("llamacpp:n_busy_slots_per_decode", 0) >= 1,
          "/metrics: %r sessions per forward call" %
          values.get("llamacpp:n_busy_slots_per_decode"))
    print("metrics: %d generated tokens, %.2f sessions per forward call" % (
        values["llamacpp:tokens_predicted_total"], values["llamacpp:n_busy_slots_per_decode"]))


def check_api_key(prefix, exe):
    """--api-key: every endpoint but /health and /v1/models wants 'Authorization: Bearer KEY';
    the key may come from TERN_API_KEY; a bad key file stops the server at start."""
    server = Server(prefix + [exe], ["--api-key", "s3cret-key", "--quiet"])
    body = {"prompt": [1, 2], "max_tokens": 2}
    try:
        for path in ("/health", "/v1/models"):
            status, _, _ = server.request("GET", path)
            check(status == 200, "--api-key: %s without a key: %d" % (path, status))
        cases = [({}, "You didn't provide an API key"),
                 ({"Authorization": "Bearer s3cret-kez"}, "Incorrect API key provided"),
                 ({"Authorization": "Bearer s3cret-key2"}, "Incorrect API key provided"),
                 ({"Authorization": "Basic s3cret-key"}, "Incorrect API key provided")]
        for headers, message in cases:
            status, got, payload = server.request("POST", "/v1/completions", body,
                                                  headers=headers)
            error = json.loads(payload).get("error", {})
            check(status == 401 and error.get("code") == "invalid_api_key" and
                  error.get("type") == "invalid_request_error" and
                  message in error.get("message", "") and
                  got.get("WWW-Authenticate") == "Bearer",
                  "--api-key %r: %d %r" % (headers, status, payload))
        status, _, _ = server.request("GET", "/metrics")
        check(status == 401, "--api-key: /metrics without a key: %d" % status)
        for scheme in ("Bearer", "bearer"):
            status, _, payload = server.request("POST", "/v1/completions", body, headers={
                "Authorization": scheme + " s3cret-key"})
            check(status == 200, "--api-key, %s: %d %r" % (scheme, status, payload))
        status, _, payload = server.request("GET", "/metrics",
                                            headers={"Authorization": "Bearer s3cret-key"})
        values, _ = parse_metrics(payload.decode())
        check(status == 200 and values.get("tern_requests_unauthorized_total") == 5,
              "--api-key: /metrics with the key: %d %r" % (status, values))
    finally:
        server.stop()
    server = Server(prefix + [exe], ["--quiet"], env=dict(os.environ, TERN_API_KEY="from-env"))
    try:
        status, _, _ = server.request("POST", "/v1/completions", body)
        check(status == 401, "TERN_API_KEY: without the key: %d" % status)
        status, _, _ = server.request("POST", "/v1/completions", body,
                                      headers={"Authorization": "Bearer from-env"})
        check(status == 200, "TERN_API_KEY: with the key: %d" % status)
    finally:
        server.stop()
    started = subprocess.run(prefix + [exe, "--server", "--port", "0", "--api-key-file",
                                       "/nonexistent/key"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=60)
    check(started.returncode == 2 and
          "--api-key-file /nonexistent/key: No such file or directory" in started.stderr,
          "--api-key-file missing: %d %r" % (started.returncode, started.stderr))
    print("--api-key: 401 in OpenAI's shape, /health and /v1/models open, TERN_API_KEY, a "
          "missing key file")


def check_model_variants(args, model, prefix):
    """A model compiled without a chat template answers completions but refuses chat requests;
    one whose template raises an exception for the messages (Llama 2's, for roles that do not
    alternate) answers 400 with the template's message; a model without a tokenizer cannot
    serve text and says so at start."""
    import shutil
    templates = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tokenizer",
                             "templates")
    for variant, expected in [("none", "this model has no chat template"),
                              (os.path.join(templates, "llama2.jinja"),
                               "the chat template raised: Conversation roles must alternate")]:
        exe = os.path.join(args.work, "chat-variant.exe")
        run([args.ternc, model, "--target=" + args.target, "--quiet",
             "--chat-template=" + variant, "-o", exe])
        server = Server(prefix + [exe], ["--quiet"])
        try:
            status, _, answer = server.post("/v1/chat/completions", {
                "messages": [{"role": "user", "content": "Hi"},
                             {"role": "user", "content": "Hi again"}]})
            error = answer.get("error", {})
            check(status == 400 and error.get("param") == "messages" and
                  expected in error.get("message", ""),
                  "chat with --chat-template=%s: %d %r" % (os.path.basename(variant), status,
                                                           answer))
            # ignore_eos: a sampled end token after one token is an answer too (it failed a run).
            status, _, answer = server.post("/v1/completions", {"prompt": "Hi", "max_tokens": 2,
                                                                "ignore_eos": True})
            check(status == 200 and answer["usage"]["completion_tokens"] == 2,
                  "completion with --chat-template=%s: %d %r" % (os.path.basename(variant),
                                                                 status, answer))
        finally:
            server.stop()

    notok = os.path.join(args.work, "notok")
    shutil.rmtree(notok, ignore_errors=True)
    shutil.copytree(model, notok)
    os.remove(os.path.join(notok, "tokenizer.json"))
    exe = os.path.join(args.work, "notok.exe")
    run([args.ternc, notok, "--target=" + args.target, "--quiet", "-o", exe])
    started = subprocess.run(prefix + [exe, "--server", "--port", "0"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=60)
    check(started.returncode == 1 and "error: --server: the weights have no tokenizer" in
          started.stderr, "--server without a tokenizer: %d %r" % (started.returncode,
                                                                   started.stderr))
    print("a model without a chat template, one whose template raises, and one without a "
          "tokenizer: as expected")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ternc", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--npm", default="", help="where npm installed the openai package")
    p.add_argument("--target", default="host", help="ternc --target")
    p.add_argument("--run", default="", help="prefix that runs the binary (an emulator)")
    args = p.parse_args()
    prefix = shlex.split(args.run)

    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(args.work, "model")
    run([args.gen_checkpoint, "--preset=tiny", "--seed=7", "--quiet", "-o", model])
    exe = os.path.join(args.work, "tiny")
    run([args.ternc, model, "--context=%d" % CONTEXT, "--batch=16", "--target=" + args.target,
         "--quiet", "-o", exe])
    exe_command = prefix + [exe]
    detok = Detokenizer(os.path.join(model, "tokenizer.json"))

    rng = random.Random(3)
    ids = [rng.randrange(500) for _ in range(5)]
    text = "The quick brown fox"
    messages = [{"role": "system", "content": "You are terse."},
                {"role": "user", "content": "  Say hi  "}]
    expected = {
        "ids": Expected(model, detok, ids),
        "text": Expected(model, detok, prompt_ids(exe_command, text)),
        "chat": Expected(model, detok, prompt_ids(exe_command, llama3_chat(messages))),
    }
    sampling = {"max_tokens": TOKENS, "temperature": 0, "ignore_eos": True}
    bodies = {
        "ids": ("/v1/completions", False, dict(prompt=ids, **sampling)),
        "text": ("/v1/completions", False, dict(prompt=text, model="tiny", **sampling)),
        "chat": ("/v1/chat/completions", True, dict(messages=messages, **sampling)),
    }

    server = Server(exe_command, ["-np", "2", "--queue", "8", "--alias", "tiny", "-t", "2"])
    try:
        status, _, health = server.request("GET", "/health")
        check(status == 200 and json.loads(health) == {
            "status": "ok", "slots_idle": 2, "slots_processing": 0, "requests_waiting": 0},
            "/health: %d %r" % (status, health))
        status, _, models = server.request("GET", "/v1/models")
        models = json.loads(models)
        check(status == 200 and models["object"] == "list" and
              [m["id"] for m in models["data"]] == ["tiny"], "/v1/models: %r" % models)

        # Eight requests at once on two sessions: each kind streamed and not, the text and
        # chat ones also with the usage chunk.
        jobs = []
        for kind in ("ids", "text", "chat"):
            jobs.append((kind, False, False))
            jobs.append((kind, True, kind != "ids"))
        jobs.append(("ids", True, True))
        jobs.append(("chat", False, False))
        results = [None] * len(jobs)

        def work(i, kind, stream, usage):
            path, chat, body = bodies[kind]
            body = dict(body, stream=stream)
            if usage:
                body["stream_options"] = {"include_usage": True}
            try:
                results[i] = server.stream(path, body) if stream else server.post(path, body)
            except Exception as e:  # reported below
                results[i] = e

        threads = [threading.Thread(target=work, args=(i,) + job) for i, job in enumerate(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        for (kind, stream, usage), result in zip(jobs, results):
            name = "%s %s%s" % (kind, "streamed" if stream else "whole",
                                " + usage" if usage else "")
            _, chat, _ = bodies[kind]
            if isinstance(result, Exception) or result is None:
                check(False, "%s: %r" % (name, result))
            elif stream:
                check_stream(name, chat, result, expected[kind], usage)
            else:
                status, _, answer = result
                if check(status == 200, "%s: status %d %r" % (name, status, answer)):
                    check_answer(name, chat, answer, expected[kind])

        check_metrics(server, len(jobs), TOKENS)

        # The same conversation twice in a row: the second time, the session that served the
        # first still holds all but the last prompt token (the concurrent requests above may
        # have left either session holding another prompt).
        path, chat, body = bodies["chat"]
        server.post(path, body)
        status, _, answer = server.post(path, body)
        cached = answer["usage"]["prompt_tokens_details"]["cached_tokens"]
        check(cached == expected["chat"].prompt_tokens - 1,
              "resent chat: cached_tokens %d of %d" % (cached, expected["chat"].prompt_tokens))
        check_answer("resent chat", True, answer, expected["chat"])

        # A stop sequence: the text before its first occurrence, finish_reason "stop". It
        # begins after the first character and occurs nowhere before (so the answer is the
        # reference's text up to it).
        stops = [(kind, i) for kind in ("text", "ids", "chat")
                 for i in range(1, len(expected[kind].sure_text) - 1)
                 if expected[kind].sure_text[i:i + 2].isascii() and
                 expected[kind].sure_text[i:i + 2].strip() and
                 expected[kind].sure_text.find(expected[kind].sure_text[i:i + 2]) == i]
        if check(stops, "no stop sequence to test in the expected texts"):
            kind, start = stops[0]
            want = expected[kind].sure_text
            stop = want[start:start + 2]
            path, chat, body = bodies[kind]
            status, _, answer = server.post(path, dict(body, stop=["\x00never", stop]))
            got = completion_text(chat, answer)
            check(status == 200 and got == want[:start] and
                  answer["choices"][0]["finish_reason"] == "stop",
                  "%s, stop %r: %r, finish %r" % (kind, stop, got,
                                                  answer["choices"][0]["finish_reason"]))
            print("stop %r: %r" % (stop, got))

        # The context: a prompt longer than it is refused; generation ends where it is full.
        status, _, answer = server.post("/v1/completions", {"prompt": [5] * (CONTEXT + 1)})
        error = answer.get("error", {})
        check(status == 400 and error.get("code") == "context_length_exceeded" and
              error.get("param") == "prompt" and
              "maximum context length is %d tokens" % CONTEXT in error.get("message", ""),
              "a long prompt: %d %r" % (status, answer))
        status, _, answer = server.post("/v1/completions", dict(
            prompt=[5] * (CONTEXT - 8), max_tokens=100, temperature=0, ignore_eos=True))
        check(status == 200 and answer["choices"][0]["finish_reason"] == "length" and
              answer["usage"]["completion_tokens"] == 9,
              "to the end of the context: %r" % answer.get("usage"))

        # Errors in the OpenAI API's shape.
        cases = [
            ("POST", "/v1/completions", '{"prompt": "x",', 400, "invalid_json", None,
             "We could not parse the JSON body of your request: parse error at line 1"),
            ("POST", "/v1/chat/completions", "[]", 400, "invalid_json", None,
             "must be a JSON object"),
            ("POST", "/v1/completions", '{"prompt": "x", "foo": 1}', 400, "unknown_parameter",
             "foo", "Unrecognized request argument supplied: foo"),
            ("POST", "/v1/chat/completions",
             '{"messages": [{"role": "user", "content": "x", "bar": 2}]}', 400,
             "unknown_parameter", "messages[0].bar", "Unrecognized argument 'bar'"),
            ("POST", "/v1/completions", '{"prompt": "x", "max_tokens": "3"}', 400,
             "invalid_type", "max_tokens", "expected an integer, but got a string"),
            ("POST", "/v1/completions", '{"prompt": "x", "temperature": 5}', 400,
             "invalid_value", "temperature", "expected a value in [0, 2]"),
            ("POST", "/v1/completions", '{"prompt": "x", "n": 3}', 400, "unsupported_value",
             "n", "one choice per request"),
            ("POST", "/v1/chat/completions", '{"model": "tiny"}', 400,
             "missing_required_parameter", "messages", "Missing required parameter"),
            ("POST", "/v1/completions", '{"prompt": [1, 999999]}', 400, "invalid_value",
             "prompt", "outside the vocabulary"),
            ("POST", "/v1/completions", '{"prompt": "\\ud800"}', 400, "invalid_json", None,
             "surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF"),
            ("GET", "/v1/nothing", None, 404, "unknown_url", None,
             "Unknown request URL: GET /v1/nothing"),
            ("GET", "/v1/chat/completions", None, 405, "method_not_allowed", None, "POST"),
        ]
        for method, path, raw, want_status, code, param, message in cases:
            status, headers, payload = server.request(method, path, raw=raw)
            try:
                error = json.loads(payload)["error"]
            except (ValueError, KeyError):
                error = {}
            check(status == want_status and error.get("code") == code and
                  error.get("param") == param and message in error.get("message", "") and
                  error.get("type") == "invalid_request_error" and
                  headers.get("Content-Type") == "application/json",
                  "%s %s %s: %d %r" % (method, path, raw, status, payload))
        print("errors: %d cases" % len(cases))

        # A body over 16 MiB is refused before it is parsed; malformed HTTP (a garbage request
        # line, a body shorter than its Content-Length, a 100 kB header) only closes that
        # connection: the server goes on answering.
        status, _, payload = server.request("POST", "/v1/completions",
                                            raw=b"{" + b" " * (16 << 20) + b"}")
        check(status == 413 and json.loads(payload)["error"]["code"] == "request_too_large",
              "a 16 MiB body: %d %r" % (status, payload[:200]))
        for garbage in (b"GARBAGE\r\n\r\n",
                        b"POST /v1/completions HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"pr",
                        b"GET /health HTTP/1.1\r\nX-Long: " + b"a" * 100000 + b"\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
                sock.sendall(garbage)
                sock.shutdown(socket.SHUT_WR)
                while sock.recv(65536):
                    pass
        status, _, health = server.request("GET", "/health")
        check(status == 200 and json.loads(health)["status"] == "ok",
              "after malformed HTTP: %d %r" % (status, health))

        if args.npm:
            check_sdk(server, args, bodies, expected)

        # A second server cannot take the same port.
        taken = subprocess.run(exe_command + ["--server", "--port", str(server.port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=60)
        check(taken.returncode == 1 and "cannot listen on 127.0.0.1:%d: Address already in use"
              % server.port in taken.stderr, "port in use: %d %r" % (taken.returncode,
                                                                     taken.stderr))
        usage = subprocess.run(exe_command + ["--server", "-p", "hi"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60)
        check(usage.returncode == 2 and "--server takes its prompts from HTTP requests" in
              usage.stderr, "--server -p: %d %r" % (usage.returncode, usage.stderr))
        check_model_variants(args, model, prefix)
        check_api_key(prefix, exe)
    finally:
        code = server.stop()
    log = "".join(server.log)
    check(code == 0, "SIGTERM: exit status %r" % code)
    check("Terminated: stopping" in log, "SIGTERM: not logged")
    check("POST /v1/chat/completions 200" in log and "prompt tokens (" in log,
          "the request log: %r" % log[-500:])

    if failures:
        sys.exit("FAILED: %d checks:\n%s" % (len(failures), "\n".join(failures)))
    print("PASSED: %s: the server's answers equal the reference on %d concurrent requests; "
          "SSE framing, usage, prompt reuse, stop sequences, the context limit and %d error "
          "cases as the OpenAI API has them%s" % (args.target, len(jobs), len(cases),
                                                 "; the OpenAI Node SDK reads them"
                                                 if args.npm else ""))


if __name__ == "__main__":
    main()
