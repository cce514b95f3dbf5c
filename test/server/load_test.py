#!/usr/bin/env python3
"""The compiled server under load, on loopback: bounded in count and time.

A generated tiny checkpoint is compiled by ternc and served with 4 sessions and a queue of 128
(room for every client, and for the disconnected streams still in flight until their next
write fails).

1. Load: 64 clients at once, 6 requests each, mixing completions streamed and whole (token ids
   and text), chat completions, completions echoing their prompt with log probabilities (the
   prompt evaluated with every row's logits), prompts longer than the context, malformed JSON
   and clients that disconnect in the middle of a stream. Every answered request must equal the numpy
   reference's greedy continuation (server_test.Expected: near-ties reported), every refused
   one must carry its OpenAI-style error, and nothing may crash or hang: afterwards /health
   answers, /metrics shows no request left in flight (the disconnected streams freed their
   sessions) and more than 1.3 sessions per forward call on average (continuous batching;
   2.4-3.1 measured).
2. Memory (--memory-rounds, release builds): rounds of 200 requests (20 clients) until at
   least 2000 have been answered; the C heap in use after the last round (/metrics'
   tern_heap_in_use_bytes, glibc's mallinfo2, read when no request is in flight; the server runs
   without glibc's per-thread caches, whose freed blocks count as in use) must be within 1 % of
   the heap after the first (measured: 1.32 MB, flat within 1 KB). The resident size is printed,
   not bounded: it grows by ~10 % over 2000 requests and levels off, as each of the 132 HTTP
   threads (--queue 128 + -np 4) serves its first requests (its stack's pages, its cache, its
   malloc arena's); with --queue 16 (28 threads) it levels off within the first round, and
   heaptrack over the same mix finds nothing left behind. An AddressSanitizer build is not measured (--memory-rounds 0): its quarantine holds
   freed memory by design.

  load_test.py --ternc B --gen-checkpoint G --work DIR [--memory-rounds N]
"""
import argparse
import json
import os
import random
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import server_test as st  # noqa: E402  (its Server, Expected and check)

CLIENTS = 64
PER_CLIENT = 6
ROUND = 200
ROUND_CLIENTS = 20
DEADLINE = 300  # seconds for the load phase


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def disconnect_mid_stream(port, body):
    """Starts a streamed completion, reads its first bytes, and hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        data = json.dumps(body).encode()
        sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data))
        sock.recv(64)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ternc", required=True)
    p.add_argument("--gen-checkpoint", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--memory-rounds", type=int, default=10)
    args = p.parse_args()

    os.makedirs(args.work, exist_ok=True)
    model = os.path.join(args.work, "model")
    st.run([args.gen_checkpoint, "--preset=tiny", "--seed=11", "--quiet", "-o", model])
    exe = os.path.join(args.work, "tiny")
    st.run([args.ternc, model, "--context=%d" % st.CONTEXT, "--batch=16", "--quiet", "-o", exe])
    detok = st.Detokenizer(os.path.join(model, "tokenizer.json"))

    rng = random.Random(5)
    id_prompts = [[rng.randrange(500) for _ in range(n)] for n in (1, 3, 8, 20)]
    text = "Under load, every answer still counts"
    messages = [{"role": "user", "content": "Hello there"}]
    sampling = {"max_tokens": st.TOKENS, "temperature": 0, "ignore_eos": True}
    kinds = []  # (path, chat, body, Expected)
    for ids in id_prompts:
        kinds.append(("/v1/completions", False, dict(prompt=ids, **sampling),
                      st.Expected(model, detok, ids)))
    kinds.append(("/v1/completions", False, dict(prompt=text, **sampling),
                  st.Expected(model, detok, st.prompt_ids([exe], text))))
    kinds.append(("/v1/chat/completions", True, dict(messages=messages, **sampling),
                  st.Expected(model, detok, st.prompt_ids([exe], st.llama3_chat(messages)))))

    echo_expected = kinds[2][3]
    # Without glibc's per-thread caches the heap in use is what the program holds (a freed block
    # in a thread's tcache counts as in use, and 132 threads fill theirs over thousands of
    # requests: +1.4 MB that looks like a leak).
    server = st.Server([exe], ["-np", "4", "--queue", "128", "--alias", "tiny", "-t", "2"],
                       env=dict(os.environ, GLIBC_TUNABLES="glibc.malloc.tcache_count=0"))
    counts = {"answered": 0, "streamed": 0, "too long": 0, "malformed": 0, "disconnected": 0,
              "scored": 0}
    lock = threading.Lock()

    def one(r):
        """One request of a random kind; checks its answer."""
        choice = r.randrange(11)
        if choice == 0:
            status, _, answer = server.post("/v1/completions",
                                            {"prompt": [7] * (st.CONTEXT + 1 + r.randrange(50))})
            st.check(status == 400 and answer["error"]["code"] == "context_length_exceeded",
                     "too long: %d %r" % (status, answer))
            key = "too long"
        elif choice == 1:
            status, _, payload = server.request("POST", "/v1/chat/completions",
                                                raw='{"messages": [')
            st.check(status == 400 and json.loads(payload)["error"]["code"] == "invalid_json",
                     "malformed: %d %r" % (status, payload))
            key = "malformed"
        elif choice == 2:
            disconnect_mid_stream(server.port, dict(kinds[0][2], stream=True, max_tokens=100))
            key = "disconnected"
        elif choice == 3:
            # The prompt scored (every row's logits) and echoed, with the continuation's.
            ids = id_prompts[2]
            status, _, answer = server.post("/v1/completions",
                                            dict(prompt=ids, echo=True, logprobs=2, **sampling))
            if st.check(status == 200, "echo: %d %r" % (status, answer)):
                c = answer["choices"][0]
                echoed = detok.text(ids)
                st.check(c["text"].startswith(echoed) and
                         echo_expected.matches(c["text"][len(echoed):]),
                         "echo: %r, the reference's %r" % (c["text"], echoed + echo_expected.text))
                values = c["logprobs"]["token_logprobs"]
                st.check(len(values) == len(ids) + answer["usage"]["completion_tokens"] and
                         values[0] is None and all(v <= 0 for v in values[1:]),
                         "echo: log probabilities %r" % values)
            key = "scored"
        else:
            path, chat, body, expected = kinds[r.randrange(len(kinds))]
            if r.randrange(2):
                events = server.stream(path, dict(body, stream=True))
                if chat:
                    events = events[1:]
                got = "".join(e["choices"][0]["delta"]["content"] if chat
                              else e["choices"][0]["text"] for e in events[:-1])
                st.check(expected.matches(got), "streamed %s: %r, the reference's %r" % (
                    path, got, expected.text))
                key = "streamed"
            else:
                status, _, answer = server.post(path, body)
                if st.check(status == 200, "%s: %d %r" % (path, status, answer)):
                    got = st.completion_text(chat, answer)
                    st.check(expected.matches(got), "%s: %r, the reference's %r" % (
                        path, got, expected.text))
                key = "answered"
        with lock:
            counts[key] += 1

    def client(seed, n):
        r = random.Random(seed)
        for _ in range(n):
            try:
                one(r)
            except Exception as e:  # a crash or a hang shows up here
                st.check(False, "client %d: %r" % (seed, e))

    try:
        start = time.monotonic()
        threads = [threading.Thread(target=client, args=(i, PER_CLIENT), daemon=True)
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1, DEADLINE - (time.monotonic() - start)))
        st.check(not any(t.is_alive() for t in threads),
                 "load: clients still waiting after %d s" % DEADLINE)
        elapsed = time.monotonic() - start
        print("load: %d clients x %d requests in %.1f s: %s" % (CLIENTS, PER_CLIENT, elapsed,
                                                                 counts), flush=True)
        st.check(server.proc.poll() is None, "the server died under load")

        # The disconnected streams end at their next token: no request stays in flight.
        for _ in range(100):
            metrics = server_metrics(server)
            if metrics["llamacpp:requests_processing"] == 0:
                break
            time.sleep(0.1)
        st.check(metrics["llamacpp:requests_processing"] == 0 and
                 metrics["llamacpp:requests_deferred"] == 0,
                 "after the load: %r" % metrics)
        st.check(metrics["llamacpp:n_busy_slots_per_decode"] > 1.3,
                 "continuous batching: %.2f sessions per call" %
                 metrics["llamacpp:n_busy_slots_per_decode"])
        served = metrics["tern_requests_served_total"]
        st.check(served >= counts["answered"] + counts["streamed"],
                 "served %d < answered %d" % (served, counts["answered"] + counts["streamed"]))
        print("metrics: %.2f sessions per forward call, %d prompt and %d generated tokens" % (
            metrics["llamacpp:n_busy_slots_per_decode"], metrics["llamacpp:prompt_tokens_total"],
            metrics["llamacpp:tokens_predicted_total"]))
        status, _, health = server.request("GET", "/health")
        st.check(status == 200, "/health after the load: %d" % status)

        if args.memory_rounds:
            samples = []
            sent = 0
            for round_ in range(args.memory_rounds):
                threads = [threading.Thread(target=client, args=(1000 * round_ + i,
                                                                 ROUND // ROUND_CLIENTS))
                           for i in range(ROUND_CLIENTS)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=DEADLINE)
                sent += ROUND // ROUND_CLIENTS * ROUND_CLIENTS
                # Once the disconnected streams have ended, nothing is in flight.
                for _ in range(100):
                    metrics = server_metrics(server)
                    if metrics["llamacpp:requests_processing"] == 0:
                        break
                    time.sleep(0.1)
                samples.append((metrics["tern_heap_in_use_bytes"], rss_kb(server.proc.pid)))
                print("memory: %d requests, heap in use %.1f KB, resident %.1f MB" % (
                    sent, samples[-1][0] / 1024, samples[-1][1] / 1024), flush=True)
            st.check(sent >= 2000 or args.memory_rounds < 10, "memory: only %d requests" % sent)
            st.check(samples[-1][0] <= 1.01 * samples[0][0],
                     "the heap grew: %.1f KB in use after %d requests, %.1f KB after the first "
                     "%d" % (samples[-1][0] / 1024, sent, samples[0][0] / 1024, ROUND))
        else:
            print("memory: not measured (--memory-rounds 0: a sanitizer build)")
    finally:
        code = server.stop()
    st.check(code == 0, "SIGTERM after the load: exit status %r" % code)
    if st.failures:
        sys.exit("FAILED: %d checks:\n%s" % (len(st.failures), "\n".join(st.failures[:40])))
    print("PASSED: %d clients, %d requests (%s), every answer the reference's; memory %s" % (
        CLIENTS, CLIENTS * PER_CLIENT, counts,
        "(the heap in use) within 1 %% over %d rounds" % args.memory_rounds if args.memory_rounds
        else "not measured"))


def server_metrics(server):
    status, _, payload = server.request("GET", "/metrics")
    values = {}
    for line in payload.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


if __name__ == "__main__":
    main()
