#!/usr/bin/env bash
# bench/head-error.sh [BUILD_DIR]: what the quantized output heads cost in accuracy, end to end.
#
# Compiles the 2b4t preset (cached in $TERN_BENCH_WORK, default /tmp/tern-bench; the same
# executables as bench/model-bench.sh) with ternc --head=exact, q8_0 and q6_k, the quantized heads
# both ways a tied table can be read (--embedding=shared: the lookup reads the quantized table
# too; --embedding=exact: the lookup keeps the checkpoint's), dumps the logits of the same 48
# positions of random tokens from each (--dump-logits), and compares each against the exact head
# (bench/compare_logits.py): worst and mean |difference| / max |logit| per position, argmax and
# top-5 agreement, and each moved argmax with the exact head's margin.
set -euo pipefail
build="$(realpath "${1:-build}")"
work="${TERN_BENCH_WORK:-/tmp/tern-bench}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work"
log() { printf 'head-error: %s\n' "$*" >&2; }

if [ ! -f "$work/2b4t/config.json" ]; then
  log "generating the 2b4t preset in $work/2b4t"
  "$build/bin/tern-gen-checkpoint" --preset=2b4t -o "$work/2b4t" --quiet
fi
vocab="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' \
  "$work/2b4t/config.json")"
tokens="$(/usr/bin/python3 -c 'import random,sys; r = random.Random(5); n = int(sys.argv[1]);
print(",".join(str(r.randrange(n)) for _ in range(48)))' "$vocab")"
for build_name in exact q8_0 q6_k q8_0:embedding-exact q6_k:embedding-exact; do
  head="${build_name%%:*}"
  name="$head" embedding=shared
  [ "$build_name" != "$head" ] && name="$head-embedding-exact" embedding=exact
  exe="$work/2b4t-host-$name"
  if [ ! -x "$exe" ] || [ "$exe" -ot "$build/bin/ternc" ]; then
    log "compiling with --head=$head --embedding=$embedding"
    "$build/bin/ternc" "$work/2b4t" --target=host --context=4224 --quiet -o "$exe" \
      --head="$head" --embedding="$embedding"
  fi
  log "logits of 48 positions with --head=$head --embedding=$embedding"
  "$exe" --tokens "$tokens" --dump-logits "$work/logits-$name.bin" --quiet
done
echo "| head | worst \\|Δ\\| / max \\|logit\\| | mean | argmax agrees | top-5 agrees |"
echo "| --- | --- | --- | --- | --- |"
for name in q8_0-embedding-exact q6_k-embedding-exact q8_0 q6_k; do
  /usr/bin/python3 "$here/compare_logits.py" "$work/logits-exact.bin" "$work/logits-$name.bin" \
    "$vocab" --name "$name"
done
