//===- TernParseFuzzer.cpp - libFuzzer target for tern's textual IR ---------------------------===//
//
// The first input byte picks what the rest is parsed as:
//   0: a tern type (the text after "!tern.")       1: a tern attribute (after "#tern.")
//   2: a whole module, verified.
// Oracles: no crash, hang or sanitizer report; and whatever parses (and verifies) prints to text
// that parses again to the same thing. Built in the sanitizer build (-DTERN_BUILD_FUZZERS=ON).
//
//===------------------------------------------------------------------------------------------===//
#include "dialects/tern/TernDialect.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace mlir;

namespace {

MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    registry.insert<tern::TernDialect, func::FuncDialect, arith::ArithDialect,
                    tensor::TensorDialect>();
    auto *c = new MLIRContext(registry);
    c->loadAllAvailableDialects();
    c->printOpOnDiagnostic(false);
    return c;
  }();
  return *ctx;
}

template <typename T> std::string print(T value) {
  std::string s;
  llvm::raw_string_ostream os(s);
  value.print(os);
  return s;
}

[[noreturn]] void fail(const char *what, const std::string &first, const std::string &second) {
  std::fprintf(stderr, "round trip failed (%s):\n--- printed\n%s\n--- reprinted\n%s\n", what,
               first.c_str(), second.c_str());
  std::abort();
}

/// Whatever parsed must print to text that parses to the same type or attribute.
template <typename T, typename Parse>
void roundTrip(const char *what, T value, Parse parse) {
  if (!value)
    return;
  std::string printed = print(value);
  T again = parse(printed);
  if (again != value)
    fail(what, printed, again ? print(again) : "<does not parse>");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  MLIRContext &ctx = context();
  // Parse errors are expected; only crashes and broken round trips are bugs.
  ScopedDiagnosticHandler silence(&ctx, [](Diagnostic &) { return success(); });
  std::string text(reinterpret_cast<const char *>(data + 1), size - 1);

  switch (data[0] % 3) {
  case 0:
    roundTrip("type", parseType("!tern." + text, &ctx),
              [&](const std::string &t) { return parseType(t, &ctx); });
    break;
  case 1:
    roundTrip("attribute", parseAttribute("#tern." + text, &ctx),
              [&](const std::string &t) { return parseAttribute(t, &ctx); });
    break;
  default: {
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &ctx);
    if (!module)
      break;
    std::string printed = print(*module);
    OwningOpRef<ModuleOp> again = parseSourceString<ModuleOp>(printed, &ctx);
    if (!again)
      fail("module", printed, "<does not parse or verify>");
    std::string reprinted = print(*again);
    if (reprinted != printed)
      fail("module", printed, reprinted);
    break;
  }
  }
  return 0;
}
