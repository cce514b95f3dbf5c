//===- HalideExtern.cpp - MLIR pieces of a Halide extern-stage wrapper ------------------------===//
#include "codegen/ukernels/HalideExtern.h"

#include "llvm/Support/FormatVariadic.h"

std::string tern::codegen::memrefFromPointerHelpers(const std::string &prefix) {
  const char *descriptor = "!llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>";
  std::string text;
  for (const char *elem : {"i8", "i32"})
    text += llvm::formatv(R"(
func.func @{0}_memref_{1}(%base: !llvm.ptr, %size: i64) -> memref<?x{1}>
    attributes {{llvm.linkage = #llvm.linkage<internal>} {{
    %zero = arith.constant 0 : i64
    %one = arith.constant 1 : i64
    %d0 = llvm.mlir.poison : {2}
    %d1 = llvm.insertvalue %base, %d0[0] : {2}
    %d2 = llvm.insertvalue %base, %d1[1] : {2}
    %d3 = llvm.insertvalue %zero, %d2[2] : {2}
    %d4 = llvm.insertvalue %size, %d3[3, 0] : {2}
    %d5 = llvm.insertvalue %one, %d4[4, 0] : {2}
    %m = builtin.unrealized_conversion_cast %d5 : {2} to memref<?x{1}>
    return %m : memref<?x{1}>
}
)",
                          prefix, elem, descriptor)
                .str();
  return text;
}
