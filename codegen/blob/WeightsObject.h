//===- WeightsObject.h - a weights file as an ELF object to link into a program -*- C++ -*-===//
//
// --weights=embed: the weights file becomes the section .rodata.tern_weights of a relocatable
// ELF object, defining tern_embedded_weights (64-byte aligned) and tern_embedded_weights_size
// (a uint64), which the runtime reads (runtime/src/model.c). The file is copied through a small
// buffer, so a 1 GB model costs no memory here (an assembler's .incbin holds it all).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_CODEGEN_BLOB_WEIGHTSOBJECT_H
#define TERN_CODEGEN_BLOB_WEIGHTSOBJECT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace tern::codegen {

enum class ObjectMachine { X86_64, AArch64 };

llvm::Error writeWeightsObject(llvm::StringRef blobPath, llvm::StringRef objectPath,
                               ObjectMachine machine);

} // namespace tern::codegen

#endif
