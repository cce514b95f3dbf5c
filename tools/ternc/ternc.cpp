//===- ternc.cpp - the tern compiler driver ---------------------------------------------------===//
//
// ternc <checkpoint dir | model.mlir> [--emit=...] [--target=...] -o <output>
// (a .mlir is IR of any phase that ternc wrote, with the weights file beside it)
//
// The phases (docs/design.md), each a pass-manager run whose IR --dump-phases-to keeps and
// --compile-to stops after:
//   import    Hugging Face checkpoint -> tern IR (the weight store keeps the tensors)
//   optimize  fusion (Q/K/V, gate/up, norm + quantization, relu2 * up + quantization)
//   select    a kernel family, variant and schedule per op for --target
//   pack      ternary weights into their kernel's layout, float operands into f32
//   plan      the activation arena, per-op scratch, the KV-cache size; then the weights blob
//             is written and every tern.weight records its offset in it
//   runtime   calls of the runtime's graph ops (tern-lower-to-runtime)
//   llvm      the LLVM dialect (MLIR's convert-to-llvm)
// then LLVM IR -> object in process, and the link (clang + lld) with the runtime archive.
//
//===------------------------------------------------------------------------------------------===//
#include "tools/common/Link.h"

#include "codegen/blob/WeightBlobWriter.h"
#include "codegen/blob/WeightsObject.h"
#include "codegen/ukernels/ObjectEmitter.h"
#include "dialects/weights/WeightStore.h"
#include "frontends/gguf/GgufImporter.h"
#include "frontends/hf/HFImporter.h"
#include "frontends/hf/Tokenizer.h"
#include "frontends/onnx/OnnxImporter.h"
#include "passes/GeneratedKernels.h"
#include "passes/Passes.h"
#include "passes/Targets.h"
#include "tools/common/KernelGenerator.h"
#include "tools/common/Registration.h"

#include "tern/weight_blob.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include "OutputFiles.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <functional>
#include <cstring>
#include <sys/resource.h>

namespace cl = llvm::cl;
using namespace tern::driver;
using tern::ternc::OutputFiles;

namespace {
enum class Emit { MLIR, MLIRPacked, LLVM, Asm, Obj, Lib, Exe };
enum class Phase { Import, Optimize, Select, Pack, Plan, Runtime, LLVMDialect };
const char *const kPhaseNames[] = {"import", "optimize", "select", "pack",
                                   "plan",   "runtime",  "llvm"};
enum class Weights { Embed, File };

cl::OptionCategory category("ternc options");
cl::opt<std::string> input(cl::Positional,
                           cl::desc("<checkpoint dir, an .onnx or .gguf model, or a .mlir file "
                                    "ternc wrote (with its .weights)>"),
                           cl::Required, cl::cat(category));
cl::opt<std::string> output("o",
                            cl::desc("Output file ('-' for stdout; default: stdout for text, "
                                     "<model>.o / lib<model>.a / <model> otherwise)"),
                            cl::value_desc("file"), cl::cat(category));
cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"), cl::init(Emit::Exe),
    cl::values(clEnumValN(Emit::MLIR, "mlir", "the imported tern IR"),
               clEnumValN(Emit::MLIRPacked, "mlir-packed",
                          "the IR after fusion, kernel selection, packing and memory planning, "
                          "with its weights file"),
               clEnumValN(Emit::LLVM, "llvm", "the model's LLVM IR"),
               clEnumValN(Emit::Asm, "asm", "the model's assembly"),
               clEnumValN(Emit::Obj, "obj", "the model's object file"),
               clEnumValN(Emit::Lib, "lib",
                          "a static library (model, weights, runtime) and its C header"),
               clEnumValN(Emit::Exe, "exe", "a standalone executable (the default)")),
    cl::cat(category));
cl::opt<Phase> compileTo(
    "compile-to", cl::desc("Stop after this phase and print its IR (overrides --emit)"),
    cl::values(clEnumValN(Phase::Import, "import", "the imported tern IR"),
               clEnumValN(Phase::Optimize, "optimize", "after fusion"),
               clEnumValN(Phase::Select, "select", "after kernel selection"),
               clEnumValN(Phase::Pack, "pack", "after weight packing"),
               clEnumValN(Phase::Plan, "plan", "after memory planning (= --emit=mlir-packed)"),
               clEnumValN(Phase::Runtime, "runtime", "as calls of the runtime's graph ops"),
               clEnumValN(Phase::LLVMDialect, "llvm", "in the LLVM dialect")),
    cl::cat(category));
cl::opt<std::string> dumpPhasesTo("dump-phases-to",
                                  cl::desc("Write the IR after every phase to <dir>/NN-<phase>.mlir"),
                                  cl::value_desc("dir"), cl::cat(category));
cl::opt<std::string> target("target",
                            cl::desc("CPU to compile for: host, x86-64-avx2, x86-64-avx512, "
                                     "x86-64-avx512-vnni, x86-64-multi, aarch64, "
                                     "aarch64-dotprod or generic"),
                            cl::init("host"), cl::cat(category));
cl::opt<Weights> weights(
    "weights", cl::desc("Where the executable or library finds its weights"),
    cl::init(Weights::Embed),
    cl::values(clEnumValN(Weights::Embed, "embed", "inside it (the default)"),
               clEnumValN(Weights::File, "file",
                          "in <output>.weights beside it, mmapped and checked at start")),
    cl::cat(category));
enum class Head { Exact, Q8_0, Q6_K };
cl::opt<Head> head(
    "head", cl::desc("How the output head is stored"), cl::init(Head::Exact),
    cl::values(clEnumValN(Head::Exact, "exact",
                          "as the checkpoint stores it (BF16 for 2B4T; the default)"),
               clEnumValN(Head::Q8_0, "q8_0",
                          "8 bits, a scale per 32 weights (GGUF's Q8_0 numbers): half the "
                          "bytes, int8 dot products with the activations"),
               clEnumValN(Head::Q6_K, "q6_k",
                          "6.5625 bits, an 8-bit scale per 16 weights and a 16-bit one per "
                          "256 (GGUF's Q6_K numbers): 41% of the bytes, int8 dot products")),
    cl::cat(category));
enum class FloatMatMul { Reject, Keep };
cl::opt<FloatMatMul> floatMatMul(
    "float-matmul",
    cl::desc("ONNX input: a projection with float weights and unquantized activations"),
    cl::init(FloatMatMul::Reject),
    cl::values(clEnumValN(FloatMatMul::Reject, "reject",
                          "an error naming the node (the default: BitNet's projections are "
                          "ternary)"),
               clEnumValN(FloatMatMul::Keep, "keep",
                          "kept as tern.matmul (float weights, no activation quantization)")),
    cl::cat(category));
cl::list<std::string> shapes(
    "shapes",
    cl::desc("ONNX input: values of the graph's symbolic dims (e.g. "
             "--shapes=sequence_length=128,total_sequence_length=2048); static lengths become the "
             "defaults of --batch (sequence) and --context (total)"),
    cl::value_desc("name=N,..."), cl::CommaSeparated, cl::cat(category));
enum class FfnAct { Auto, ReLU2, SiLU };
cl::opt<FfnAct> ffnAct(
    "ffn-act",
    cl::desc("GGUF input: the FFN activation, where the file's architecture does not decide it"),
    cl::init(FfnAct::Auto),
    cl::values(clEnumValN(FfnAct::Auto, "auto",
                          "bitnet-25 and bitnet-b1.58: relu2; bitnet: relu2 for BitNet b1.58 "
                          "2B4T's sizes, else SiLU as llama.cpp's graph (the default)"),
               clEnumValN(FfnAct::ReLU2, "relu2", "relu(gate)^2 * up (BitNet b1.58 2B4T)"),
               clEnumValN(FfnAct::SiLU, "silu", "silu(gate) * up (1bitLLM, Llama-style)")),
    cl::cat(category));
cl::opt<std::string> chatTemplate(
    "chat-template",
    cl::desc("The chat template compiled in: the checkpoint's (chat_template.jinja, "
             "tokenizer_config.json's chat_template or GGUF's tokenizer.chat_template; the "
             "default), 'none', or a Jinja file's"),
    cl::value_desc("file|none"), cl::cat(category));
enum class Embedding { Shared, Exact };
cl::opt<Embedding> embedding(
    "embedding",
    cl::desc("With a quantized --head and tied weights, which table the embedding lookup reads"),
    cl::init(Embedding::Shared),
    cl::values(clEnumValN(Embedding::Shared, "shared",
                          "the quantized head's, rows dequantized: the table is stored once "
                          "(the default, as llama.cpp stores a tied table)"),
               clEnumValN(Embedding::Exact, "exact",
                          "the checkpoint's: exact inputs, the table stored a second time")),
    cl::cat(category));
/// tern-pack-weights' head-format for --head.
std::string headFormatName() {
  switch (head) {
  case Head::Q8_0:
    return "q8_0";
  case Head::Q6_K:
    return "q6_k";
  case Head::Exact:
    break;
  }
  return "";
}
cl::opt<std::string> tuning("tuning",
                            cl::desc("Tuning database (JSON) of tern-tune for kernel selection"),
                            cl::value_desc("file"), cl::cat(category));
cl::opt<bool> forceTuning("force",
                          cl::desc("Use a --tuning database measured on another CPU"),
                          cl::cat(category));
cl::opt<std::string> kernels(
    "kernels",
    cl::desc("generated: generate each bitlinear's kernel for its shape and batch buckets on "
             "a single-ISA target (the default); library: the prebuilt variants only"),
    cl::init("generated"), cl::value_desc("generated|library"), cl::cat(category));
cl::opt<std::string> kernelCache("kernel-cache",
                                 cl::desc("Folder of generated kernel objects (default: "
                                          "$TERN_KERNEL_CACHE, else ~/.cache/tern/kernels)"),
                                 cl::value_desc("dir"), cl::cat(category));
cl::opt<std::string> kernelGen("kernel-gen",
                               cl::desc("The tern-kernel-gen to run (default: beside ternc)"),
                               cl::value_desc("path"), cl::cat(category));
cl::opt<int64_t> batch("batch",
                       cl::desc("Largest number of tokens one forward call processes (the "
                                "prefill chunk; default 512)"),
                       cl::init(512), cl::value_desc("N"), cl::cat(category));
cl::opt<int64_t> contextLength("context",
                               cl::desc("KV-cache context length in positions (default 4096)"),
                               cl::init(4096), cl::value_desc("N"), cl::cat(category));
cl::opt<std::string> linker("linker",
                            cl::desc("The clang driver that assembles and links (default: "
                                     "clang-22)"),
                            cl::value_desc("clang"), cl::cat(category));
cl::opt<std::string> runtimeDir("runtime-dir",
                                cl::desc("Folder of the runtime archives (default: "
                                         "<ternc>/../lib/tern)"),
                                cl::value_desc("dir"), cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("Print no progress or summary"), cl::cat(category));
cl::opt<bool> verbose("v", cl::desc("Print the commands ternc runs"), cl::cat(category));

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

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void progress(const llvm::Twine &message) {
  if (!quiet)
    llvm::errs() << "ternc: " << message << "\n";
}

/// The last phase to run and whether its IR is the output.
struct Stop {
  Phase phase;
  bool printIR;
};
Stop stopOf() {
  if (compileTo.getNumOccurrences())
    return {compileTo, true};
  switch (emit) {
  case Emit::MLIR:
    return {Phase::Import, true};
  case Emit::MLIRPacked:
    return {Phase::Plan, true};
  default:
    return {Phase::LLVMDialect, false};
  }
}

/// The default output of a binary kind: <input stem>.o, lib<stem>.a or <stem>.
std::string defaultOutput(bool text) {
  if (text)
    return "-";
  std::string stem = llvm::sys::path::stem(llvm::StringRef(input).rtrim('/')).str();
  if (emit == Emit::Obj)
    return stem + ".o";
  if (emit == Emit::Lib)
    return "lib" + stem + ".a";
  if (emit == Emit::Exe)
    return stem;
  return "-";
}

/// out.ext -> out.<extension>
std::string besides(llvm::StringRef path, llvm::StringRef extension) {
  llvm::SmallString<256> p(path);
  llvm::sys::path::replace_extension(p, extension);
  return std::string(p);
}

/// Writes the blob of every tensor the module reads. With `annotate` (a planned module, about
/// to be lowered), records each tern.weight's offset and the blob's identity on the module
/// (tern.weights_size / tern.weights_checksum).
llvm::Error writeBlob(mlir::ModuleOp module, const ::tern::WeightStore &store,
                      llvm::StringRef path, bool annotate) {
  std::vector<std::string> names;
  llvm::StringSet<> seen;
  module->walk([&](mlir::tern::WeightOp w) {
    if (seen.insert(w.getName()).second)
      names.push_back(w.getName().str());
  });
  // The tokenizer's tensors, which no op reads but the program does.
  for (const char *name : ::tern::kTokenizerTensors)
    if (store.lookup(name) && seen.insert(name).second)
      names.push_back(name);
  for (const char *name :
       {::tern::kChatTemplateTensor, ::tern::kChatBosTensor, ::tern::kChatEosTensor})
    if (store.lookup(name) && seen.insert(name).second)
      names.push_back(name);
  llvm::StringMap<uint64_t> offsets;
  if (llvm::Error e = ::tern::codegen::writeWeightBlob(store, names, path, offsets))
    return e;
  if (!annotate)
    return llvm::Error::success();
  auto file = llvm::MemoryBuffer::getFileSlice(path, sizeof(tern_blob_header), 0);
  if (!file)
    return llvm::createStringError(file.getError(), "%s: cannot read back", path.str().c_str());
  tern_blob_header header;
  std::memcpy(&header, (*file)->getBufferStart(), sizeof header);
  mlir::Builder b(module.getContext());
  module->walk([&](mlir::tern::WeightOp w) {
    w->setAttr("tern.offset", b.getI64IntegerAttr(int64_t(offsets.lookup(w.getName()))));
  });
  module->setAttr("tern.weights_size", b.getI64IntegerAttr(int64_t(header.file_size)));
  module->setAttr("tern.weights_checksum", b.getI64IntegerAttr(int64_t(header.table_checksum)));
  return llvm::Error::success();
}

/// The IR of one phase to <dir>/NN-<phase>.mlir.
llvm::Error dumpPhase(mlir::ModuleOp module, Phase phase) {
  if (dumpPhasesTo.empty())
    return llvm::Error::success();
  if (std::error_code ec = llvm::sys::fs::create_directories(dumpPhasesTo))
    return llvm::createStringError(ec, "--dump-phases-to=%s: %s", dumpPhasesTo.c_str(),
                                   ec.message().c_str());
  llvm::SmallString<256> path(dumpPhasesTo.getValue());
  llvm::sys::path::append(path, llvm::formatv("{0:2}-{1}.mlir", int(phase),
                                              kPhaseNames[int(phase)])
                                    .str());
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return llvm::createStringError(ec, "%s: %s", path.c_str(), ec.message().c_str());
  module->print(out);
  out << "\n";
  return llvm::Error::success();
}
/// Whether ternc can write `out` (and the files it puts beside it): checked before the import,
/// so a wrong -o fails at once, not after minutes of packing.
llvm::Error checkOutputLocation(llvm::StringRef out) {
  if (out == "-")
    return llvm::Error::success();
  if (llvm::sys::fs::is_directory(out))
    return llvm::createStringError("-o %s: is a folder; name the file to write",
                                   out.str().c_str());
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(out));
  if (dir.empty())
    dir = ".";
  if (!llvm::sys::fs::is_directory(dir))
    return llvm::createStringError("-o %s: the folder %s does not exist", out.str().c_str(),
                                   dir.c_str());
  if (llvm::sys::fs::access(dir, llvm::sys::fs::AccessMode::Write))
    return llvm::createStringError("-o %s: the folder %s is not writable", out.str().c_str(),
                                   dir.c_str());
  if (llvm::sys::fs::exists(out) && llvm::sys::fs::access(out, llvm::sys::fs::AccessMode::Write))
    return llvm::createStringError("-o %s: the file is not writable", out.str().c_str());
  return llvm::Error::success();
}

/// --emit=llvm|asm|obj|lib|exe: LLVM IR, assembly or the object, in process; for lib and exe,
/// the weights object (--weights=embed) and the link with the runtime archive.
int emitNative(mlir::ModuleOp module, const std::string &out, OutputFiles &outputs,
               const std::string &blobPath, int64_t vocab, const char *argv0,
               const std::vector<mlir::tern::GeneratedKernel> &generated,
               const std::function<std::string(llvm::StringRef)> &temp,
               std::chrono::steady_clock::time_point start) {
  // LLVM IR, assembly or the object, in process.
  auto targetAttr = module->getAttrOfType<mlir::StringAttr>("tern.target");
  const mlir::tern::TargetInfo *info =
      targetAttr ? mlir::tern::lookupTarget(targetAttr.getValue()) : nullptr;
  if (!info)
    return fail("no platform for target '" + (targetAttr ? targetAttr.getValue() : "?") + "'");
  const Platform platform{info->triple.str(), info->cpu.str(), info->arch.str()};
  ::tern::codegen::EmitPaths paths;
  // What the run writes goes to staged names, moved into place at the end; messages name the
  // final files.
  auto failed = [&](const std::string &message) { return fail(outputs.finalNames(message)); };
  std::string staged = out == "-" ? "" : outputs.stage(out, /*main=*/true);
  std::string textPath = out == "-" ? temp("model.txt") : staged;
  if (emit == Emit::LLVM)
    paths.llvmIR = textPath;
  else if (emit == Emit::Asm)
    paths.assembly = textPath;
  else
    paths.object = emit == Emit::Obj ? staged : temp("model.o");
  auto codegenStart = std::chrono::steady_clock::now();
  progress(llvm::formatv("generating code for {0}{1}", platform.triple,
                         emit == Emit::Exe || emit == Emit::Lib ? " and linking" : ""));
  if (llvm::Error e = ::tern::codegen::emitObject(
          module, {platform.triple, platform.cpu, ""}, paths))
    return failed(llvm::toString(std::move(e)));
  if (out == "-") {
    auto text = llvm::MemoryBuffer::getFile(textPath);
    if (!text)
      return failed(textPath + ": " + text.getError().message());
    llvm::outs() << (*text)->getBuffer();
  }

  // The kernels generated for this model's shapes, from the cache or tern-kernel-gen.
  std::vector<std::string> kernelObjects;
  if (!generated.empty() && (emit == Emit::Obj || emit == Emit::Lib || emit == Emit::Exe)) {
    llvm::Expected<std::string> generator = ::tern::tools::findKernelGenerator(kernelGen, argv0);
    if (!generator)
      return failed(llvm::toString(generator.takeError()));
    ::tern::tools::KernelGeneratorOptions options;
    options.generator = *generator;
    options.ukernelGenerator = ::tern::tools::findMicroKernelGenerator(argv0);
    options.cacheDir = ::tern::tools::kernelCacheDir(kernelCache);
    options.verbose = verbose;
    options.toolName = "ternc";
    size_t built = 0;
    auto genStart = std::chrono::steady_clock::now();
    options.progress = [&](size_t done, size_t total, bool fresh) {
      built += fresh;
      if (fresh)
        progress(llvm::formatv("generating kernels: {0}/{1}", done, total));
    };
    llvm::Expected<std::vector<std::string>> objs =
        ::tern::tools::generateKernels(generated, options);
    if (!objs)
      return failed(llvm::toString(objs.takeError()));
    kernelObjects = std::move(*objs);
    progress(llvm::formatv("{0} kernels for the model's shapes: {1} generated in {2:f2} s, the "
                           "rest from the cache {3}",
                           generated.size(), built, since(genStart), options.cacheDir));
  }
  if (emit == Emit::Obj && !kernelObjects.empty()) {
    // One object: the graph code and the kernels it calls.
    llvm::Expected<std::string> clang = findLinker(linker);
    if (!clang)
      return failed(llvm::toString(clang.takeError()));
    std::string graph = temp("graph.o");
    if (std::error_code ec = llvm::sys::fs::rename(staged, graph))
      return failed(out + ": " + ec.message());
    std::vector<std::string> objects{graph};
    objects.insert(objects.end(), kernelObjects.begin(), kernelObjects.end());
    if (llvm::Error e = linkRelocatable(*clang, platform, objects, staged))
      return failed(llvm::toString(std::move(e)));
  }

  if (emit == Emit::Lib || emit == Emit::Exe) {
    llvm::Expected<std::string> clang = findLinker(linker);
    if (!clang)
      return failed(llvm::toString(clang.takeError()));
    llvm::Expected<std::string> rtDir = findRuntimeDir(runtimeDir, argv0);
    if (!rtDir)
      return failed(llvm::toString(rtDir.takeError()));
    std::vector<std::string> objects{paths.object};
    if (weights == Weights::Embed) {
      std::string weightsObject = temp("weights.o");
      if (llvm::Error e = ::tern::codegen::writeWeightsObject(
              blobPath, weightsObject,
              platform.arch == "aarch64" ? ::tern::codegen::ObjectMachine::AArch64
                                          : ::tern::codegen::ObjectMachine::X86_64))
        return failed(llvm::toString(std::move(e)));
      objects.push_back(weightsObject);
    }
    objects.insert(objects.end(), kernelObjects.begin(), kernelObjects.end());
    if (emit == Emit::Lib && objects.size() > 1) {
      // One member for the model and its weights: the runtime refers to the weights only
      // weakly, which would not pull a separate member out of the archive.
      std::string combined = temp("tern_model.o");
      if (llvm::Error e = linkRelocatable(*clang, platform, objects, combined))
        return failed(llvm::toString(std::move(e)));
      objects = {combined};
    }
    if (emit == Emit::Exe) {
      if (llvm::Error e = linkExecutable(*clang, platform, *rtDir, objects, staged, verbose))
        return failed(llvm::toString(std::move(e)));
    } else {
      if (llvm::Error e = writeLibrary(platform, *rtDir, objects, staged))
        return failed(out + ": " + llvm::toString(std::move(e)));
      auto intAttr = [&](llvm::StringRef name) {
        auto a = module->getAttrOfType<mlir::IntegerAttr>(name);
        return a ? a.getInt() : int64_t(-1);
      };
      std::string header = besides(out, "h");
      if (llvm::Error e = writeLibraryHeader(
              *rtDir, outputs.stage(header), out, input,
              {{"VOCAB", vocab},
               {"BOS_TOKEN", intAttr("tern.bos_token_id")},
               {"EOS_TOKEN", intAttr("tern.eos_token_id")}}))
        return failed(llvm::toString(std::move(e)));
      progress("wrote " + header);
    }
  }
  if (llvm::Error e = outputs.commit())
    return failed(llvm::toString(std::move(e)));
  progress(llvm::formatv("wrote {0} for {1} in {2:f2} s (code generation and link {3:f2} s), "
                         "peak RSS {4:f1} MB",
                         out == "-" ? "stdout" : out, targetAttr.getValue(), since(start),
                         since(codegenStart), double(peakRSS()) / 1e6));
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  tern::registerPasses(); // the lowering pipelines are parsed from text
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
  if (batch <= 0 || contextLength <= 0)
    return fail("--batch and --context must be positive");
  if (ffnAct.getNumOccurrences() && !llvm::StringRef(input).ends_with(".gguf"))
    return fail("--ffn-act applies to a GGUF input (a checkpoint's or ONNX model's activation "
                "is in its config or graph)");
  const Stop stop = stopOf();
  const bool textOutput = stop.printIR || emit == Emit::LLVM || emit == Emit::Asm;
  std::string out = output.getNumOccurrences() ? output.getValue() : defaultOutput(textOutput);
  if (!textOutput && out == "-")
    return fail("-o -: a binary output (--emit=obj, lib or exe) needs a file name");
  if (llvm::Error e = checkOutputLocation(out))
    return fail(llvm::toString(std::move(e)));
  OutputFiles outputs;

  mlir::DialectRegistry registry;
  tern::registerDialects(registry);
  mlir::MLIRContext ctx(registry);
  ::tern::WeightStore store;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  Phase first = Phase::Import;
  std::string blobPath; // the weights blob the offsets point into, once written
  auto start = std::chrono::steady_clock::now();

  int64_t lastReported = -1;
  auto layerProgress = [&](int64_t done, int64_t total) {
    // About ten lines for a large model, none for a small one.
    if (total < 8 || done == lastReported ||
        (done % std::max<int64_t>(1, total / 10) != 0 && done != total))
      return;
    lastReported = done;
    progress(llvm::formatv("importing {0}: layer {1}/{2}", input.getValue(), done, total));
  };
  bool selected = false; // a .mlir input whose kernels were chosen (and maybe edited) already
  if (llvm::StringRef(input).ends_with(".mlir")) {
    // IR of any phase and the weights file ternc wrote beside it (-o x.mlir writes x.weights).
    llvm::SourceMgr sources;
    module = mlir::parseSourceFile<mlir::ModuleOp>(input, sources, &ctx);
    if (!module)
      return fail(input + ": cannot parse (see the errors above)");
    auto forward = module->lookupSymbol<mlir::func::FuncOp>("forward");
    if (!forward)
      return fail(input + ": no func.func @forward (a model ternc imported) in it");
    std::string inputBlob = besides(input, "weights");
    if (!llvm::sys::fs::exists(inputBlob))
      return fail(input + ": its weights file " + inputBlob + " is missing (ternc writes it "
                          "beside a .mlir output)");
    if (forward->hasAttr("tern.arena_bytes") && (*module)->hasAttr("tern.weights_checksum")) {
      // Planned: its offsets point into that file, which is used as it is.
      blobPath = inputBlob;
      first = Phase::Runtime;
    } else {
      progress("loading " + inputBlob);
      if (llvm::Error e = ::tern::codegen::loadWeightBlob(inputBlob, store))
        return fail(llvm::toString(std::move(e)));
      first = Phase::Optimize; // fusion and packing leave what they did alone
      if (auto chosen = (*module)->getAttrOfType<mlir::StringAttr>("tern.target")) {
        selected = true;
        if (target.getNumOccurrences() && target != chosen.getValue())
          return fail(input + ": its kernels were selected for " + chosen.getValue() +
                      ", not --target=" + target + " (start from IR before the select phase)");
      }
    }
  } else if (llvm::StringRef(input).ends_with(".onnx")) {
    // An ONNX decoder (docs/frontends.md); the tokenizer files beside it, if any.
    ::tern::onnx::ImportOptions options;
    if (!quiet)
      options.progress = layerProgress;
    options.keepFloatMatMul = floatMatMul == FloatMatMul::Keep;
    for (llvm::StringRef binding : shapes) {
      auto [name, value] = binding.split('=');
      int64_t n;
      if (name.empty() || value.getAsInteger(10, n) || n <= 0)
        return fail("--shapes: '" + binding.str() + "' is not name=N with N > 0");
      options.shapes[name] = n;
    }
    ::tern::onnx::ImportStats stats;
    auto imported = ::tern::onnx::importOnnx(ctx, input, store, options, &stats);
    if (!imported)
      return fail(llvm::toString(imported.takeError()));
    module = std::move(*imported);
    llvm::SmallString<256> dir(input.getValue());
    llvm::sys::path::remove_filename(dir);
    llvm::Expected<bool> tokenizer =
        ::tern::hf::importCheckpointTokenizer(dir.empty() ? "." : dir.str(), store,
                                              {chatTemplate});
    if (!tokenizer)
      return fail(llvm::toString(tokenizer.takeError()));
    if (mlir::failed(mlir::verify(*module)))
      return fail("the imported module does not verify (an importer bug): see the errors above");
    const auto &t = stats.ternary;
    double n = double(std::max<int64_t>(1, t.total()));
    progress(llvm::formatv(
        "imported {0} in {1:f2} s: {2} nodes recognized ({3} unused), {4:f3} G parameters, "
        "{5:f1} MB of initializers, {6} ternary weights (-1 {7:f1}%, 0 {8:f1}%, +1 {9:f1}%){10}",
        input.getValue(), since(start), stats.nodes, stats.deadNodes,
        double(stats.parameters) / 1e9, double(stats.modelBytes) / 1e6, t.total(),
        100.0 * double(t.negative) / n, 100.0 * double(t.zero) / n,
        100.0 * double(t.positive) / n, *tokenizer ? "" : ", no tokenizer.json beside it"));
    // Static lengths of the graph are the binary's defaults; flags given say otherwise.
    if (stats.shapes.tokensPerCall && !batch.getNumOccurrences())
      batch = *stats.shapes.tokensPerCall;
    if (stats.shapes.context && !contextLength.getNumOccurrences())
      contextLength = *stats.shapes.context;
    if (stats.shapes.tokensPerCall || stats.shapes.context)
      progress(llvm::formatv("the graph's static shapes: up to {0} tokens per call, a context of "
                             "{1} positions",
                             batch.getValue(), contextLength.getValue()));
    if (stats.floatMatMuls)
      progress(llvm::formatv("kept {0} float projection(s) as tern.matmul (--float-matmul=keep)",
                             stats.floatMatMuls));
    if (llvm::Error e = dumpPhase(*module, Phase::Import))
      return fail(llvm::toString(std::move(e)));
  } else if (llvm::StringRef(input).ends_with(".gguf")) {
    // A llama.cpp / bitnet.cpp model file with its tokenizer (docs/frontends.md).
    ::tern::gguf::ImportOptions options;
    if (!quiet)
      options.progress = layerProgress;
    options.chatTemplate = {chatTemplate};
    if (ffnAct != FfnAct::Auto)
      options.ffnActivation = ffnAct == FfnAct::ReLU2 ? ::tern::gguf::FfnActivation::ReLU2
                                                      : ::tern::gguf::FfnActivation::SiLU;
    ::tern::gguf::ImportStats stats;
    auto imported = ::tern::gguf::importGguf(ctx, input, store, options, &stats);
    if (!imported)
      return fail(llvm::toString(imported.takeError()));
    module = std::move(*imported);
    if (mlir::failed(mlir::verify(*module)))
      return fail("the imported module does not verify (an importer bug): see the errors above");
    const auto &t = stats.ternary;
    double n = double(std::max<int64_t>(1, t.total()));
    progress(llvm::formatv(
        "imported {0} in {1:f2} s: architecture {2}, {3:f3} G parameters, {4:f1} MB of tensors, "
        "projections {5}, head {6}, {7} ternary weights (-1 {8:f1}%, 0 {9:f1}%, +1 {10:f1}%), "
        "{11} unused tensors{12}",
        input.getValue(), since(start), stats.architecture, double(stats.parameters) / 1e9,
        double(stats.fileBytes) / 1e6, stats.projectionTypes, stats.headType, t.total(),
        100.0 * double(t.negative) / n, 100.0 * double(t.zero) / n,
        100.0 * double(t.positive) / n, stats.unusedTensors,
        stats.tokenizerNote.empty() ? "" : ", " + stats.tokenizerNote));
    progress(llvm::formatv("FFN activation {0}: {1}",
                           stats.activation == ::tern::gguf::FfnActivation::ReLU2 ? "relu2"
                                                                                  : "silu",
                           stats.activationReason));
    if (llvm::Error e = dumpPhase(*module, Phase::Import))
      return fail(llvm::toString(std::move(e)));
  } else {
    if (!llvm::sys::fs::is_directory(input))
      return fail(input + ": not a checkpoint folder (expected config.json and *.safetensors), "
                          "an .onnx or .gguf model or a .mlir file");
    ::tern::hf::ImportOptions options;
    if (!quiet)
      options.progress = layerProgress;
    ::tern::hf::ImportStats stats;
    auto imported = ::tern::hf::importCheckpoint(ctx, input, store, options, &stats);
    if (!imported)
      return fail(llvm::toString(imported.takeError()));
    module = std::move(*imported);
    // The tokenizer travels in the weights blob (runtime/include/tern/tokenizer.h).
    llvm::Expected<bool> tokenizer =
        ::tern::hf::importCheckpointTokenizer(input, store, {chatTemplate});
    if (!tokenizer)
      return fail(llvm::toString(tokenizer.takeError()));
    if (mlir::failed(mlir::verify(*module)))
      return fail("the imported module does not verify (an importer bug): see the errors above");
    const auto &t = stats.ternary;
    double n = double(std::max<int64_t>(1, t.total()));
    progress(llvm::formatv(
        "imported {0} in {1:f2} s: {2:f3} G parameters, {3:f1} MB of tensors, {4} ternary "
        "weights (-1 {5:f1}%, 0 {6:f1}%, +1 {7:f1}%), {8} unused tensors",
        input.getValue(), since(start), double(stats.parameters) / 1e9,
        double(stats.checkpointBytes) / 1e6, t.total(), 100.0 * double(t.negative) / n,
        100.0 * double(t.zero) / n, 100.0 * double(t.positive) / n, stats.unusedTensors));
    if (llvm::Error e = dumpPhase(*module, Phase::Import))
      return fail(llvm::toString(std::move(e)));
  }

  // A template needs a tokenizer to be rendered into tokens: say so rather than drop it.
  if (!chatTemplate.empty() && chatTemplate != "none" &&
      !store.lookup(::tern::kChatTemplateTensor))
    return fail("--chat-template=" + chatTemplate + ": " + input +
                " brings no tokenizer (tokenizer.json, or GGUF's tokenizer.ggml.*) to render "
                "a chat with");
  if (first == Phase::Runtime && stop.phase < Phase::Plan)
    return fail(input + ": a planned module is past the " + kPhaseNames[int(stop.phase)] +
                " phase");

  // The phases after import, one pass-manager run each.
  mlir::DefaultTimingManager timing;
  mlir::applyDefaultTimingManagerCLOptions(timing);
  mlir::TimingScope timingScope = timing.getRootScope();
  auto build = [&](Phase phase, mlir::PassManager &pm) {
    switch (phase) {
    case Phase::Import:
      break;
    case Phase::Optimize:
      mlir::tern::addOptimizePasses(pm);
      break;
    case Phase::Select:
      pm.addPass(mlir::tern::createTernSelectKernelsPass(
          mlir::tern::TernSelectKernelsPassOptions{target, tuning, kernels, forceTuning}));
      break;
    case Phase::Pack:
      pm.addPass(mlir::tern::createTernPackWeightsPass(store, headFormatName(),
                                                       embedding == Embedding::Shared));
      break;
    case Phase::Plan:
      mlir::tern::addPlanPasses(pm, contextLength, batch);
      break;
    case Phase::Runtime:
      mlir::tern::addRuntimePasses(pm);
      break;
    case Phase::LLVMDialect:
      break; // codegen's lowering (the same as the micro-kernels')
    }
  };
  // Intermediate files (with a binary output and --weights=embed, the blob too), removed on
  // every exit (OutputFiles).
  llvm::SmallString<128> tempDir;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("ternc", tempDir))
    return fail("cannot create a temporary folder: " + ec.message());
  outputs.setTemporaryFolder(tempDir);
  auto temp = [&](llvm::StringRef name) { return outputs.temporaryFile(name); };

  // The vocabulary (logits per token), for the library header; @forward is gone after lowering.
  int64_t vocab = -1;
  if (auto forward = module->lookupSymbol<mlir::func::FuncOp>("forward"))
    if (auto logits = llvm::dyn_cast<mlir::RankedTensorType>(forward.getResultTypes()[0]))
      vocab = logits.getDimSize(1);

  std::vector<mlir::tern::GeneratedKernel> generated;
  for (int p = int(first) + (first == Phase::Import ? 1 : 0); p <= int(stop.phase); ++p) {
    Phase phase = Phase(p);
    auto phaseStart = std::chrono::steady_clock::now();
    // The phases that take seconds on a full-size model say so before they start.
    if (phase == Phase::Pack)
      progress("packing the weights for the selected kernels");
    else if (phase == Phase::Plan)
      progress("planning memory and writing the weights file");
    // The kernels to generate, read off the planned IR before lowering turns ops into calls.
    if (phase == Phase::Runtime)
      generated = mlir::tern::collectGeneratedKernels(*module);
    if (phase == Phase::Select && selected) {
      progress("keeping the kernels " + input + " selected");
    } else if (phase == Phase::LLVMDialect) {
      if (llvm::Error e = ::tern::codegen::lowerToLLVMDialect(*module))
        return fail(llvm::toString(std::move(e)));
    } else {
      mlir::PassManager pm(&ctx);
      if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
        return fail("bad MLIR pass-manager options");
      pm.enableTiming(timingScope);
      build(phase, pm);
      if (mlir::failed(pm.run(*module)))
        return fail(llvm::Twine("phase ") + kPhaseNames[p] + " failed on " + input +
                    ": see the errors above");
    }
    if (phase == Phase::Plan && (p < int(stop.phase) || out != "-")) {
      // The weights file: beside the output, unless it is an embedded intermediate.
      bool beside = out != "-" && (stop.printIR || emit == Emit::LLVM || emit == Emit::Asm ||
                                   weights == Weights::File);
      blobPath = beside ? outputs.stage(besides(out, "weights")) : temp("model.weights");
      if (llvm::Error e = writeBlob(*module, store, blobPath, /*annotate=*/true))
        return fail(outputs.finalNames(llvm::toString(std::move(e))));
      auto forward = module->lookupSymbol<mlir::func::FuncOp>("forward");
      auto attr = [&](llvm::StringRef name) {
        auto a = forward->getAttrOfType<mlir::IntegerAttr>(name);
        return a ? double(a.getInt()) : 0.0;
      };
      progress(llvm::formatv(
          "fused, selected kernels for {0}, packed and planned: {6} head, activation arena "
          "{1:f2} MB for {2} tokens, KV cache {3:f1} MB; wrote {4} ({5:f1} MB)",
          (*module)->getAttrOfType<mlir::StringAttr>("tern.target").getValue(),
          attr("tern.arena_bytes") / 1e6, int64_t(attr("tern.max_tokens")),
          attr("tern.kv_cache_bytes") / 1e6, beside ? besides(out, "weights") : blobPath,
          double((*module)->getAttrOfType<mlir::IntegerAttr>("tern.weights_size").getInt()) /
              1e6,
          head == Head::Q8_0   ? "8-bit (q8_0)"
          : head == Head::Q6_K ? "6.5-bit (q6_k)"
                               : "exact"));
    }
    if (llvm::Error e = dumpPhase(*module, phase))
      return fail(llvm::toString(std::move(e)));
    if (verbose)
      progress(llvm::formatv("phase {0}: {1:f2} s", kPhaseNames[p], since(phaseStart)));
  }

  std::string errorMessage;
  // IR before the plan phase names tensors of the store: they go beside it, so it can be
  // compiled on (ternc x.mlir).
  if (stop.printIR && out != "-" && stop.phase < Phase::Plan) {
    std::string path = besides(out, "weights");
    if (llvm::Error e = writeBlob(*module, store, outputs.stage(path), /*annotate=*/false))
      return fail(outputs.finalNames(llvm::toString(std::move(e))));
    progress("wrote " + path);
  }
  // A planned input printed again keeps its weights file beside it.
  if (stop.printIR && out != "-" && first == Phase::Runtime &&
      outputs.stage(besides(out, "weights")) != blobPath) {
    if (std::error_code ec =
            llvm::sys::fs::copy_file(blobPath, outputs.stage(besides(out, "weights"))))
      return fail(besides(out, "weights") + ": " + ec.message());
  }
  if (stop.printIR) {
    auto file =
        mlir::openOutputFile(out == "-" ? out : outputs.stage(out, /*main=*/true), &errorMessage);
    if (!file)
      return fail(outputs.finalNames(errorMessage));
    (*module)->print(file->os());
    file->os() << "\n";
    file->keep();
    file.reset(); // closed before the rename
    if (llvm::Error e = outputs.commit())
      return fail(llvm::toString(std::move(e)));
    progress(llvm::formatv("done in {0:f2} s, peak RSS {1:f1} MB", since(start),
                           double(peakRSS()) / 1e6));
    return 0;
  }

  return emitNative(*module, out, outputs, blobPath, vocab, argv[0], generated, temp, start);
}
