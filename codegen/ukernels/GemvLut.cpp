//===- GemvLut.cpp - the lookup-table (tl1 / tl2) micro-kernels, written in MLIR --------------===//
#include "codegen/ukernels/GemvLut.h"
#include "codegen/ukernels/HalideExtern.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

using llvm::formatv;

namespace {

using tern::codegen::LutIsa;
using tern::codegen::LutKernelSpec;
using tern::codegen::LutLayout;

constexpr int kBlockRows = 64; // rows per block of both layouts
constexpr int kTableBytes = 32;
/// Groups accumulated in int16 before widening: |entry| <= 3 * 128 (+1 for a flipped tl2
/// value), and 64 * 385 < 32767.
constexpr int kGroupsPerFlush = 64;

class Writer {
public:
  Writer(const std::string &name, const LutKernelSpec &spec) : spec(spec), os(text) {
    vec = spec.isa == LutIsa::AVX512 ? 64 : spec.isa == LutIsa::AVX2 ? 32 : 16;
    half = vec / 2;
    tl2 = spec.layout == LutLayout::TL2;
    groupsPerUnit = tl2 ? 8 : 2;
    unitBytes = tl2 ? 320 : 64;
    writeFunction(name);
  }
  std::string take() { return std::move(text); }

private:
  const LutKernelSpec &spec;
  std::string text;
  llvm::raw_string_ostream os;
  int vec, half, groupsPerUnit, unitBytes;
  bool tl2;
  int counter = 0;

  std::string fresh(llvm::StringRef prefix) { return formatv("%{0}{1}", prefix, counter++).str(); }
  std::string bytes() const { return formatv("vector<{0}xi8>", vec).str(); }
  std::string words() const { return formatv("vector<{0}xi16>", half).str(); }

  /// `%name = <a> <op> <b>` on index values; returns the result.
  std::string index(llvm::StringRef op, llvm::StringRef a, llvm::StringRef b) {
    std::string r = fresh("i");
    os << formatv("    {0} = arith.{1} {2}, {3} : index\n", r, op, a, b);
    return r;
  }
  std::string constant(int64_t v) {
    std::string r = fresh("k");
    os << formatv("    {0} = arith.constant {1} : index\n", r, v);
    return r;
  }

  /// The 16-byte table at byte offset `off`, repeated across every 16-byte lane of a vector.
  std::string loadTable(llvm::StringRef off) {
    std::string t = fresh("t");
    os << formatv("    {0} = vector.load %tab[{1}] : memref<?xi8>, vector<16xi8>\n", t, off);
    if (vec == 16)
      return t;
    std::string b = fresh("tb");
    os << "    " << b << " = vector.shuffle " << t << ", " << t << " [";
    for (int i = 0; i < vec; ++i)
      os << (i ? ", " : "") << i % 16;
    os << "] : vector<16xi8>, vector<16xi8>\n";
    return b;
  }

  std::string lookup(llvm::StringRef table, llvm::StringRef idx) {
    std::string r = fresh("l");
    const char *intrinsic = spec.isa == LutIsa::AVX512 ? "llvm.x86.avx512.pshuf.b.512"
                            : spec.isa == LutIsa::AVX2 ? "llvm.x86.avx2.pshuf.b"
                                                       : "llvm.aarch64.neon.tbl1";
    os << formatv("    {0} = llvm.call_intrinsic \"{1}\"({2}, {3}) : ({4}, {4}) -> {4}\n", r,
                  intrinsic, table, idx, bytes());
    return r;
  }

  /// Interleaves low and high bytes of each 16-byte lane's first (second) 8 entries: one
  /// vpunpcklbw (vpunpckhbw) on x86, zip1 (zip2) on ARM; the result is int16 values.
  std::string interleave(llvm::StringRef lo, llvm::StringRef hi, int upper) {
    std::string s = fresh("s"), w = fresh("w");
    os << "    " << s << " = vector.shuffle " << lo << ", " << hi << " [";
    bool first = true;
    for (int lane = 0; lane < vec / 16; ++lane)
      for (int i = 0; i < 8; ++i) {
        int byte = 16 * lane + 8 * upper + i;
        os << (first ? "" : ", ") << byte << ", " << vec + byte;
        first = false;
      }
    os << formatv("] : {0}, {0}\n", bytes());
    os << formatv("    {0} = vector.bitcast {1} : {2} to {3}\n", w, s, bytes(), words());
    return w;
  }

  /// Looks group `group` (table offset `tableLo`) up by the indices `idx`, flips the bits of
  /// negative tl2 groups, and adds the int16 values to accumulators a and b.
  void accumulate(llvm::StringRef tlo, llvm::StringRef thi, llvm::StringRef idx,
                  llvm::StringRef signs, int signBit, std::string &a, std::string &b) {
    std::string lo = lookup(tlo, idx), hi = lookup(thi, idx);
    if (tl2) {
      std::string m = fresh("m"), e = fresh("e"), mask = fresh("mk"), lx = fresh("lx"),
                  hx = fresh("hx");
      os << formatv("    {0} = arith.andi {1}, %bit{2} : {3}\n", m, signs, signBit, bytes());
      os << formatv("    {0} = arith.cmpi eq, {1}, %bit{2} : {3}\n", e, m, signBit, bytes());
      os << formatv("    {0} = arith.extsi {1} : vector<{2}xi1> to {3}\n", mask, e, vec, bytes());
      os << formatv("    {0} = arith.xori {1}, {2} : {3}\n", lx, lo, mask, bytes());
      os << formatv("    {0} = arith.xori {1}, {2} : {3}\n", hx, hi, mask, bytes());
      lo = lx, hi = hx;
    }
    std::string wa = interleave(lo, hi, 0), wb = interleave(lo, hi, 1);
    std::string na = fresh("a"), nb = fresh("a");
    os << formatv("    {0} = arith.addi {1}, {2} : {3}\n", na, a, wa, words());
    os << formatv("    {0} = arith.addi {1}, {2} : {3}\n", nb, b, wb, words());
    a = na, b = nb;
  }

  /// One loop over row blocks [lb, ub), `rowBlocks` at a time.
  void writeRowLoop(int rowBlocks, llvm::StringRef lb, llvm::StringRef ub) {
    int vectors = kBlockRows / vec, accs = 2 * rowBlocks * vectors;
    int unitsPerFlush = kGroupsPerFlush / groupsPerUnit;
    std::string step = constant(rowBlocks), flushStep = constant(unitsPerFlush);
    std::string nb = fresh("nb"), kb = fresh("kb");
    os << formatv("    scf.for {0} = {1} to {2} step {3} {{\n", nb, lb, ub, step);
    os << formatv("    scf.for {0} = %c0 to %units step {1} {{\n", kb, flushStep);
    std::string kend = fresh("kend");
    std::string kbe = index("addi", kb, flushStep);
    os << formatv("    {0} = arith.minui {1}, %units : index\n", kend, kbe);
    std::string res = fresh("r"), u = fresh("u");
    os << formatv("    {0}:{1} = scf.for {2} = {3} to {4} step %c1 iter_args(", res, accs, u, kb,
                  kend);
    std::vector<std::string> acc(accs);
    for (int i = 0; i < accs; ++i) {
      acc[i] = formatv("%acc{0}_{1}", counter, i).str();
      os << (i ? ", " : "") << acc[i] << " = %zero16";
    }
    ++counter;
    os << ") -> (";
    for (int i = 0; i < accs; ++i)
      os << (i ? ", " : "") << words();
    os << ") {\n";

    // The unit's tables: group g's low plane at (units_before * groupsPerUnit + g) * 32.
    std::string g0 = index("muli", u, groupsPerUnit == 2 ? "%c2" : "%c8");
    std::string t0 = index("muli", g0, "%c32");
    std::vector<std::string> tlo(groupsPerUnit), thi(groupsPerUnit);
    for (int g = 0; g < groupsPerUnit; ++g) {
      tlo[g] = loadTable(index("addi", t0, constant(g * kTableBytes)));
      thi[g] = loadTable(index("addi", t0, constant(g * kTableBytes + 16)));
    }
    for (int rb = 0; rb < rowBlocks; ++rb) {
      std::string blk = index("addi", nb, constant(rb));
      std::string unit = index("addi", index("muli", blk, "%units"), u);
      std::string base = index("muli", unit, constant(unitBytes));
      for (int v = 0; v < vectors; ++v) {
        std::string &a = acc[(rb * vectors + v) * 2], &b = acc[(rb * vectors + v) * 2 + 1];
        std::string signs;
        if (tl2) {
          signs = fresh("sg");
          os << formatv("    {0} = vector.load %w[{1}] : memref<?xi8>, {2}\n", signs,
                        index("addi", base, constant(4 * kBlockRows + v * vec)), bytes());
        }
        for (int q = 0; q < groupsPerUnit / 2; ++q) {
          std::string raw = fresh("ib"), i0 = fresh("ix"), i1 = fresh("ix");
          os << formatv("    {0} = vector.load %w[{1}] : memref<?xi8>, {2}\n", raw,
                        index("addi", base, constant(q * kBlockRows + v * vec)), bytes());
          os << formatv("    {0} = arith.andi {1}, %low4 : {2}\n", i0, raw, bytes());
          os << formatv("    {0} = arith.shrui {1}, %four : {2}\n", i1, raw, bytes());
          accumulate(tlo[2 * q], thi[2 * q], i0, signs, 2 * q, a, b);
          accumulate(tlo[2 * q + 1], thi[2 * q + 1], i1, signs, 2 * q + 1, a, b);
        }
      }
    }
    os << "    scf.yield ";
    for (int i = 0; i < accs; ++i)
      os << (i ? ", " : "") << acc[i];
    os << " : ";
    for (int i = 0; i < accs; ++i)
      os << (i ? ", " : "") << words();
    os << "\n    }\n";

    // Widen and add to acc. Accumulator (rb, v, upper) lane l holds rows
    // 64 (nb + rb) + v * vec + 16 l + 8 upper + [0, 8).
    for (int rb = 0; rb < rowBlocks; ++rb) {
      std::string blockRow = index("muli", index("addi", nb, constant(rb)), "%c64");
      for (int v = 0; v < vectors; ++v)
        for (int upper = 0; upper < 2; ++upper) {
          std::string wide = fresh("x");
          os << formatv("    {0} = arith.extsi {1}#{2} : {3} to vector<{4}xi32>\n", wide, res,
                        (rb * vectors + v) * 2 + upper, words(), half);
          for (int lane = 0; lane < vec / 16; ++lane) {
            std::string part = wide;
            if (half > 8) {
              part = fresh("p");
              os << formatv("    {0} = vector.extract_strided_slice {1} {{offsets = [{2}], "
                            "sizes = [8], strides = [1]} : vector<{3}xi32> to vector<8xi32>\n",
                            part, wide, 8 * lane, half);
            }
            std::string row =
                index("addi", blockRow, constant(v * vec + 16 * lane + 8 * upper));
            std::string old = fresh("o"), sum = fresh("n");
            os << formatv("    {0} = vector.load %acc[{1}] : memref<?xi32>, vector<8xi32>\n", old,
                          row);
            os << formatv("    {0} = arith.addi {1}, {2} : vector<8xi32>\n", sum, old, part);
            os << formatv("    vector.store {0}, %acc[{1}] : memref<?xi32>, vector<8xi32>\n", sum,
                          row);
          }
        }
    }
    os << "    }\n    }\n";
  }

  void writeFunction(const std::string &name) {
    os << "func.func @" << name
       << "(%w: memref<?xi8>, %tab: memref<?xi8>, %acc: memref<?xi32>, %units: index,\n"
          "    %blockBegin: index, %blockEnd: index) {\n"
          "    %c0 = arith.constant 0 : index\n"
          "    %c1 = arith.constant 1 : index\n"
          "    %c2 = arith.constant 2 : index\n"
          "    %c8 = arith.constant 8 : index\n"
          "    %c32 = arith.constant 32 : index\n"
          "    %c64 = arith.constant 64 : index\n";
    os << formatv("    %low4 = arith.constant dense<15> : {0}\n", bytes());
    os << formatv("    %four = arith.constant dense<4> : {0}\n", bytes());
    os << formatv("    %zero16 = arith.constant dense<0> : {0}\n", words());
    if (tl2)
      for (int b = 0; b < 8; ++b)
        os << formatv("    %bit{0} = arith.constant dense<{1}> : {2}\n", b,
                      int(int8_t(uint8_t(1u << b))), bytes());
    // Row blocks in steps of `rowBlocks`, then the remainder one at a time.
    std::string end = "%blockEnd";
    if (spec.rowBlocks > 1) {
      std::string count = index("subi", "%blockEnd", "%blockBegin");
      std::string rem = index("remui", count, constant(spec.rowBlocks));
      end = index("subi", "%blockEnd", rem);
      writeRowLoop(spec.rowBlocks, "%blockBegin", end);
      writeRowLoop(1, end, "%blockEnd");
    } else {
      writeRowLoop(1, "%blockBegin", "%blockEnd");
    }
    os << "    return\n}\n";
  }
};

} // namespace

std::string tern::codegen::gemvLutMlir(const std::string &name, const LutKernelSpec &spec) {
  return Writer(name, spec).take();
}

namespace {

constexpr const char *kBufferType = tern::codegen::kHalideBufferType;
constexpr const char *kDimType = tern::codegen::kHalideDimType;

/// Writes the Halide extern-stage wrapper of a shape-specialized LUT micro-kernel.
class TileWriter {
public:
  TileWriter(const std::string &name, const LutKernelSpec &spec, int64_t rows, int64_t cols)
      : os(text) {
    bool tl2 = spec.layout == LutLayout::TL2;
    int64_t paddedRows = (rows + kBlockRows - 1) / kBlockRows * kBlockRows;
    int64_t units = tl2 ? (cols + 23) / 24 : (cols + 3) / 4;
    int64_t unitBytes = tl2 ? 320 : 64;
    int64_t groups = tl2 ? units * 8 : units * 2;
    int64_t weightBytes = paddedRows / kBlockRows * units * unitBytes;
    int64_t blobBytes = weightBytes + (tl2 ? paddedRows * 4 : 0);
    // The body is private to this object: the optimizer inlines it and folds `units`.
    std::string body = gemvLutMlir(name + "_body", spec);
    llvm::StringRef header = "%blockEnd: index) {";
    body.replace(body.find(header.str()), header.size(),
                 "%blockEnd: index) attributes {llvm.linkage = #llvm.linkage<internal>} {");
    os << body;
    os << formatv(R"(
func.func @{0}(%w: !llvm.ptr, %tab: !llvm.ptr, %acc: !llvm.ptr) -> i32 {{
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    %c64 = arith.constant 64 : index
    %ok = arith.constant 0 : i32
    %zero_i32 = arith.constant 0 : i32
    %units = arith.constant {1} : index
    %null = llvm.mlir.zero : !llvm.ptr
    // Halide's bounds queries pass the tables (a Halide stage) without memory; w may be a copy
    // of the real buffer there.
    %tabHostP = llvm.getelementptr %tab[0, 2] : (!llvm.ptr) -> !llvm.ptr, {2}
    %tabHost = llvm.load %tabHostP : !llvm.ptr -> !llvm.ptr
    %query = llvm.icmp "eq" %tabHost, %null : !llvm.ptr
    %accDimP = llvm.getelementptr %acc[0, 6] : (!llvm.ptr) -> !llvm.ptr, {2}
    %accDim = llvm.load %accDimP : !llvm.ptr -> !llvm.ptr
    %rowMinP = llvm.getelementptr %accDim[0, 0] : (!llvm.ptr) -> !llvm.ptr, {3}
    %rowMin = llvm.load %rowMinP : !llvm.ptr -> i32
    %rowExtP = llvm.getelementptr %accDim[0, 1] : (!llvm.ptr) -> !llvm.ptr, {3}
    %rowExt = llvm.load %rowExtP : !llvm.ptr -> i32
    %tMinP = llvm.getelementptr %accDim[1, 0] : (!llvm.ptr) -> !llvm.ptr, {3}
    %tMin = llvm.load %tMinP : !llvm.ptr -> i32
    %tExtP = llvm.getelementptr %accDim[1, 1] : (!llvm.ptr) -> !llvm.ptr, {3}
    %tExt = llvm.load %tExtP : !llvm.ptr -> i32
    %tabDimP = llvm.getelementptr %tab[0, 6] : (!llvm.ptr) -> !llvm.ptr, {2}
    %tabDim = llvm.load %tabDimP : !llvm.ptr -> !llvm.ptr
    %wDimP = llvm.getelementptr %w[0, 6] : (!llvm.ptr) -> !llvm.ptr, {2}
    %wDim = llvm.load %wDimP : !llvm.ptr -> !llvm.ptr
    scf.if %query {{
      // Bounds query: all of w; every table of the region's tokens.
      %wBytes = arith.constant {4} : i32
      %d0min = llvm.getelementptr %wDim[0, 0] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %zero_i32, %d0min : i32, !llvm.ptr
      %d0ext = llvm.getelementptr %wDim[0, 1] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %wBytes, %d0ext : i32, !llvm.ptr
      %tabExt0 = arith.constant 16 : i32
      %tabExt1 = arith.constant 2 : i32
      %tabExt2 = arith.constant {5} : i32
      %t0min = llvm.getelementptr %tabDim[0, 0] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %zero_i32, %t0min : i32, !llvm.ptr
      %t0ext = llvm.getelementptr %tabDim[0, 1] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %tabExt0, %t0ext : i32, !llvm.ptr
      %t1min = llvm.getelementptr %tabDim[1, 0] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %zero_i32, %t1min : i32, !llvm.ptr
      %t1ext = llvm.getelementptr %tabDim[1, 1] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %tabExt1, %t1ext : i32, !llvm.ptr
      %t2min = llvm.getelementptr %tabDim[2, 0] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %zero_i32, %t2min : i32, !llvm.ptr
      %t2ext = llvm.getelementptr %tabDim[2, 1] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %tabExt2, %t2ext : i32, !llvm.ptr
      %t3min = llvm.getelementptr %tabDim[3, 0] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %tMin, %t3min : i32, !llvm.ptr
      %t3ext = llvm.getelementptr %tabDim[3, 1] : (!llvm.ptr) -> !llvm.ptr, {3}
      llvm.store %tExt, %t3ext : i32, !llvm.ptr
    } else {{
      %accHostP = llvm.getelementptr %acc[0, 2] : (!llvm.ptr) -> !llvm.ptr, {2}
      %accHost = llvm.load %accHostP : !llvm.ptr -> !llvm.ptr
      %accStrideP = llvm.getelementptr %accDim[1, 2] : (!llvm.ptr) -> !llvm.ptr, {3}
      %accStride32 = llvm.load %accStrideP : !llvm.ptr -> i32
      %accStride = arith.extsi %accStride32 : i32 to i64
      %wHostP = llvm.getelementptr %w[0, 2] : (!llvm.ptr) -> !llvm.ptr, {2}
      %wHost = llvm.load %wHostP : !llvm.ptr -> !llvm.ptr
      %tabMinP = llvm.getelementptr %tabDim[3, 0] : (!llvm.ptr) -> !llvm.ptr, {3}
      %tabMin = llvm.load %tabMinP : !llvm.ptr -> i32
      %tabStrideP = llvm.getelementptr %tabDim[3, 2] : (!llvm.ptr) -> !llvm.ptr, {3}
      %tabStride32 = llvm.load %tabStrideP : !llvm.ptr -> i32
      %tabStride = arith.extsi %tabStride32 : i32 to i64
      %rowMin64 = arith.extsi %rowMin : i32 to i64
      %rowExt64 = arith.extsi %rowExt : i32 to i64
      %rows = arith.index_cast %rowExt : i32 to index
      %blocks = arith.divui %rows, %c64 : index
      // The region's first block: its weights start units * unitBytes bytes per block in.
      %blockBytes = arith.constant {6} : i64
      %c64_i64 = arith.constant 64 : i64
      %firstBlock = arith.divui %rowMin64, %c64_i64 : i64
      %wOffset = arith.muli %firstBlock, %blockBytes : i64
      %wRegion = llvm.getelementptr %wHost[%wOffset] : (!llvm.ptr, i64) -> !llvm.ptr, i8
      %wSize = arith.constant {7} : i64
      %wLeft = arith.subi %wSize, %wOffset : i64
      %wMem = func.call @{0}_memref_i8(%wRegion, %wLeft) : (!llvm.ptr, i64) -> memref<?xi8>
      %tabBytes = arith.constant {8} : i64
      %tMinIdx64 = arith.extsi %tMin : i32 to i64
      %tabMin64 = arith.extsi %tabMin : i32 to i64
      %tExtIdx = arith.index_cast %tExt : i32 to index
      scf.for %t = %c0 to %tExtIdx step %c1 {{
        %t64 = arith.index_cast %t : index to i64
        %tAbs = arith.addi %t64, %tMinIdx64 : i64
        %tRel = arith.subi %tAbs, %tabMin64 : i64
        %tabOff = arith.muli %tRel, %tabStride : i64
        %tabT = llvm.getelementptr %tabHost[%tabOff] : (!llvm.ptr, i64) -> !llvm.ptr, i8
        %tabMem = func.call @{0}_memref_i8(%tabT, %tabBytes) : (!llvm.ptr, i64) -> memref<?xi8>
        %accOff = arith.muli %t64, %accStride : i64
        %accT = llvm.getelementptr %accHost[%accOff] : (!llvm.ptr, i64) -> !llvm.ptr, i32
        %accMem = func.call @{0}_memref_i32(%accT, %rowExt64) : (!llvm.ptr, i64) -> memref<?xi32>
)",
                  name, units, kBufferType, kDimType, blobBytes, groups,
                  units * unitBytes, weightBytes, groups * kTableBytes);
    if (tl2) {
      // tl2 kernels add flipped values (-v - 1) for negative groups: start from their count,
      // stored after the weights, one int32 per padded row.
      os << formatv(R"(        %negOff = arith.constant {0} : i64
        %negBase = llvm.getelementptr %wHost[%negOff] : (!llvm.ptr, i64) -> !llvm.ptr, i8
        %negRegion = llvm.getelementptr %negBase[%rowMin64] : (!llvm.ptr, i64) -> !llvm.ptr, i32
        %negMem = func.call @{1}_memref_i32(%negRegion, %rowExt64) : (!llvm.ptr, i64) -> memref<?xi32>
        scf.for %r = %c0 to %rows step %c8 {{
          %v = vector.load %negMem[%r] : memref<?xi32>, vector<8xi32>
          vector.store %v, %accMem[%r] : memref<?xi32>, vector<8xi32>
        }
)",
                    weightBytes, name);
    } else {
      os << R"(        %zeros = arith.constant dense<0> : vector<8xi32>
        scf.for %r = %c0 to %rows step %c8 {
          vector.store %zeros, %accMem[%r] : memref<?xi32>, vector<8xi32>
        }
)";
    }
    os << formatv(R"(        func.call @{0}_body(%wMem, %tabMem, %accMem, %units, %c0, %blocks)
            : (memref<?xi8>, memref<?xi8>, memref<?xi32>, index, index, index) -> ()
      }
    }
    return %ok : i32
}
)",
                  name);
    os << tern::codegen::memrefFromPointerHelpers(name);
  }
  std::string take() { return std::move(text); }

private:
  std::string text;
  llvm::raw_string_ostream os;
};

} // namespace

std::string tern::codegen::lutTileMlir(const std::string &name, const LutKernelSpec &spec,
                                       int64_t rows, int64_t cols) {
  return TileWriter(name, spec, rows, cols).take();
}
