#!/usr/bin/env python3
"""The compiled server under concurrent streams, and its per-token overhead.

  bench/server-bench.py --exe BINARY [--streams 1,2,4] [--tokens 64] [--reps 5] [-t 2]
                        [--overhead-tokens 400] [--json OUT]

For each stream count P the binary serves with -np P, and P clients each stream one completion
of --tokens tokens at once (a fixed prompt of token ids, greedy, ignore_eos). The aggregate
rate is P x tokens / the wall time from the first request sent to the last answer's end; the
table gives its median over --reps rounds with min-max, and the ratio to one stream measured in
the same run (continuous batching: one forward call carries every stream's next token).

The overhead is everything a token costs in the server but the forward call: one completion of
--overhead-tokens tokens, streamed and then whole, its wall time at the client minus the
forward calls' time the server reports in GET /metrics (llamacpp:prompt_seconds_total +
llamacpp:tokens_predicted_seconds_total, differenced around the request), per token. Run it with
nothing else on the machine.
"""
import argparse
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time

PROMPT = [1, 2, 3, 4, 5, 6, 7, 8]


class Server:
    def __init__(self, exe, args):
        self.proc = subprocess.Popen([exe, "--server", "--port", "0", "--quiet"] + args,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on http://127.0.0.1:"):
            sys.exit("server-bench: the server did not start: %r" % line)
        self.port = int(line.split(":")[2].split()[0])

    def stream(self, tokens, stream=True):
        """One completion, streamed or whole; returns the tokens generated."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        body = {"prompt": PROMPT, "max_tokens": tokens, "temperature": 0, "ignore_eos": True,
                "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        conn.request("POST", "/v1/completions", body=json.dumps(body),
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        if response.status != 200:
            sys.exit("server-bench: status %d: %s" % (response.status, response.read()))
        payload = response.read().decode("utf-8")
        conn.close()
        if stream:  # the usage chunk, before [DONE]
            payload = payload.rsplit("data: ", 2)[1]
        return json.loads(payload)["usage"]["completion_tokens"]

    def metrics(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode("utf-8")
        conn.close()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def concurrent(server, streams, tokens):
    """Wall seconds for `streams` clients streaming `tokens` tokens each, all at once."""
    threads = [threading.Thread(target=server.stream, args=(tokens,)) for _ in range(streams)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe", required=True)
    parser.add_argument("--streams", default="1,2,4")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("-t", "--threads", type=int, default=2)
    parser.add_argument("--overhead-tokens", type=int, default=400)
    parser.add_argument("--json")
    args = parser.parse_args()

    results = {"streams": {}, "tokens": args.tokens, "threads": args.threads}
    for p in [int(x) for x in args.streams.split(",")]:
        server = Server(args.exe, ["-np", str(p), "-t", str(args.threads)])
        server.stream(4)  # warm up: page in the weights, start the threads
        rates = [p * args.tokens / concurrent(server, p, args.tokens) for _ in range(args.reps)]
        server.stop()
        results["streams"][p] = rates
        base = statistics.median(results["streams"][min(results["streams"])])
        print("server-bench: %d stream(s): %.1f tokens/s aggregate (median of %d, %.1f-%.1f), "
              "%.2fx one stream" % (p, statistics.median(rates), len(rates), min(rates),
                                    max(rates), statistics.median(rates) / base), flush=True)

    if args.overhead_tokens:
        server = Server(args.exe, ["-np", "1", "-t", str(args.threads)])
        server.stream(4)
        for stream in (True, False):
            shape = "streamed" if stream else "whole"
            overheads, forwards = [], []
            for _ in range(args.reps):
                before = server.metrics()
                start = time.perf_counter()
                n = server.stream(args.overhead_tokens, stream)
                wall = time.perf_counter() - start
                after = server.metrics()
                forward = sum(after[k] - before[k]
                              for k in ("llamacpp:prompt_seconds_total",
                                        "llamacpp:tokens_predicted_seconds_total"))
                overheads.append((wall - forward) / n * 1e3)
                forwards.append(forward / n * 1e3)
            results["overhead_ms_per_token_" + shape] = overheads
            results["forward_ms_per_token_" + shape] = forwards
            print("server-bench: %s: overhead %.4f ms a token (median of %d, %.4f-%.4f; the "
                  "forward call %.4f ms)" % (shape, statistics.median(overheads), len(overheads),
                                             min(overheads), max(overheads),
                                             statistics.median(forwards)), flush=True)
        server.stop()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
