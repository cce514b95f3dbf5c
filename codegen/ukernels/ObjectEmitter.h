//===- ObjectEmitter.h - MLIR (LLVM-dialect-ready) module to a native object, in process --*- C++ -*-===//
//
// Lowers a module of func/scf/arith/vector/memref ops to the LLVM dialect, translates it to LLVM
// IR, optimizes it for a target machine and writes an object file (and optionally the assembly
// and the LLVM IR for review). No external tool is spawned.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_CODEGEN_UKERNELS_OBJECTEMITTER_H
#define TERN_CODEGEN_UKERNELS_OBJECTEMITTER_H

#include "mlir/IR/BuiltinOps.h"

#include "llvm/Support/Error.h"

#include <string>

namespace tern::codegen {

struct TargetSpec {
  std::string triple;   ///< e.g. x86_64-unknown-linux-gnu
  std::string cpu;      ///< e.g. x86-64-v3
  std::string features; ///< e.g. +avx2,+fma,+f16c
};

struct EmitPaths {
  std::string object;   ///< optional
  std::string assembly; ///< optional
  std::string llvmIR;   ///< optional
};

/// Lowers a module of func/scf/cf/arith/vector/memref (and llvm) ops in place to the LLVM
/// dialect with MLIR's conversion passes, after unrolling the scf.for loops a kernel writer
/// tagged `tern.unroll = N`.
llvm::Error lowerToLLVMDialect(mlir::ModuleOp module);

/// Lowers `module` in place to the LLVM dialect and writes the requested files.
llvm::Error emitObject(mlir::ModuleOp module, const TargetSpec &target, const EmitPaths &paths);

} // namespace tern::codegen

#endif
