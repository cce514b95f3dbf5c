//===- Registration.h - dialects and passes every tern tool registers ---------------*- C++ -*-===//
#ifndef TERN_TOOLS_COMMON_REGISTRATION_H
#define TERN_TOOLS_COMMON_REGISTRATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace tern {

/// Adds the tern dialect and every upstream MLIR dialect and dialect extension to `registry`.
void registerDialects(mlir::DialectRegistry &registry);

/// Registers tern's passes and pipelines and the upstream MLIR passes with the global pass
/// registry, so that `--<pass-flag>` works in tern-opt and ternc. Safe to call more than once.
void registerPasses();

} // namespace tern

#endif // TERN_TOOLS_COMMON_REGISTRATION_H
