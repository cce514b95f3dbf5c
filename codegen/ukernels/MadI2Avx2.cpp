//===- MadI2Avx2.cpp - the AVX2 multiply-add GEMV/GEMM micro-kernels, written in MLIR ---------===//
#include "codegen/ukernels/MadI2Avx2.h"
#include "codegen/ukernels/HalideExtern.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

using llvm::formatv;

std::string tern::codegen::madI2Avx2Mlir(const std::string &name, int tiles, int tokens,
                                         bool avx512, int prefetch, int unroll) {
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
  os << formatv("  %cPrefetch = arith.constant {0} : index\n", 64 * prefetch);
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
    // A prefetch past the blob's end is harmless (it never faults).
    if (prefetch > 0)
      os << formatv("      %pf{0} = arith.addi %off{0}_0, %cPrefetch : index\n"
                    "      memref.prefetch %w[%pf{0}], read, locality<3>, data : memref<?xi8>\n",
                    t);
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
  // The loop over column tiles, unrolled by the lowering (ObjectEmitter) if asked.
  os << formatv("\n    } {{tern.unroll = {0} : i64}\n", unroll);
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

std::string tern::codegen::madTileMlir(const std::string &name, int tiles, int tokens,
                                       bool avx512, int prefetch, int unroll, int64_t rows,
                                       int64_t cols) {
  // The body is private to this object: the optimizer inlines it and folds k_tiles.
  std::string body = madI2Avx2Mlir(name + "_body", tiles, tokens, avx512, prefetch, unroll);
  const std::string header = "%accStride: index) {";
  body.replace(body.find(header), header.size(),
               "%accStride: index) attributes {llvm.linkage = #llvm.linkage<internal>} {");
  int64_t kTiles = (cols + 15) / 16, nTiles = (rows + 63) / 64 * 4;
  std::string text = body;
  text += formatv(R"(
func.func @{0}(%w: !llvm.ptr, %x: !llvm.ptr, %acc: !llvm.ptr) -> i32 {{
    %c0 = arith.constant 0 : index
    %ok = arith.constant 0 : i32
    %bad = arith.constant -1 : i32
    %zero_i32 = arith.constant 0 : i32
    %null = llvm.mlir.zero : !llvm.ptr
    %kTiles = arith.constant {1} : index
    %kTiles_i32 = arith.constant {1} : i32
    %nTiles_i32 = arith.constant {2} : i32
    %kCols_i32 = arith.constant {3} : i32
    %c64_i32 = arith.constant 64 : i32
    %cTokens = arith.constant {4} : index
    %cTiles_i32 = arith.constant {5} : i32
    // Halide's bounds queries pass the activations (a Halide stage) without memory.
    %xHostP = llvm.getelementptr %x[0, 2] : (!llvm.ptr) -> !llvm.ptr, {6}
    %xHost = llvm.load %xHostP : !llvm.ptr -> !llvm.ptr
    %query = llvm.icmp "eq" %xHost, %null : !llvm.ptr
    %accDimP = llvm.getelementptr %acc[0, 6] : (!llvm.ptr) -> !llvm.ptr, {6}
    %accDim = llvm.load %accDimP : !llvm.ptr -> !llvm.ptr
    %ntMinP = llvm.getelementptr %accDim[1, 0] : (!llvm.ptr) -> !llvm.ptr, {7}
    %ntMin = llvm.load %ntMinP : !llvm.ptr -> i32
    %ntExtP = llvm.getelementptr %accDim[1, 1] : (!llvm.ptr) -> !llvm.ptr, {7}
    %ntExt = llvm.load %ntExtP : !llvm.ptr -> i32
    %tMinP = llvm.getelementptr %accDim[2, 0] : (!llvm.ptr) -> !llvm.ptr, {7}
    %tMin = llvm.load %tMinP : !llvm.ptr -> i32
    %tExtP = llvm.getelementptr %accDim[2, 1] : (!llvm.ptr) -> !llvm.ptr, {7}
    %tExt = llvm.load %tExtP : !llvm.ptr -> i32
    %xDimP = llvm.getelementptr %x[0, 6] : (!llvm.ptr) -> !llvm.ptr, {6}
    %xDim = llvm.load %xDimP : !llvm.ptr -> !llvm.ptr
    %status = scf.if %query -> i32 {{
      // All of w; the columns of x (padded to whole tiles) for the region's tokens.
      %wDimP = llvm.getelementptr %w[0, 6] : (!llvm.ptr) -> !llvm.ptr, {6}
      %wDim = llvm.load %wDimP : !llvm.ptr -> !llvm.ptr
      %w0min = llvm.getelementptr %wDim[0, 0] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %zero_i32, %w0min : i32, !llvm.ptr
      %w0ext = llvm.getelementptr %wDim[0, 1] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %c64_i32, %w0ext : i32, !llvm.ptr
      %w1min = llvm.getelementptr %wDim[1, 0] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %zero_i32, %w1min : i32, !llvm.ptr
      %w1ext = llvm.getelementptr %wDim[1, 1] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %kTiles_i32, %w1ext : i32, !llvm.ptr
      %w2min = llvm.getelementptr %wDim[2, 0] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %zero_i32, %w2min : i32, !llvm.ptr
      %w2ext = llvm.getelementptr %wDim[2, 1] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %nTiles_i32, %w2ext : i32, !llvm.ptr
      %x0min = llvm.getelementptr %xDim[0, 0] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %zero_i32, %x0min : i32, !llvm.ptr
      %x0ext = llvm.getelementptr %xDim[0, 1] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %kCols_i32, %x0ext : i32, !llvm.ptr
      %x1min = llvm.getelementptr %xDim[1, 0] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %tMin, %x1min : i32, !llvm.ptr
      %x1ext = llvm.getelementptr %xDim[1, 1] : (!llvm.ptr) -> !llvm.ptr, {7}
      llvm.store %tExt, %x1ext : i32, !llvm.ptr
      scf.yield %ok : i32
    } else {{
      // The micro-kernel steps `tiles` row tiles and `tokens` tokens at a time: a region that
      // is not made of whole steps is refused (the bucket table sends whole token groups).
      %tileRem = arith.remsi %ntExt, %cTiles_i32 : i32
      %tokens_i32 = arith.index_cast %cTokens : index to i32
      %tokRem = arith.remsi %tExt, %tokens_i32 : i32
      %rems = arith.ori %tileRem, %tokRem : i32
      %whole = arith.cmpi eq, %rems, %zero_i32 : i32
      %r = scf.if %whole -> i32 {{
        %wHostP = llvm.getelementptr %w[0, 2] : (!llvm.ptr) -> !llvm.ptr, {6}
        %wHost = llvm.load %wHostP : !llvm.ptr -> !llvm.ptr
        %accHostP = llvm.getelementptr %acc[0, 2] : (!llvm.ptr) -> !llvm.ptr, {6}
        %accHost = llvm.load %accHostP : !llvm.ptr -> !llvm.ptr
        %accStrideP = llvm.getelementptr %accDim[2, 2] : (!llvm.ptr) -> !llvm.ptr, {7}
        %accStride32 = llvm.load %accStrideP : !llvm.ptr -> i32
        %accStride64 = arith.extsi %accStride32 : i32 to i64
        %accStride = arith.index_cast %accStride32 : i32 to index
        %xMinP = llvm.getelementptr %xDim[1, 0] : (!llvm.ptr) -> !llvm.ptr, {7}
        %xMin = llvm.load %xMinP : !llvm.ptr -> i32
        %xStrideP = llvm.getelementptr %xDim[1, 2] : (!llvm.ptr) -> !llvm.ptr, {7}
        %xStride32 = llvm.load %xStrideP : !llvm.ptr -> i32
        %xStride64 = arith.extsi %xStride32 : i32 to i64
        %xStride = arith.index_cast %xStride32 : i32 to index
        // The region's first row tile: the kernel counts tiles from it.
        %ntMin64 = arith.extsi %ntMin : i32 to i64
        %tileRowBytes = arith.constant {8} : i64
        %wOffset = arith.muli %ntMin64, %tileRowBytes : i64
        %wRegion = llvm.getelementptr %wHost[%wOffset] : (!llvm.ptr, i64) -> !llvm.ptr, i8
        %wSize = arith.constant {9} : i64
        %wLeft = arith.subi %wSize, %wOffset : i64
        %wMem = func.call @{0}_memref_i8(%wRegion, %wLeft) : (!llvm.ptr, i64) -> memref<?xi8>
        %tRel = arith.subi %tMin, %xMin : i32
        %tRel64 = arith.extsi %tRel : i32 to i64
        %xOffset = arith.muli %tRel64, %xStride64 : i64
        %xRegion = llvm.getelementptr %xHost[%xOffset] : (!llvm.ptr, i64) -> !llvm.ptr, i8
        %tExt64 = arith.extsi %tExt : i32 to i64
        %xBytes = arith.muli %tExt64, %xStride64 : i64
        %accWords = arith.muli %tExt64, %accStride64 : i64
        %ntEnd = arith.index_cast %ntExt : i32 to index
        %tEnd = arith.index_cast %tExt : i32 to index
        scf.for %t = %c0 to %tEnd step %cTokens {{
          %t64 = arith.index_cast %t : index to i64
          %xo = arith.muli %t64, %xStride64 : i64
          %xp = llvm.getelementptr %xRegion[%xo] : (!llvm.ptr, i64) -> !llvm.ptr, i8
          %xl = arith.subi %xBytes, %xo : i64
          %xm = func.call @{0}_memref_i8(%xp, %xl) : (!llvm.ptr, i64) -> memref<?xi8>
          %ao = arith.muli %t64, %accStride64 : i64
          %ap = llvm.getelementptr %accHost[%ao] : (!llvm.ptr, i64) -> !llvm.ptr, i32
          %al = arith.subi %accWords, %ao : i64
          %am = func.call @{0}_memref_i32(%ap, %al) : (!llvm.ptr, i64) -> memref<?xi32>
          func.call @{0}_body(%wMem, %xm, %am, %kTiles, %c0, %ntEnd, %xStride, %accStride)
              : (memref<?xi8>, memref<?xi8>, memref<?xi32>, index, index, index, index, index) -> ()
        }
        scf.yield %ok : i32
      } else {{
        scf.yield %bad : i32
      }
      scf.yield %r : i32
    }
    return %status : i32
}
)",
                  name, kTiles, nTiles, kTiles * 16, tokens, tiles, kHalideBufferType,
                  kHalideDimType, kTiles * 64, nTiles * kTiles * 64)
              .str();
  text += memrefFromPointerHelpers(name);
  return text;
}
