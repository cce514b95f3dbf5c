#!/usr/bin/env bash
# Compiles a 2B4T-shaped checkpoint (random ternary weights, the real shapes and the Llama 3
# chat template) into one binary, serves it with the OpenAI API on 127.0.0.1:$TERN_PORT, asks it
# a chat question and a streamed completion with curl, and keeps serving until Ctrl-C
# (TERN_DEMO_ONLY=1: stops after the two requests; TERN_PORT=0: any free port). TERN_PRESET=tiny
# makes it quick.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${TERN_BIN:-$root/build/bin}"
preset="${TERN_PRESET:-2b4t}"
port="${TERN_PORT:-8080}"
work="${TERN_WORK:-/tmp/tern-server}/$preset"
if [ ! -d "$work/model" ]; then
  mkdir -p "$work"
  "$bin/tern-gen-checkpoint" --format=bitnet-2b4t --preset="$preset" -o "$work/model"
fi
"$bin/ternc" "$work/model" -o "$work/bitnet"

"$work/bitnet" --server --port "$port" --alias bitnet -np 2 > "$work/server.out" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
# The first line names the address once the server listens.
for _ in $(seq 600); do
  grep -q listening "$work/server.out" 2>/dev/null && break
  kill -0 $server 2>/dev/null || { echo "server: it did not start" >&2; exit 1; }
  sleep 0.1
done
cat "$work/server.out"
url="$(grep -o 'http://[0-9.:]*' "$work/server.out")/v1"

echo "--- POST $url/chat/completions"
curl -sS "$url/chat/completions" -H "Content-Type: application/json" -d '{
  "model": "bitnet",
  "messages": [{"role": "system", "content": "You are a helpful assistant."},
               {"role": "user", "content": "What is a ternary weight?"}],
  "max_tokens": 24}'
echo
echo "--- POST $url/completions (streamed)"
curl -sS -N "$url/completions" -H "Content-Type: application/json" -d '{
  "model": "bitnet", "prompt": "Once upon a time", "max_tokens": 8, "temperature": 0,
  "stream": true}'

if [ "${TERN_DEMO_ONLY:-0}" = 1 ]; then
  exit 0
fi
echo "server: serving $url until Ctrl-C (random weights: the replies are noise)" >&2
wait $server
