//===- tern-ukernel-gen.cpp - generates the MLIR micro-kernels as objects ---------------------===//
//
// The MLIR counterpart of tern-kernel-gen: builds a micro-kernel in MLIR, lowers it to LLVM and
// writes an object (plus, for review, its MLIR, LLVM IR and assembly). Runs at build time.
//
//===------------------------------------------------------------------------------------------===//
#include "codegen/ukernels/GemvI2Avx2.h"
#include "codegen/ukernels/ObjectEmitter.h"
#include "tools/common/Registration.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>

namespace cl = llvm::cl;

static cl::OptionCategory category("tern-ukernel-gen options");
static cl::opt<std::string> kernel("kernel", cl::desc("Micro-kernel to generate: gemv_i2_avx2"),
                                   cl::Required, cl::cat(category));
static cl::opt<std::string> symbol("symbol", cl::desc("Symbol name of the kernel"), cl::Required,
                                   cl::cat(category));
static cl::opt<std::string> output("o", cl::desc("Object file to write"), cl::Required,
                                   cl::cat(category));
static cl::opt<std::string> assembly("asm", cl::desc("Also write the assembly here"),
                                     cl::cat(category));
static cl::opt<std::string> mlirOut("mlir", cl::desc("Also write the kernel's MLIR here"),
                                    cl::cat(category));
static cl::opt<std::string> llvmOut("llvm-ir", cl::desc("Also write the optimized LLVM IR here"),
                                    cl::cat(category));

static int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tern-ukernel-gen") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "tern-ukernel-gen: MLIR micro-kernels to objects\n");
  tern::registerPasses();
  mlir::DialectRegistry registry;
  tern::registerDialects(registry);
  mlir::MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();

  std::string source;
  tern::codegen::TargetSpec target;
  if (kernel == "gemv_i2_avx2") {
    source = tern::codegen::gemvI2Avx2Mlir(symbol);
    // Exactly the features the variant table requires (AVX2, FMA, F16C): no -v3 implied extras.
    target = {"x86_64-unknown-linux-gnu", "x86-64", "+avx,+avx2,+fma,+f16c,+sse4.1"};
  } else {
    return fail("unknown kernel '" + kernel + "'; expected gemv_i2_avx2");
  }
  if (!mlirOut.empty())
    std::ofstream(mlirOut) << source;
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::parseSourceString<mlir::ModuleOp>(source, &ctx);
  if (!module || mlir::failed(mlir::verify(*module)))
    return fail("the generated MLIR of " + kernel + " does not parse or verify (a generator bug)");
  if (llvm::Error e = tern::codegen::emitObject(*module, target, {output, assembly, llvmOut}))
    return fail(llvm::toString(std::move(e)));
  return 0;
}
