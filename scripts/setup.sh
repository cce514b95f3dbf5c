#!/usr/bin/env bash
# Installs every system package tern's build and tests need (Debian bookworm). Idempotent: only
# missing packages are installed. Prints what it does; any failure stops it with a message.
set -euo pipefail

packages=(
  # build
  cmake ninja-build git
  # LLVM / MLIR 22 (bookworm-security), clang 22 and lld 22; the sanitizer runtimes
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22 libclang-rt-22-dev
  # Halide 14 (for the kernel generator; built on LLVM 14)
  libhalide14-0-dev
  # ONNX 1.12 and protobuf 3.21 (ONNX frontend), Python fixtures
  libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx python3-numpy
  # tests and benchmarks
  libgtest-dev libbenchmark-dev
  # aarch64 cross tests under user-mode qemu
  g++-aarch64-linux-gnu qemu-user
  # the tokenizer's pre-tokenizer regex (PCRE2, linked statically into compiled models), for
  # the host and for aarch64 models (multiarch, added below)
  libpcre2-dev libpcre2-dev:arm64
)

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# The tokenizer's reference (transformers.js from the npm registry) runs on Node.js: Debian's,
# unless the machine has one (NodeSource's nodejs bundles npm and conflicts with Debian's npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  log "all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: install as root: ${missing[*]}"
  sudo="sudo"
fi

# Packages of the aarch64 runtime (":arm64") need the architecture in dpkg.
if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' &&
  ! dpkg --print-foreign-architectures | grep -qx arm64; then
  log "adding the arm64 architecture (for the aarch64 runtime's static libraries)"
  $sudo dpkg --add-architecture arm64 || die "dpkg --add-architecture arm64 failed"
fi

log "installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q || die "apt-get update failed"
$sudo apt-get install -y -q "${missing[@]}" ||
  die "apt-get install failed for: ${missing[*]}"
log "done"
