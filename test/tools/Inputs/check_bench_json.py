"""check_bench_json.py FILE REPETITIONS TEST...: the compiled executable's `--bench -o json`
holds exactly the named tests (in order), each with REPETITIONS positive samples whose median
the reported median_ts is, and the generation tests their bytes per token and limit."""
import json
import statistics
import sys

path, repetitions, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
report = json.load(open(path))
tests = report["tests"]
assert [f'{t["threads"]}:{t["test"]}' for t in tests] == names, [t["test"] for t in tests]
assert report["load_ms"] > 0 and report["first_call_ms"] > 0 and report["peak_rss_bytes"] > 0
assert all(v > 0 for v in report["bandwidth_gbs"].values()), report["bandwidth_gbs"]
for t in tests:
    samples = t["samples_ns"]
    assert len(samples) == repetitions and all(s > 0 for s in samples), t
    tokens = t["n_gen"] or t["n_prompt"]
    median = statistics.median(tokens * 1e9 / s for s in samples)
    assert abs(median - t["median_ts"]) <= 1e-3 * median, (median, t)
    if t["n_gen"]:
        # weights plus the KV cache (K and V, f32) read at the mean position of the run
        assert t["bytes_per_token"] > report["weights_bytes_per_token"], t
        assert t["limit_ts"] > 0 and t["gbs"] > 0, t
print("bench json: %d tests, %d samples each" % (len(tests), repetitions))
