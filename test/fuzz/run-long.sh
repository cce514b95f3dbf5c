#!/usr/bin/env bash
# test/fuzz/run-long.sh BUILD_DIR [SECONDS] [WORK_DIR]: every libFuzzer target of a sanitizer
# build with fuzzers (scripts/build.sh build-asan -DTERN_SANITIZER="address;undefined"
# -DTERN_BUILD_FUZZERS=ON) for SECONDS each (default 600), two at a time (one per core of the
# reference machine), outside CI. Each starts from its committed corpus (test/fuzz/corpus/<name>,
# read only) and grows a copy in WORK_DIR/<name>/corpus; crashes, leaks and timeouts go to
# WORK_DIR/<name>/artifacts. Prints a table: executions, corpus size, new units, findings.
# A finding is fixed and its input committed to the corpus as a regression input
# (docs/reliability.md).
set -euo pipefail
build="$(realpath "$1")"
seconds="${2:-600}"
work="$(realpath -m "${3:-/tmp/tern-fuzz}")"
here="$(cd "$(dirname "$0")" && pwd)"
declare -A corpus=(
  [tern-parse-fuzzer]=tern-parse [tern-safetensors-fuzzer]=safetensors
  [tern-hfconfig-fuzzer]=hf-config [tern-weight-blob-fuzzer]=weight-blob
  [tern-server-request-fuzzer]=server-request [tern-tokenizer-fuzzer]=tokenizer
  [tern-onnx-model-fuzzer]=onnx-model [tern-gguf-file-fuzzer]=gguf-file)
run_one() {
  local fuzzer="$1" name="${corpus[$1]}"
  local dir="$work/$name"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local before
  before=$(ls "$dir/corpus" | wc -l)
  "$build/bin/$fuzzer" "$dir/corpus" "$here/corpus/$name" -max_total_time="$seconds" \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" -timeout=30 -rss_limit_mb=4096 \
    > "$dir/log" 2>&1 || true
  local runs findings
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' || echo 0)
  findings=$(ls "$dir/artifacts" | wc -l)
  printf '| %s | %s s | %s | %s | %s | %s |\n' "$fuzzer" "$seconds" "$runs" \
    "$(ls "$here/corpus/$name" | wc -l)" "$(( $(ls "$dir/corpus" | wc -l) - before ))" "$findings"
}
export -f run_one
export build seconds work here
export corpus_decl="$(declare -p corpus)"
echo "| fuzzer | time | executions | seed corpus | new units | findings |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${!corpus[@]}" | sort |
  xargs -P 2 -I{} bash -c 'eval "$corpus_decl"; run_one "$@"' _ {}
