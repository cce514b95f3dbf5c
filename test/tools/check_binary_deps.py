#!/usr/bin/python3
"""check_binary_deps.py BINARY

Fails unless BINARY (a program ternc produced) needs no shared library beyond the C library's
(libc, libm, libpthread, libdl and the dynamic loader) and defines no symbol of LLVM, MLIR or
Halide's compiler (the Halide runtime of the AOT kernels is part of it): a compiled model runs on a machine with none of them installed."""

import re
import subprocess
import sys

ALLOWED = re.compile(r"^(libc|libm|libpthread|libdl)\.so\.\d+$|^ld-linux-[a-z0-9_-]+\.so\.\d+$")
# Halide::Runtime:: is the AOT kernels' own small runtime, which belongs in the binary.
COMPILER_SYMBOL = re.compile(r"\b(llvm::|mlir::|Halide::(?!Runtime::))")


def main(path):
    out = subprocess.run(["llvm-readelf", "--needed-libs", path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    needed = [line.strip() for line in out.splitlines()
              if line.startswith("  ") and line.strip()]
    bad = [lib for lib in needed if not ALLOWED.match(lib)]
    symbols = subprocess.run(["llvm-nm", "--demangle", path], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
    compiler = [s for s in symbols.splitlines() if COMPILER_SYMBOL.search(s)]
    if bad or compiler:
        sys.exit("%s: needs %s; compiler symbols: %s" % (path, bad or "nothing extra",
                                                          compiler[:5] or "none"))
    print("%s needs only %s" % (path, ", ".join(needed)))


if __name__ == "__main__":
    main(sys.argv[1])
