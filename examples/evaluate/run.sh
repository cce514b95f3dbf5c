#!/usr/bin/env bash
# Compiles a 2B4T-shaped checkpoint (random ternary weights, the real shapes) into one binary,
# serves it on 127.0.0.1:$TERN_PORT (0: any free port), scores the multiple-choice items of
# arc_items.jsonl against it as lm-evaluation-harness's local-completions model does
# (evaluate.py: acc and acc_norm), stops the server, and prints the perplexity of text.txt with
# the binary's --perplexity in chunks of $TERN_PPL_CTX tokens (default 512). TERN_PRESET=tiny
# makes it quick.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${TERN_BIN:-$root/build/bin}"
preset="${TERN_PRESET:-2b4t}"
port="${TERN_PORT:-8080}"
ppl_ctx="${TERN_PPL_CTX:-512}"
work="${TERN_WORK:-/tmp/tern-evaluate}/$preset"
if [ ! -d "$work/model" ]; then
  mkdir -p "$work"
  "$bin/tern-gen-checkpoint" --format=bitnet-2b4t --preset="$preset" -o "$work/model"
fi
"$bin/ternc" "$work/model" -o "$work/bitnet-eval"

# The server's request log goes to a file, shown if the scoring fails.
"$work/bitnet-eval" --server --port "$port" --alias bitnet > "$work/evaluate-server.out" \
  2> "$work/evaluate-server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
# The first line names the address once the server listens.
for _ in $(seq 600); do
  grep -q listening "$work/evaluate-server.out" 2>/dev/null && break
  kill -0 $server 2>/dev/null || {
    echo "server: it did not start" >&2
    cat "$work/evaluate-server.log" >&2
    exit 1
  }
  sleep 0.1
done
cat "$work/evaluate-server.out"
url="$(grep -o 'http://[0-9.:]*' "$work/evaluate-server.out")"

echo "--- examples/evaluate/evaluate.py --url $url"
if ! python3 "$here/evaluate.py" --url "$url" --model bitnet; then
  for _ in $(seq 20); do kill -0 $server 2>/dev/null || break; sleep 0.1; done
  if kill -0 $server 2>/dev/null; then
    echo "server: still running; the end of its log:" >&2
  else
    status=0
    wait $server 2>/dev/null || status=$?
    echo "server: it exited with status $status$([ $status -gt 128 ] &&
      echo " (signal $((status - 128)))"); the end of its log:" >&2
  fi
  tail -n 5 "$work/evaluate-server.log" >&2
  exit 1
fi
kill $server
wait $server 2>/dev/null || true
trap - EXIT

echo "--- bitnet-eval --perplexity -f examples/evaluate/text.txt -c $ppl_ctx"
"$work/bitnet-eval" --perplexity -f "$here/text.txt" -c "$ppl_ctx"
