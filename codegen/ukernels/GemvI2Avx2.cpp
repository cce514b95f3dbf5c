//===- GemvI2Avx2.cpp - the AVX2 multiply-add GEMV micro-kernel, written in MLIR --------------===//
#include "codegen/ukernels/GemvI2Avx2.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using llvm::formatv;

std::string tern::codegen::gemvI2Avx2Mlir(const std::string &name) {
  // Four row tiles, each as two halves of 8 rows (one ymm of 32 code bytes), four shifts.
  const int tiles = 4, halves = 2, shifts = 4, accs = tiles * halves;
  std::string text;
  llvm::raw_string_ostream os(text);
  auto list = [&](const char *fmt, int n) {
    for (int i = 0; i < n; ++i)
      os << (i ? ", " : "") << formatv(fmt, i);
  };
  os << "func.func @" << name
     << R"((%w: memref<?xi8>, %x: memref<?xi8>, %acc: memref<?xi32>,
    %kTiles: index, %ntBegin: index, %ntEnd: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %mask = arith.constant dense<3> : vector<32xi8>
  %sh0 = arith.constant dense<0> : vector<32xi8>
  %sh1 = arith.constant dense<2> : vector<32xi8>
  %sh2 = arith.constant dense<4> : vector<32xi8>
  %sh3 = arith.constant dense<6> : vector<32xi8>
  %ones = arith.constant dense<1> : vector<16xi16>
  %zero = arith.constant dense<0> : vector<8xi32>
  scf.for %nt = %ntBegin to %ntEnd step %c4 {
)";
  os << "    %res:" << accs << " = scf.for %kt = %c0 to %kTiles step %c1 iter_args(";
  list("%a{0} = %zero", accs);
  os << ") -> (";
  list("vector<8xi32>", accs);
  os << ") {\n";
  // The column tile's four 4-byte groups of activations, each broadcast to every 32-bit lane.
  os << "      %xo = arith.muli %kt, %c16 : index\n"
        "      %xv = vector.load %x[%xo] : memref<?xi8>, vector<16xi8>\n"
        "      %xw = vector.bitcast %xv : vector<16xi8> to vector<4xi32>\n";
  for (int g = 0; g < shifts; ++g)
    os << formatv("      %xe{0} = vector.extract %xw[{0}] : i32 from vector<4xi32>\n"
                  "      %xb{0} = vector.broadcast %xe{0} : i32 to vector<8xi32>\n"
                  "      %x{0} = vector.bitcast %xb{0} : vector<8xi32> to vector<32xi8>\n",
                  g);
  for (int t = 0; t < tiles; ++t) {
    // Tile (nt + t, kt) starts at byte ((nt + t) * kTiles + kt) * 64.
    os << formatv("      %nt{0} = arith.addi %nt, %c{0} : index\n"
                  "      %row{0} = arith.muli %nt{0}, %kTiles : index\n"
                  "      %tile{0} = arith.addi %row{0}, %kt : index\n"
                  "      %off{0}_0 = arith.muli %tile{0}, %c64 : index\n"
                  "      %off{0}_1 = arith.addi %off{0}_0, %c32 : index\n",
                  t);
    for (int h = 0; h < halves; ++h) {
      int a = t * halves + h;
      os << formatv("      %b{0} = vector.load %w[%off{1}_{2}] : memref<?xi8>, vector<32xi8>\n", a,
                    t, h);
      std::string sum = formatv("%a{0}", a).str();
      for (int g = 0; g < shifts; ++g) {
        // codes = (bytes >> 2g) & 3; u8 codes x i8 activations -> i16 pairs -> i32 per row.
        os << formatv("      %s{0}_{1} = arith.shrui %b{0}, %sh{1} : vector<32xi8>\n"
                      "      %k{0}_{1} = arith.andi %s{0}_{1}, %mask : vector<32xi8>\n"
                      "      %p{0}_{1} = llvm.call_intrinsic \"llvm.x86.avx2.pmadd.ub.sw\"("
                      "%k{0}_{1}, %x{1}) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>\n"
                      "      %q{0}_{1} = llvm.call_intrinsic \"llvm.x86.avx2.pmadd.wd\"("
                      "%p{0}_{1}, %ones) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>\n"
                      "      %n{0}_{1} = arith.addi {2}, %q{0}_{1} : vector<8xi32>\n",
                      a, g, sum);
        sum = formatv("%n{0}_{1}", a, g).str();
      }
    }
  }
  os << "      scf.yield ";
  for (int a = 0; a < accs; ++a)
    os << (a ? ", " : "") << formatv("%n{0}_{1}", a, shifts - 1);
  os << " : ";
  list("vector<8xi32>", accs);
  os << "\n    }\n";
  // acc[16 (nt + t) + 8 h ...] = the accumulator of tile t, half h.
  for (int t = 0; t < tiles; ++t)
    for (int h = 0; h < halves; ++h) {
      int a = t * halves + h;
      os << formatv("    %st{0} = arith.addi %nt, %c{1} : index\n"
                    "    %sb{0} = arith.muli %st{0}, %c16 : index\n"
                    "    %sa{0} = arith.addi %sb{0}, %c{2} : index\n"
                    "    vector.store %res#{0}, %acc[%sa{0}] : memref<?xi32>, vector<8xi32>\n",
                    a, t, h * 8);
    }
  os << "  }\n  return\n}\n";
  return text;
}
