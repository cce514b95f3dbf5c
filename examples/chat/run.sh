#!/usr/bin/env bash
# Compiles a 2B4T-shaped checkpoint (random ternary weights, the real shapes and the Llama 3
# chat template) into one binary and chats with it on stdin. TERN_PRESET=tiny makes it quick.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${TERN_BIN:-$root/build/bin}"
preset="${TERN_PRESET:-2b4t}"
work="${TERN_WORK:-/tmp/tern-chat}/$preset"
if [ ! -d "$work/model" ]; then
  mkdir -p "$work"
  "$bin/tern-gen-checkpoint" --format=bitnet-2b4t --preset="$preset" -o "$work/model"
fi
"$bin/ternc" "$work/model" -o "$work/chat"
echo "chat: type a message and Enter; Ctrl-D ends (random weights: the replies are noise)" >&2
exec "$work/chat" -cnv -p "You are a helpful assistant." -n "${TERN_MAX_REPLY:-64}"
