//===- MadI2Avx2.cpp - the AVX2 multiply-add GEMV/GEMM micro-kernels, written in MLIR ---------===//
#include "codegen/ukernels/MadI2Avx2.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

using llvm::formatv;

std::string tern::codegen::madI2Avx2Mlir(const std::string &name, int tiles, int tokens,
                                         bool avx512) {
  // A row tile (64 code bytes) is one zmm of 16 rows, or two ymm halves of 8 rows; four shifts.
  const int bytes = avx512 ? 64 : 32, halves = 64 / bytes, lanes = bytes / 4, shifts = 4;
  const int accs = tiles * halves * tokens;
  const std::string vb = formatv("vector<{0}xi8>", bytes).str();
  const std::string vw = formatv("vector<{0}xi16>", bytes / 2).str();
  const std::string vd = formatv("vector<{0}xi32>", lanes).str();
  const char *maddubs = avx512 ? "llvm.x86.avx512.pmaddubs.w.512" : "llvm.x86.avx2.pmadd.ub.sw";
  const char *maddwd = avx512 ? "llvm.x86.avx512.pmaddw.d.512" : "llvm.x86.avx2.pmadd.wd";
  auto accIndex = [&](int t, int h, int tok) { return (t * halves + h) * tokens + tok; };
  std::string text;
  llvm::raw_string_ostream os(text);
  auto list = [&](const char *fmt, int n) {
    for (int i = 0; i < n; ++i)
      os << (i ? ", " : "") << formatv(fmt, i);
  };
  os << "func.func @" << name
     << R"((%w: memref<?xi8>, %x: memref<?xi8>, %acc: memref<?xi32>,
    %kTiles: index, %ntBegin: index, %ntEnd: index, %xStride: index, %accStride: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c12 = arith.constant 12 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
)";
  os << formatv("  %mask = arith.constant dense<3> : {0}\n"
                "  %sh1 = arith.constant dense<2> : {0}\n"
                "  %sh2 = arith.constant dense<4> : {0}\n"
                "  %sh3 = arith.constant dense<6> : {0}\n"
                "  %ones = arith.constant dense<1> : {1}\n"
                "  %zero = arith.constant dense<0> : {2}\n",
                vb, vw, vd);
  os << formatv("  %cTiles = arith.constant {0} : index\n", tiles);
  // Each token's activation row and accumulator row.
  for (int tok = 0; tok < tokens; ++tok)
    os << formatv("  %tok{0} = arith.constant {0} : index\n"
                  "  %xRow{0} = arith.muli %tok{0}, %xStride : index\n"
                  "  %aRow{0} = arith.muli %tok{0}, %accStride : index\n",
                  tok);
  os << "  scf.for %nt = %ntBegin to %ntEnd step %cTiles {\n";
  os << "    %res:" << accs << " = scf.for %kt = %c0 to %kTiles step %c1 iter_args(";
  list("%a{0} = %zero", accs);
  os << ") -> (";
  for (int a = 0; a < accs; ++a)
    os << (a ? ", " : "") << vd;
  os << ") {\n";
  os << "      %xo = arith.muli %kt, %c16 : index\n";
  std::vector<std::string> sums(accs); // the running int16 sum of each accumulator
  // The tiles' code vectors: tile (nt + t, kt) starts at byte ((nt + t) * kTiles + kt) * 64.
  for (int t = 0; t < tiles; ++t) {
    os << formatv("      %nt{0} = arith.addi %nt, %c{0} : index\n"
                  "      %row{0} = arith.muli %nt{0}, %kTiles : index\n"
                  "      %tile{0} = arith.addi %row{0}, %kt : index\n"
                  "      %off{0}_0 = arith.muli %tile{0}, %c64 : index\n"
                  "      %off{0}_1 = arith.addi %off{0}_0, %c32 : index\n",
                  t);
    for (int h = 0; h < halves; ++h)
      os << formatv("      %b{0}_{1} = vector.load %w[%off{0}_{1}] : memref<?xi8>, {2}\n", t, h,
                    vb);
  }
  for (int g = 0; g < shifts; ++g) {
    // codes = (bytes >> 2g) & 3, the same shift for every lane.
    for (int t = 0; t < tiles; ++t)
      for (int h = 0; h < halves; ++h) {
        if (g == 0)
          os << formatv("      %k{0}_{1}_0 = arith.andi %b{0}_{1}, %mask : {2}\n", t, h, vb);
        else
          os << formatv("      %s{0}_{1}_{2} = arith.shrui %b{0}_{1}, %sh{2} : {3}\n"
                        "      %k{0}_{1}_{2} = arith.andi %s{0}_{1}_{2}, %mask : {3}\n",
                        t, h, g, vb);
      }
    // Each token's 4-byte group g, broadcast to every 32-bit lane (a load-broadcast).
    for (int tok = 0; tok < tokens; ++tok)
      os << formatv("      %xg{0}_{1}o = arith.addi %xo, %c{2} : index\n"
                    "      %xg{0}_{1}a = arith.addi %xg{0}_{1}o, %xRow{0} : index\n"
                    "      %xg{0}_{1}v = vector.load %x[%xg{0}_{1}a] : memref<?xi8>, vector<4xi8>\n"
                    "      %xg{0}_{1}i = vector.bitcast %xg{0}_{1}v : vector<4xi8> to vector<1xi32>\n"
                    "      %xg{0}_{1}e = vector.extract %xg{0}_{1}i[0] : i32 from vector<1xi32>\n"
                    "      %xg{0}_{1}b = vector.broadcast %xg{0}_{1}e : i32 to {3}\n"
                    "      %xg{0}_{1} = vector.bitcast %xg{0}_{1}b : {3} to {4}\n",
                    tok, g, 4 * g, vd, vb);
    // u8 codes x i8 activations -> i16 pairs, summed over the four shifts in int16.
    for (int t = 0; t < tiles; ++t)
      for (int h = 0; h < halves; ++h)
        for (int tok = 0; tok < tokens; ++tok) {
          int a = accIndex(t, h, tok);
          std::string product = formatv("%p{0}_{1}", a, g).str();
          os << formatv("      {0} = llvm.call_intrinsic \"{5}\"(%k{1}_{2}_{3}, %xg{4}_{3}) : "
                        "({6}, {6}) -> {7}\n",
                        product, t, h, g, tok, maddubs, vb, vw);
          if (g == 0) {
            sums[a] = product;
          } else {
            std::string sum = formatv("%q{0}_{1}", a, g).str();
            os << formatv("      {0} = arith.addi {1}, {2} : {3}\n", sum, sums[a], product, vw);
            sums[a] = sum;
          }
        }
  }
  // The int16 sums widened to int32 pairs and added to the accumulators.
  for (int a = 0; a < accs; ++a)
    os << formatv("      %m{0} = llvm.call_intrinsic \"{2}\"({1}, %ones) : ({3}, {3}) -> {4}\n"
                  "      %n{0} = arith.addi %a{0}, %m{0} : {4}\n",
                  a, sums[a], maddwd, vw, vd);
  os << "      scf.yield ";
  list("%n{0}", accs);
  os << " : ";
  for (int a = 0; a < accs; ++a)
    os << (a ? ", " : "") << vd;
  os << "\n    }\n";
  // acc[token row + 16 (nt + t) + lanes h ...] = the accumulator of tile t, half h, token.
  for (int t = 0; t < tiles; ++t)
    for (int h = 0; h < halves; ++h)
      for (int tok = 0; tok < tokens; ++tok) {
        int a = accIndex(t, h, tok);
        os << formatv("    %st{0} = arith.addi %nt, %c{1} : index\n"
                      "    %sb{0} = arith.muli %st{0}, %c16 : index\n"
                      "    %sc{0} = arith.addi %sb{0}, %c{2} : index\n"
                      "    %sa{0} = arith.addi %sc{0}, %aRow{3} : index\n"
                      "    vector.store %res#{0}, %acc[%sa{0}] : memref<?xi32>, {4}\n",
                      a, t, h * lanes, tok, vd);
      }
  os << "  }\n  return\n}\n";
  return text;
}
