//===- ObjectEmitter.cpp - MLIR module to a native object, in process -------------------------===//
#include "codegen/ukernels/ObjectEmitter.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"

using namespace tern::codegen;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The lowering to the LLVM dialect. This string runs on a module-anchored pass manager; wrapping
/// it in builtin.module(...) silently does nothing (../shared/notes/toolchain.md).
static const char *const kLowering =
    "convert-vector-to-llvm,convert-scf-to-cf,convert-to-llvm,reconcile-unrealized-casts";

/// Unrolls every scf.for a kernel writer tagged `tern.unroll = N` (a schedule knob written once
/// instead of N copies of the body), keeping a remainder loop for trip counts not a multiple.
static llvm::Error unrollTaggedLoops(mlir::ModuleOp module) {
  llvm::SmallVector<mlir::scf::ForOp> loops;
  module.walk([&](mlir::scf::ForOp loop) {
    if (loop->hasAttr("tern.unroll"))
      loops.push_back(loop);
  });
  for (mlir::scf::ForOp loop : loops) {
    auto factor = loop->getAttrOfType<mlir::IntegerAttr>("tern.unroll");
    if (!factor || factor.getInt() < 1)
      return fail("tern.unroll must be a positive integer");
    loop->removeAttr("tern.unroll");
    if (factor.getInt() > 1 && mlir::failed(mlir::loopUnrollByFactor(loop, factor.getInt())))
      return fail("cannot unroll a loop by " + llvm::Twine(factor.getInt()));
  }
  return llvm::Error::success();
}

llvm::Error tern::codegen::lowerToLLVMDialect(mlir::ModuleOp module) {
  if (llvm::Error e = unrollTaggedLoops(module))
    return e;
  mlir::PassManager pm(module.getContext());
  std::string pipelineError;
  llvm::raw_string_ostream errs(pipelineError);
  if (mlir::failed(mlir::parsePassPipeline(kLowering, pm, errs)))
    return fail("cannot build the lowering pipeline: " + pipelineError);
  if (mlir::failed(pm.run(module)))
    return fail("lowering to the LLVM dialect failed (see the diagnostics above)");
  return llvm::Error::success();
}

llvm::Error tern::codegen::emitObject(mlir::ModuleOp module, const TargetSpec &target,
                                      const EmitPaths &paths) {
  mlir::MLIRContext *ctx = module.getContext();
  if (llvm::Error e = lowerToLLVMDialect(module))
    return e;

  mlir::registerBuiltinDialectTranslation(*ctx);
  mlir::registerLLVMDialectTranslation(*ctx);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = mlir::translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return fail("translation to LLVM IR failed");

  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  llvm::Triple triple(target.triple);
  std::string lookupError;
  const llvm::Target *llvmTarget = llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!llvmTarget)
    return fail("unknown target '" + target.triple + "': " + lookupError);
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.cpu, target.features, options, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return fail("cannot create a target machine for " + target.triple);
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", target.cpu);
    f.addFnAttr("target-features", target.features);
  }
  auto optimize = mlir::makeOptimizingTransformer(3, 0, machine.get());
  if (llvm::Error e = optimize(llvmModule.get()))
    return e;

  if (!paths.llvmIR.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream out(paths.llvmIR, ec);
    if (ec)
      return fail(paths.llvmIR + ": " + ec.message());
    llvmModule->print(out, nullptr);
  }
  // Code generation rewrites the IR it runs on, so the assembly comes from a copy.
  auto emit = [&](const std::string &path, llvm::CodeGenFileType type,
                  llvm::Module &m) -> llvm::Error {
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
    if (ec)
      return fail(path + ": " + ec.message());
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, out, nullptr, type))
      return fail("the target cannot emit " + path);
    codegen.run(m);
    return llvm::Error::success();
  };
  if (!paths.assembly.empty()) {
    std::unique_ptr<llvm::Module> copy = llvm::CloneModule(*llvmModule);
    if (llvm::Error e = emit(paths.assembly, llvm::CodeGenFileType::AssemblyFile, *copy))
      return e;
  }
  if (paths.object.empty())
    return llvm::Error::success();
  return emit(paths.object, llvm::CodeGenFileType::ObjectFile, *llvmModule);
}
