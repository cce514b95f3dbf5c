//===- ternc.cpp - the tern compiler driver ---------------------------------------------------===//
//
// ternc <model_dir> --emit=mlir          imports a Hugging Face BitNet checkpoint, prints tern IR
// ternc <model_dir> --emit=mlir-packed   ... then fuses, selects kernels for --target and packs
// The later phases (plan, lower, emit) join the --emit ladder as the pipeline lands.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/hf/HFImporter.h"

#include "dialects/weights/WeightStore.h"
#include "tools/common/Registration.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/CommandLine.h"
#include "codegen/blob/WeightBlobWriter.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <sys/resource.h>

namespace cl = llvm::cl;

namespace {
enum class Emit { MLIR, MLIRPacked };

cl::OptionCategory category("ternc options");
cl::opt<std::string> input(cl::Positional, cl::desc("<model dir>"), cl::Required,
                           cl::cat(category));
cl::opt<std::string> output("o", cl::desc("Output file ('-' for stdout)"), cl::init("-"),
                            cl::value_desc("file"), cl::cat(category));
cl::opt<Emit> emit("emit", cl::desc("What to produce"), cl::init(Emit::MLIR),
                   cl::values(clEnumValN(Emit::MLIR, "mlir", "the imported tern IR"),
                              clEnumValN(Emit::MLIRPacked, "mlir-packed",
                                         "the IR after fusion, kernel selection and packing")),
                   cl::cat(category));
cl::opt<std::string> target("target",
                            cl::desc("CPU to compile for: host, x86-64-avx2, x86-64-avx512, "
                                     "x86-64-avx512-vnni, x86-64-multi, aarch64, "
                                     "aarch64-dotprod or generic"),
                            cl::init("host"), cl::cat(category));
cl::opt<std::string> tuning("tuning", cl::desc("Tuning database (JSON) for kernel selection"),
                            cl::value_desc("file"), cl::cat(category));
cl::opt<int64_t> batch("batch",
                       cl::desc("Largest number of tokens one forward call processes (the "
                                "prefill chunk; default 512)"),
                       cl::init(512), cl::value_desc("N"), cl::cat(category));
cl::opt<int64_t> contextLength("context",
                               cl::desc("KV-cache context length in positions (default 4096)"),
                               cl::init(4096), cl::value_desc("N"), cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("Print no progress or summary"), cl::cat(category));

/// Peak resident memory of this process, in bytes.
uint64_t peakRSS() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return uint64_t(usage.ru_maxrss) * 1024;
}

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "ternc") << message << "\n";
  return 1;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  // --mlir-print-ir-after-all, --mlir-timing, ... for the pass pipeline.
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  // libLLVM registers hundreds of backend flags; --help shows ternc's own. The MLIR printing
  // flags (--mlir-print-debuginfo, ...) stay accepted.
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "ternc: compile a ternary (BitNet b1.58) model to native code\n");
  if (!llvm::sys::fs::is_directory(input))
    return fail(input + ": not a checkpoint folder (expected config.json and *.safetensors)");

  mlir::DialectRegistry registry;
  tern::registerDialects(registry);
  mlir::MLIRContext ctx(registry);
  ::tern::WeightStore store;
  ::tern::hf::ImportOptions options;
  int64_t lastReported = -1;
  if (!quiet)
    options.progress = [&](int64_t done, int64_t total) {
      // About ten lines for a large model, none for a small one.
      if (total < 8 || done == lastReported || (done % std::max<int64_t>(1, total / 10) != 0 &&
                                                done != total))
        return;
      lastReported = done;
      llvm::errs() << llvm::formatv("ternc: importing {0}: layer {1}/{2}\n", input.getValue(),
                                    done, total);
    };
  auto start = std::chrono::steady_clock::now();
  ::tern::hf::ImportStats stats;
  auto module = ::tern::hf::importCheckpoint(ctx, input, store, options, &stats);
  if (!module)
    return fail(llvm::toString(module.takeError()));
  if (mlir::failed(mlir::verify(**module)))
    return fail("the imported module does not verify (an importer bug): see the errors above");
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::string pipelineSummary;
  if (emit == Emit::MLIRPacked) {
    // optimize -> select -> pack (docs/design.md): the packed bytes go to the weight store.
    mlir::PassManager pm(&ctx);
    if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
      return fail("bad MLIR pass-manager options");
    mlir::DefaultTimingManager timing;
    mlir::applyDefaultTimingManagerCLOptions(timing);
    mlir::TimingScope timingScope = timing.getRootScope();
    pm.enableTiming(timingScope);
    mlir::tern::addOptimizePasses(pm);
    pm.addPass(mlir::tern::createTernSelectKernelsPass(
        mlir::tern::TernSelectKernelsPassOptions{target, tuning}));
    pm.addPass(mlir::tern::createTernPackWeightsPass(store));
    pm.addPass(mlir::tern::createTernSetContextLengthPass(
        mlir::tern::TernSetContextLengthPassOptions{contextLength, true}));
    // Activations are planned for one prefill chunk: longer prompts run in several calls.
    if (batch <= 0 || contextLength <= 0)
      return fail("--batch and --context must be positive");
    mlir::tern::TernPlanMemoryPassOptions plan;
    plan.maxTokens = std::min<int64_t>(batch, contextLength);
    pm.addNestedPass<mlir::func::FuncOp>(mlir::tern::createTernPlanMemoryPass(plan));
    auto passStart = std::chrono::steady_clock::now();
    if (mlir::failed(pm.run(**module)))
      return fail("compiling " + input + " failed: see the errors above");
    auto forward = (*module)->lookupSymbol<mlir::func::FuncOp>("forward");
    auto attr = [&](llvm::StringRef name) {
      auto a = forward ? forward->getAttrOfType<mlir::IntegerAttr>(name) : nullptr;
      return a ? double(a.getInt()) : 0.0;
    };
    pipelineSummary = llvm::formatv(
        "ternc: fused, selected kernels for {0}, packed and planned in {1:f2} s: {2:f1} MB "
        "packed, activation arena {3:f2} MB for {4} tokens, KV cache {5:f1} MB\n",
        (**module)->getAttrOfType<mlir::StringAttr>("tern.target").getValue(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - passStart).count(),
        double(store.ownedBytes()) / 1e6, attr("tern.arena_bytes") / 1e6,
        int64_t(attr("tern.max_tokens")), attr("tern.kv_cache_bytes") / 1e6);
  }

  // The weights file beside the packed IR (out.mlir -> out.weights): every tensor the model
  // reads, with its offset recorded on its tern.weight.
  if (emit == Emit::MLIRPacked && output != "-") {
    std::vector<std::string> names;
    llvm::StringSet<> seen;
    (*module)->walk([&](mlir::tern::WeightOp w) {
      if (seen.insert(w.getName()).second)
        names.push_back(w.getName().str());
    });
    llvm::SmallString<256> blobPath(output.getValue());
    llvm::sys::path::replace_extension(blobPath, "weights");
    llvm::StringMap<uint64_t> offsets;
    if (llvm::Error e = ::tern::codegen::writeWeightBlob(store, names, blobPath, offsets))
      return fail(llvm::toString(std::move(e)));
    mlir::Builder b(&ctx);
    (*module)->walk([&](mlir::tern::WeightOp w) {
      w->setAttr("tern.offset", b.getI64IntegerAttr(int64_t(offsets.lookup(w.getName()))));
    });
    if (!quiet)
      pipelineSummary += llvm::formatv("ternc: wrote {0} ({1} tensors)\n", blobPath, names.size());
  }

  std::string errorMessage;
  auto out = mlir::openOutputFile(output, &errorMessage);
  if (!out)
    return fail(errorMessage);
  (*module)->print(out->os());
  out->os() << "\n";
  out->keep();

  if (!quiet) {
    const auto &t = stats.ternary;
    double n = double(std::max<int64_t>(1, t.total()));
    llvm::errs() << llvm::formatv(
        "ternc: imported {0} in {1:f2} s: {2:f3} G parameters, {3:f1} MB of tensors, "
        "{4} ternary weights (-1 {5:f1}%, 0 {6:f1}%, +1 {7:f1}%), {8} unused tensors, "
        "peak RSS {9:f1} MB\n",
        input.getValue(), seconds, double(stats.parameters) / 1e9,
        double(stats.checkpointBytes) / 1e6, t.total(), 100.0 * double(t.negative) / n,
        100.0 * double(t.zero) / n, 100.0 * double(t.positive) / n, stats.unusedTensors,
        double(peakRSS()) / 1e6);
    llvm::errs() << pipelineSummary;
  }
  return 0;
}
