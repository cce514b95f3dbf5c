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
  # the tokenizer's pre-tokenizer regex (PCRE2, linked statically into compiled models; the
  # aarch64 copy is fetched below)
  libpcre2-dev
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

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
  sudo="sudo"
fi
need_root() {
  [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ] || die "not root and no sudo: run as root to install $*"
}

# The aarch64 runtime links PCRE2's static library for arm64, taken out of Debian's
# libpcre2-dev:arm64 package without installing it: an installed arm64 libc (which the package
# would pull in) is found by qemu-aarch64 before the cross toolchain's, and programs built
# against the cross libc then misbehave under qemu (the thread pool's tests hang).
arm_pcre2=/usr/local/lib/aarch64-linux-gnu/libpcre2-8.a
fetch_arm_pcre2() {
  [ -f "$arm_pcre2" ] && return 0
  need_root "$arm_pcre2"
  log "fetching PCRE2 for aarch64 (libpcre2-dev:arm64, unpacked, not installed)"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $sudo dpkg --add-architecture arm64 || die "dpkg --add-architecture arm64 failed"
    $sudo apt-get update -q || die "apt-get update failed"
  fi
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download -q libpcre2-dev:arm64 && dpkg-deb -x libpcre2-dev_*_arm64.deb x) ||
    die "cannot download libpcre2-dev:arm64"
  $sudo install -D -m 644 "$tmp/x/usr/lib/aarch64-linux-gnu/libpcre2-8.a" "$arm_pcre2" ||
    die "cannot install $arm_pcre2"
  rm -rf "$tmp"
}

if [ ${#missing[@]} -eq 0 ]; then
  log "all ${#packages[@]} packages are installed"
  fetch_arm_pcre2
  exit 0
fi

need_root "${missing[*]}"
log "installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q || die "apt-get update failed"
$sudo apt-get install -y -q "${missing[@]}" ||
  die "apt-get install failed for: ${missing[*]}"
fetch_arm_pcre2
log "done"
