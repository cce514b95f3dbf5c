//===- tern-ukernel-gen.cpp - generates the MLIR micro-kernels as objects ---------------------===//
//
// The MLIR counterpart of tern-kernel-gen: builds a micro-kernel in MLIR, lowers it to LLVM and
// writes an object (plus, for review, its MLIR, LLVM IR and assembly). Runs at build time.
//
//===------------------------------------------------------------------------------------------===//
#include "codegen/ukernels/GemvLut.h"
#include "codegen/ukernels/MadI2Avx2.h"
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
#include <optional>

namespace cl = llvm::cl;

static cl::OptionCategory category("tern-ukernel-gen options");
static cl::opt<std::string>
    kernel("kernel",
           cl::desc("Micro-kernel to generate: gemv_i2_avx2, gemm_i2_<avx2|avx512>, "
                    "gemv_<tl1|tl2>_<avx2|avx512|neon>, or the Halide extern stages for one --rows "
                    "x --cols weight lut_tile_<tl1|tl2>_<avx2|avx512|neon> and "
                    "mad_tile_<avx2|avx512>"),
           cl::Required, cl::cat(category));
static cl::opt<int> rowBlocks("row-blocks",
                              cl::desc("LUT kernels: 64-row blocks sharing each table load"),
                              cl::init(2), cl::cat(category));
static cl::opt<int> rowTiles("row-tiles",
                            cl::desc("mad_tile: 16-row tiles per step, 1, 2 or 4 (default 4)"),
                            cl::init(4), cl::cat(category));
static cl::opt<int> tokens("tokens", cl::desc("mad_tile: tokens per step, 1..8 (default 1)"),
                           cl::init(1), cl::cat(category));
static cl::opt<int> prefetch("prefetch",
                             cl::desc("mad_tile: prefetch the weights this many 16-column tiles "
                                      "ahead, 0..64 (default 0: none)"),
                             cl::init(0), cl::cat(category));
static cl::opt<int> unroll("unroll",
                           cl::desc("mad_tile: unroll of the loop over 16-column tiles, 1, 2, 4 "
                                    "or 8 (default 1)"),
                           cl::init(1), cl::cat(category));
static cl::opt<int64_t> rows("rows", cl::desc("lut_tile, mad_tile: rows (N) of the weight"),
                             cl::init(0), cl::cat(category));
static cl::opt<int64_t> cols("cols", cl::desc("lut_tile, mad_tile: columns (K) of the weight"),
                             cl::init(0), cl::cat(category));
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

/// gemv_<tl1|tl2>_<avx2|avx512|neon> (or, with `prefix` lut_tile, the extern-stage tile).
static std::optional<tern::codegen::LutKernelSpec> parseLutKernel(llvm::StringRef name,
                                                                  llvm::StringRef prefix) {
  using tern::codegen::LutIsa;
  using tern::codegen::LutLayout;
  if (!name.consume_front(prefix) || !name.consume_front("_"))
    return std::nullopt;
  llvm::SmallVector<llvm::StringRef, 3> parts;
  name.split(parts, '_');
  parts.insert(parts.begin(), prefix);
  if (parts.size() != 3)
    return std::nullopt;
  tern::codegen::LutKernelSpec spec;
  if (parts[1] == "tl1")
    spec.layout = LutLayout::TL1;
  else if (parts[1] == "tl2")
    spec.layout = LutLayout::TL2;
  else
    return std::nullopt;
  if (parts[2] == "avx2")
    spec.isa = LutIsa::AVX2;
  else if (parts[2] == "avx512")
    spec.isa = LutIsa::AVX512;
  else if (parts[2] == "neon")
    spec.isa = LutIsa::NEON;
  else
    return std::nullopt;
  return spec;
}

/// The features of the runtime variant that calls a kernel of this ISA, and no more.
static tern::codegen::TargetSpec isaTarget(tern::codegen::LutIsa isa) {
  switch (isa) {
  case tern::codegen::LutIsa::AVX2:
    return {"x86_64-unknown-linux-gnu", "x86-64", "+avx,+avx2,+fma,+f16c,+sse4.1"};
  case tern::codegen::LutIsa::AVX512:
    return {"x86_64-unknown-linux-gnu", "x86-64",
            "+avx,+avx2,+fma,+f16c,+sse4.1,+avx512f,+avx512bw,+avx512vl,+avx512dq"};
  case tern::codegen::LutIsa::NEON:
    return {"aarch64-unknown-linux-gnu", "generic", "+neon"};
  }
  return {};
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
  if (kernel == "gemv_i2_avx2" || kernel == "gemm_i2_avx2" || kernel == "gemm_i2_avx512") {
    // GEMV: 4 row tiles x 1 token per step; GEMM: 1 row tile x 4 tokens.
    bool gemm = kernel != "gemv_i2_avx2", avx512 = kernel == "gemm_i2_avx512";
    source = tern::codegen::madI2Avx2Mlir(symbol, gemm ? 1 : 4, gemm ? 4 : 1, avx512);
    // Exactly the features the variant table requires (AVX2, FMA, F16C): no -v3 implied extras.
    target = avx512 ? isaTarget(tern::codegen::LutIsa::AVX512)
                    : isaTarget(tern::codegen::LutIsa::AVX2);
  } else if (std::optional<tern::codegen::LutKernelSpec> spec = parseLutKernel(kernel, "gemv")) {
    if (rowBlocks < 1 || rowBlocks > 4)
      return fail("--row-blocks must be 1..4, got " + llvm::Twine(int(rowBlocks)));
    spec->rowBlocks = rowBlocks;
    source = tern::codegen::gemvLutMlir(symbol, *spec);
    target = isaTarget(spec->isa);
  } else if (std::optional<tern::codegen::LutKernelSpec> spec =
                 parseLutKernel(kernel, "lut_tile")) {
    if (rowBlocks < 1 || rowBlocks > 4)
      return fail("--row-blocks must be 1..4, got " + llvm::Twine(int(rowBlocks)));
    if (rows < 1 || cols < 1)
      return fail(kernel + " is specialized for a shape: give --rows and --cols (>= 1)");
    spec->rowBlocks = rowBlocks;
    source = tern::codegen::lutTileMlir(symbol, *spec, rows, cols);
    target = isaTarget(spec->isa);
  } else if (kernel == "mad_tile_avx2" || kernel == "mad_tile_avx512") {
    bool avx512 = kernel == "mad_tile_avx512";
    if (rows < 1 || cols < 1)
      return fail(kernel + " is specialized for a shape: give --rows and --cols (>= 1)");
    if (rowTiles != 1 && rowTiles != 2 && rowTiles != 4)
      return fail("--row-tiles must be 1, 2 or 4, got " + llvm::Twine(int(rowTiles)));
    if (tokens < 1 || tokens > 8)
      return fail("--tokens must be 1..8, got " + llvm::Twine(int(tokens)));
    if (prefetch < 0 || prefetch > 64)
      return fail("--prefetch must be 0..64, got " + llvm::Twine(int(prefetch)));
    if (unroll != 1 && unroll != 2 && unroll != 4 && unroll != 8)
      return fail("--unroll must be 1, 2, 4 or 8, got " + llvm::Twine(int(unroll)));
    source = tern::codegen::madTileMlir(symbol, rowTiles, tokens, avx512, prefetch, unroll, rows,
                                        cols);
    target = avx512 ? isaTarget(tern::codegen::LutIsa::AVX512)
                    : isaTarget(tern::codegen::LutIsa::AVX2);
  } else {
    return fail("unknown kernel '" + kernel +
                "'; expected gemv_i2_avx2, gemm_i2_<avx2|avx512>, "
                "gemv_<tl1|tl2>_<avx2|avx512|neon>, lut_tile_<tl1|tl2>_<avx2|avx512|neon> or "
                "mad_tile_<avx2|avx512>");
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
