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
  # ONNX 1.12 and protobuf 3.21 (ONNX frontend), Python fixtures, ONNX's node tests
  libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx python3-numpy libonnx-testdata
  # tests and benchmarks
  libgtest-dev libbenchmark-dev
  # aarch64 cross tests under user-mode qemu
  g++-aarch64-linux-gnu qemu-user
  # the tokenizer's pre-tokenizer regex (PCRE2, linked statically into compiled models; the
  # aarch64 copy is fetched below)
  libpcre2-dev
  # the compiled executable's --server: JSON (header-only) and dpkg-source, which unpacks
  # cpp-httplib's source package (fetched below)
  nlohmann-json3-dev dpkg-dev
  # examples/server asks the server with curl
  curl
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

# Two files out of Debian's arm64 packages, unpacked without installing them (the host keeps no
# arm64 package): PCRE2's static library, which the aarch64 runtime links, and libc.so.6, which
# test/cross puts where an installed arm64 libc would be, to check that the tests' qemu command
# loads the cross sysroot's libc all the same (TERN_AARCH64_RUN in cmake/TernOptions.cmake).
arm_pcre2=/usr/local/lib/aarch64-linux-gnu/libpcre2-8.a
arm_libc=/usr/local/lib/tern-debian-arm64-libc/libc.so.6
fetch_arm64_file() { # package, file inside it, destination
  [ -f "$3" ] && return 0
  need_root "$3"
  log "fetching $2 for aarch64 ($1:arm64, unpacked, not installed)"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $sudo dpkg --add-architecture arm64 || die "dpkg --add-architecture arm64 failed"
    $sudo apt-get update -q || die "apt-get update failed"
  fi
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download -q "$1:arm64" && dpkg-deb -x "$1"_*_arm64.deb x) ||
    die "cannot download $1:arm64"
  $sudo install -D -m 644 "$tmp/x/$2" "$3" || die "cannot install $3"
  rm -rf "$tmp"
}
fetch_arm64_files() {
  fetch_arm64_file libpcre2-dev usr/lib/aarch64-linux-gnu/libpcre2-8.a "$arm_pcre2"
  fetch_arm64_file libc6 lib/aarch64-linux-gnu/libc.so.6 "$arm_libc"
}

# cpp-httplib for the compiled executable's --server, in its header-only form from Debian's
# source package (patched by Debian): the binary package ships it split into a shared library
# built with OpenSSL, zlib and brotli, which a standalone executable cannot link statically.
# apt's state for this one download is kept apart, so the machine's package lists stay as they
# are.
httplib_dir=/usr/local/src/cpp-httplib
fetch_httplib() {
  [ -f "$httplib_dir/httplib.h" ] && return 0
  need_root "$httplib_dir"
  log "fetching cpp-httplib's source (Debian's source package cpp-httplib, header-only)"
  local tmp
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
  cat > "$tmp/src.sources" <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  local apt_options=(-o "Dir::Etc::sourcelist=$tmp/src.sources" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache::Archives=$tmp/archives"
    -o "APT::Sandbox::User=root")
  $sudo apt-get "${apt_options[@]}" update -q >/dev/null || die "cannot read Debian's source index"
  # apt checked the files against the signed source index; --no-check skips dpkg-source's
  # second check of the .dsc's own signature, whose key is not on the machine.
  (cd "$tmp" && apt-get "${apt_options[@]}" source -q --download-only cpp-httplib >/dev/null &&
    dpkg-source --no-check -x cpp-httplib_*.dsc src >/dev/null) ||
    die "cannot fetch cpp-httplib's source"
  [ -f "$tmp/src/httplib.h" ] || die "cpp-httplib's source has no httplib.h"
  $sudo install -D -m 644 "$tmp/src/httplib.h" "$httplib_dir/httplib.h" &&
    $sudo install -D -m 644 "$tmp/src/LICENSE" "$httplib_dir/LICENSE" ||
    die "cannot install $httplib_dir"
  $sudo rm -rf "$tmp"
}

if [ ${#missing[@]} -eq 0 ]; then
  log "all ${#packages[@]} packages are installed"
  fetch_arm64_files
  fetch_httplib
  exit 0
fi

need_root "${missing[*]}"
log "installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q || die "apt-get update failed"
$sudo apt-get install -y -q "${missing[@]}" ||
  die "apt-get install failed for: ${missing[*]}"
fetch_arm64_files
fetch_httplib
log "done"
