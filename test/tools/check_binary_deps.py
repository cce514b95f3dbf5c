#!/usr/bin/python3
"""check_binary_deps.py BINARY [LINK_FLAGS_FILE]

Fails unless BINARY (a program ternc produced) needs no shared library beyond the C library's
(libc, libm, libpthread, libdl and the dynamic loader) and defines no symbol of LLVM, MLIR or
Halide's compiler (the Halide runtime of the AOT kernels is part of it). LINK_FLAGS_FILE is the runtime
archive's link-flags: a sanitizer build's runtime also needs the sanitizers' libgcc_s and
libresolv.: a compiled model runs on a machine with none of them installed."""

import re
import subprocess
import sys

ALLOWED = re.compile(r"^(libc|libm|libpthread|libdl)\.so\.\d+$|^ld-linux-[a-z0-9_-]+\.so\.\d+$")
# Halide::Runtime:: is the AOT kernels' own small runtime, which belongs in the binary.
COMPILER_SYMBOL = re.compile(r"\b(llvm::|mlir::|Halide::(?!Runtime::))")


SANITIZER_LIBS = re.compile(r"^(libgcc_s\.so\.1|libresolv\.so\.2|librt\.so\.1)$")


def main(path, link_flags=None):
    sanitized = False
    if link_flags:
        with open(link_flags) as f:
            sanitized = "-fsanitize=" in f.read()
    out = subprocess.run(["llvm-readelf", "--needed-libs", path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    needed = [line.strip() for line in out.splitlines()
              if line.startswith("  ") and line.strip()]
    bad = [lib for lib in needed
           if not ALLOWED.match(lib) and not (sanitized and SANITIZER_LIBS.match(lib))]
    symbols = subprocess.run(["llvm-nm", "--demangle", path], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
    compiler = [s for s in symbols.splitlines() if COMPILER_SYMBOL.search(s)]
    if bad or compiler:
        sys.exit("%s: needs %s; compiler symbols: %s" % (path, bad or "nothing extra",
                                                          compiler[:5] or "none"))
    print("%s needs only %s" % (path, ", ".join(needed)))


if __name__ == "__main__":
    main(*sys.argv[1:3])
