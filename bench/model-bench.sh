#!/usr/bin/env bash
# bench/model-bench.sh [BUILD_DIR] [OUT_DIR]: the whole compiled model in llama-bench's form.
#
# Generates the 2b4t preset (2B4T's shapes, random ternary weights; cached in $TERN_BENCH_WORK,
# default /tmp/tern-bench), compiles it for this CPU with each output head (exact BF16, the
# 8-bit q8_0 and the 6.5-bit q6_k; and, on x86-64, for AVX-512 without VNNI and for AVX2, to
# compare ISAs), and runs the executables' --bench:
#   threads.json  pp128 and tg64 with 1 and 2 threads (the headline numbers)
#   threads-q8_0.json, threads-q6_k.json  the same with ternc --head=q8_0, q6_k
#   depth.json    tg32 after 0, 1024, 2048 and 4096 positions in the KV cache (2 threads)
#   isa-*.json    pp128 and tg64 with 2 threads per ISA
# then draws threads.svg and depth.svg from them (bench/plot_bench.py). Each run measures the
# read bandwidth itself, so every number has its roofline from the same process. Run it with
# nothing else on the machine; docs/performance.md has results and how to read them.
set -euo pipefail
build="$(realpath "${1:-build}")"
out="$(realpath -m "${2:-bench-results}")"
work="${TERN_BENCH_WORK:-/tmp/tern-bench}"
reps="${TERN_BENCH_REPS:-5}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work" "$out"
log() { printf 'model-bench: %s\n' "$*" >&2; }

if [ ! -f "$work/2b4t/config.json" ]; then
  log "generating the 2b4t preset in $work/2b4t"
  "$build/bin/tern-gen-checkpoint" --preset=2b4t -o "$work/2b4t" --quiet
fi
compile() { # target output [ternc options]
  if [ ! -x "$work/$2" ] || [ "$work/$2" -ot "$build/bin/ternc" ]; then
    log "compiling for $1 ${*:3}"
    # 4096 positions of depth plus the longest test
    "$build/bin/ternc" "$work/2b4t" --target="$1" --context=4224 --quiet -o "$work/$2" "${@:3}"
  fi
}
for head in exact q8_0 q6_k; do
  compile host "2b4t-host-$head" --head="$head"
done
log "1 and 2 threads: pp128, tg64, $reps runs each"
"$work/2b4t-host-exact" --bench -p 128 -n 64 -t 1,2 -r "$reps" -o json > "$out/threads.json"
for head in q8_0 q6_k; do
  log "the same with --head=$head"
  "$work/2b4t-host-$head" --bench -p 128 -n 64 -t 1,2 -r "$reps" -o json \
    > "$out/threads-$head.json"
done
log "context depth 0-4096: tg32 with 2 threads"
"$work/2b4t-host-exact" --bench -p 0 -n 32 -d 0,1024,2048,4096 -t 2 -r 3 -o json > "$out/depth.json"
if [ "$(uname -m)" = x86_64 ]; then
  for target in x86-64-avx512 x86-64-avx2; do
    compile "$target" "2b4t-$target"
    log "$target: pp128, tg64 with 2 threads"
    "$work/2b4t-$target" --bench -p 128 -n 64 -t 2 -r 3 -o json > "$out/isa-$target.json"
  done
fi
/usr/bin/python3 "$here/plot_bench.py" "$out"
log "wrote $out: $(cd "$out" && ls | tr '\n' ' ')"
