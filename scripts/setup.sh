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
)

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  log "all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: install as root: ${missing[*]}"
  sudo="sudo"
fi

log "installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q || die "apt-get update failed"
$sudo apt-get install -y -q "${missing[@]}" ||
  die "apt-get install failed for: ${missing[*]}"
log "done"
