//===- Link.h - ternc's back end: weights object, static library, executable ---*- C++ -*-===//
//
// What happens after the model's object is written: the static library (one archive with the
// runtime, written in process) with its C header, and the executable (linked by clang with
// lld). The weights object comes from codegen/blob/WeightsObject.h.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TOOLS_COMMON_LINK_H
#define TERN_TOOLS_COMMON_LINK_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace tern::driver {

/// How a tern target is compiled and linked (from passes/Targets.h): its LLVM triple, its CPU
/// for the graph code and the runtime archive's architecture folder (lib/tern/<arch>/).
struct Platform {
  std::string triple, cpu, arch;
};

/// The clang driver that links: `override` if given, else clang-22 on PATH, else LLVM 22's.
llvm::Expected<std::string> findLinker(llvm::StringRef override);

/// The folder holding <arch>/libtern_runtime.a, <arch>/link-flags and include/tern/model.h:
/// `override` if given, else <ternc's folder>/../lib/tern.
llvm::Expected<std::string> findRuntimeDir(llvm::StringRef override, const char *argv0);

/// Links `objects` into one relocatable object (ld -r).
llvm::Error linkRelocatable(llvm::StringRef linker, const Platform &platform,
                            llvm::ArrayRef<std::string> objects, llvm::StringRef output);

/// Links `objects` with the runtime archive into an executable.
llvm::Error linkExecutable(llvm::StringRef linker, const Platform &platform,
                           llvm::StringRef runtimeDir, llvm::ArrayRef<std::string> objects,
                           llvm::StringRef output, bool verbose);

/// One static archive: `objects` plus every member of the runtime archive.
llvm::Error writeLibrary(const Platform &platform, llvm::StringRef runtimeDir,
                         llvm::ArrayRef<std::string> objects, llvm::StringRef output);

/// The library's C header: the runtime's tern/model.h and this model's constants.
llvm::Error writeLibraryHeader(llvm::StringRef runtimeDir, llvm::StringRef output,
                               llvm::StringRef library, llvm::StringRef model,
                               llvm::ArrayRef<std::pair<std::string, int64_t>> constants);

} // namespace tern::driver

#endif
