#!/usr/bin/env bash
# The README's main command: compile a generated model into a standalone binary and run it.
#   1. tern-gen-checkpoint writes a tiny BitNet b1.58 2B4T-layout checkpoint (random weights);
#   2. ternc compiles it for this CPU into one executable (weights embedded);
#   3. the executable runs four tokens and prints the most likely next token after each;
#   4. the independent numpy reference computes the same logits (same argmax expected);
#   5. the executable decodes 16 tokens against the memory bandwidth measured in the same run;
#   6. it generates from a text prompt (the tokenizer compiled in; random weights, so the text
#      is noise);
#   7. it serves the OpenAI API (--server) and answers one chat completion (curl);
#   8. ternc --compile-to=runtime shows the lowered graph a researcher can edit.
set -euo pipefail
# TERN_EXAMPLE_BUILD=DIR TERN_EXAMPLE_NO_SETUP=1 runs it on a built tree without setup or build
# (ctest's examples.readme-main-command checks that it exits 0).
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${TERN_EXAMPLE_BUILD:-$root/build}"
if [ "${TERN_EXAMPLE_NO_SETUP:-0}" != 1 ]; then
  "$root/scripts/setup.sh"
  TERN_TARGETS="ternc tern-gen-checkpoint" "$root/scripts/build.sh" "$build"
fi

bin="$build/bin"
work="$build/example"
rm -rf "$work" && mkdir -p "$work"
echo "example: tern-gen-checkpoint --format=bitnet-2b4t --preset=tiny -o $work/model"
"$bin/tern-gen-checkpoint" --format=bitnet-2b4t --preset=tiny --seed=1 -o "$work/model"
echo "example: ternc $work/model -o $work/tiny-2b4t"
"$bin/ternc" "$work/model" -o "$work/tiny-2b4t"
echo "example: $work/tiny-2b4t --tokens 502,10,20,30"
"$work/tiny-2b4t" --tokens 502,10,20,30
echo "example: the numpy reference (float64) on the same tokens:"
/usr/bin/python3 "$root/test/reference/bitnet_reference.py" "$work/model" --tokens 502,10,20,30
echo "example: $work/tiny-2b4t --bench 16"
"$work/tiny-2b4t" --bench 16
echo "example: $work/tiny-2b4t -p 'The capital of France is' -n 12 --seed 1 --verbose-prompt"
"$work/tiny-2b4t" -p "The capital of France is" -n 12 --seed 1 --verbose-prompt
echo "example: $work/tiny-2b4t --server --port 0, then POST /v1/chat/completions with curl"
"$work/tiny-2b4t" --server --port 0 --quiet > "$work/server.out" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/server.out" && break; sleep 0.1; done
cat "$work/server.out"
url="$(grep -o 'http://[0-9.:]*' "$work/server.out")"
curl -sS "$url/v1/chat/completions" -H "Content-Type: application/json" \
  -d '{"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 8, "seed": 1}'
echo
kill $server && wait $server
echo "example: ternc $work/model --compile-to=runtime: the first calls of the lowered graph"
# (through a file: grep -m stops reading early, which would end ternc with SIGPIPE)
"$bin/ternc" "$work/model" --compile-to=runtime --quiet -o "$work/lowered.mlir"
grep -m 6 -E "call @tern_op" "$work/lowered.mlir" | cut -c1-150
