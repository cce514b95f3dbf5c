//===- tern-tune.cpp - search each bitlinear's kernel and schedule on this CPU ----------------===//
//
// tern-tune <model dir> [-o tuning.json]      the shapes of a checkpoint's bitlinears (fused)
// tern-tune --shapes 2560x2560,6912x2560 ...  given shapes
//
// For every shape and batch bucket: candidates (generated multiply-add schedules and the
// library's variants of each family) are generated, timed in a harness process on this CPU and
// halved until one is left (successive halving seeded with the default), within --budget. The
// results go to a journal (resumable) and become the database ternc --tuning reads, with a
// report and a plot beside it (docs/tuning.md).
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/hf/HFImporter.h"
#include "passes/CpuSignature.h"
#include "passes/GeneratedKernels.h"
#include "passes/Passes.h"
#include "passes/Targets.h"
#include "passes/TuningDatabase.h"
#include "tools/common/KernelGenerator.h"
#include "tools/common/Link.h"
#include "tools/common/Registration.h"
#include "tools/tern-tune/Harness.h"
#include "tools/tern-tune/Results.h"
#include "tools/tern-tune/SearchSpace.h"

#include "dialects/weights/WeightStore.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <set>

namespace cl = llvm::cl;
using namespace tern::tune;

namespace {

cl::OptionCategory category("tern-tune options");
cl::opt<std::string> model(cl::Positional, cl::desc("<checkpoint dir>"), cl::cat(category));
cl::opt<std::string> shapesOpt("shapes",
                               cl::desc("Weight shapes to tune instead of a model's: "
                                        "ROWSxCOLS,... (rows = output features)"),
                               cl::value_desc("list"), cl::cat(category));
cl::opt<std::string> output("o", cl::desc("The database to write (default tuning.json)"),
                            cl::init("tuning.json"), cl::value_desc("file"), cl::cat(category));
cl::opt<std::string> target("target",
                            cl::desc("The ternc --target to tune for; it must run on this CPU "
                                     "(default host)"),
                            cl::init("host"), cl::cat(category));
cl::opt<double> budget("budget", cl::desc("Seconds to spend, shared by the shapes and buckets "
                                          "(default 480)"),
                       cl::init(480), cl::value_desc("seconds"), cl::cat(category));
// Decode only by default: the prefill buckets' gains in the harness did not carry over into a
// whole model's prefill on the machine measured (docs/tuning.md), so they are opt-in.
cl::opt<std::string> bucketsOpt("buckets",
                                cl::desc("Batch buckets to tune, from 1,8,32,128,512 (default 1: "
                                         "decode)"),
                                cl::init("1"), cl::value_desc("list"), cl::cat(category));
cl::opt<double> minGain("min-gain",
                        cl::desc("Percent by which a candidate must beat the default in the "
                                 "final interleaved measurement to replace it (default 5)"),
                        cl::init(5.0), cl::value_desc("percent"), cl::cat(category));
cl::opt<bool> fresh("fresh", cl::desc("Forget the journal of an earlier run and measure all"),
                    cl::cat(category));
cl::opt<unsigned> seed("seed", cl::desc("Seed of the candidates' sampling (default 1)"),
                       cl::init(1), cl::cat(category));
cl::opt<unsigned> jobs("jobs", cl::desc("Kernel generator processes at once (default 2)"),
                       cl::init(2), cl::cat(category));
cl::opt<std::string> kernelCache("kernel-cache",
                                 cl::desc("Folder of generated kernel objects (as ternc's)"),
                                 cl::value_desc("dir"), cl::cat(category));
cl::opt<std::string> kernelGen("kernel-gen", cl::desc("The tern-kernel-gen to run"),
                               cl::value_desc("path"), cl::cat(category));
cl::opt<std::string> linker("linker", cl::desc("The clang driver that links the harness"),
                            cl::value_desc("clang"), cl::cat(category));
cl::opt<std::string> runtimeDir("runtime-dir",
                                cl::desc("Folder of the runtime archives (default "
                                         "<tern-tune>/../lib/tern)"),
                                cl::value_desc("dir"), cl::cat(category));
cl::opt<bool> quiet("quiet", cl::desc("Print no progress"), cl::cat(category));
cl::opt<bool> verbose("v", cl::desc("Print every round and the commands run"),
                      cl::cat(category));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "tern-tune") << message << "\n";
  return 1;
}

void progress(const llvm::Twine &message) {
  if (!quiet)
    llvm::errs() << "tern-tune: " << message << "\n";
}

std::string duration(double seconds) {
  int s = int(std::lround(seconds));
  return s >= 60 ? llvm::formatv("{0}m{1:2}s", s / 60, s % 60).str() : std::to_string(s) + "s";
}

/// "ROWSxCOLS,..." -> shapes.
llvm::Expected<std::vector<std::pair<int64_t, int64_t>>> parseShapes(llvm::StringRef text) {
  std::vector<std::pair<int64_t, int64_t>> shapes;
  llvm::SmallVector<llvm::StringRef> items;
  text.split(items, ',', -1, false);
  for (llvm::StringRef item : items) {
    auto [r, c] = item.trim().split('x');
    int64_t rows, cols;
    if (r.getAsInteger(10, rows) || c.getAsInteger(10, cols) || rows <= 0 || cols <= 0)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "--shapes: '" + item.str() +
                                         "' is not ROWSxCOLS with positive sizes");
    shapes.emplace_back(rows, cols);
  }
  return shapes;
}

/// The distinct weight shapes of a checkpoint's bitlinears after fusion (what ternc compiles).
llvm::Expected<std::vector<std::pair<int64_t, int64_t>>> modelShapes(llvm::StringRef dir) {
  mlir::DialectRegistry registry;
  tern::registerDialects(registry);
  mlir::MLIRContext ctx(registry);
  ::tern::WeightStore store;
  auto module = ::tern::hf::importCheckpoint(ctx, dir, store);
  if (!module)
    return module.takeError();
  mlir::PassManager pm(&ctx);
  mlir::tern::addOptimizePasses(pm);
  if (mlir::failed(pm.run(**module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "fusing " + dir.str() + " failed (see the errors above)");
  std::set<std::pair<int64_t, int64_t>> shapes;
  (*module)->walk([&](mlir::tern::BitLinearOp op) {
    auto w = llvm::cast<mlir::tern::TernaryWeightTypeInterface>(op.getWeight().getType());
    shapes.insert({w.getRows(), w.getCols()});
  });
  return std::vector<std::pair<int64_t, int64_t>>(shapes.begin(), shapes.end());
}

/// A rough time of one call, to size the first round to the budget.
double estimatedCallSeconds(int64_t rows, int64_t cols, int64_t bucket) {
  double bytes = double(rows) * double(cols) / 4;
  return std::max(bytes / 20e9, 2.0 * double(rows) * double(cols) * double(bucket) / 200e9);
}

struct Tuner {
  const mlir::tern::TargetInfo &target;
  HarnessSetup harness;
  tern::tools::KernelGeneratorOptions generator;
  std::mt19937 rng{seed};

  /// Generates the generated candidates' objects (cached) and times them in one round.
  llvm::Error round(int64_t rows, int64_t cols, int64_t bucket, int64_t reps, double maxMs,
                    std::vector<Candidate *> &alive) {
    std::vector<mlir::tern::GeneratedKernel> kernels;
    std::set<std::string> symbols;
    for (Candidate *c : alive)
      for (const std::optional<mlir::tern::GeneratedKernel> &k : {c->kernel, c->tile})
        if (k && symbols.insert(k->symbol).second)
          kernels.push_back(*k);
    llvm::Expected<std::vector<std::string>> objects =
        tern::tools::generateKernels(kernels, generator);
    if (!objects)
      return objects.takeError();
    return runRound(harness, rows, cols, bucket, reps, maxMs, alive, *objects);
  }

  /// Successive halving over one (shape, bucket) within `seconds`.
  llvm::Expected<GroupResult> search(int64_t rows, int64_t cols, int64_t bucket,
                                     double seconds) {
    std::vector<Candidate> space = searchSpace(target, rows, cols, bucket);
    double perCandidate = 0.25 + 30 * estimatedCallSeconds(rows, cols, bucket);
    size_t count = size_t(std::max(4.0, (seconds - 1.5) / perCandidate));
    std::vector<Candidate> pool = sample(std::move(space), count, rng);
    std::vector<Candidate *> alive;
    for (Candidate &c : pool)
      alive.push_back(&c);
    Candidate *def = nullptr;
    for (Candidate &c : pool)
      if (c.isDefault)
        def = &c;
    int64_t reps = 5;
    double maxMs = 150;
    while (true) {
      if (llvm::Error e = round(rows, cols, bucket, reps, maxMs, alive))
        return std::move(e);
      if (verbose)
        llvm::errs() << llvm::formatv("tern-tune:   round of {0} candidates, {1} calls each\n",
                                      alive.size(), reps);
      std::sort(alive.begin(), alive.end(),
                [](const Candidate *a, const Candidate *b) { return a->us < b->us; });
      size_t keep = std::max<size_t>(1, (alive.size() + 2) / 3);
      if (alive.size() <= 2)
        break;
      alive.resize(keep);
      reps *= 2, maxMs *= 2;
    }
    // The winner and the default once more, with the most calls: in three harness processes
    // (a process's placement of its buffers and threads can favour one kernel), each
    // interleaving the two twice and alternating which goes first (against drift in the
    // machine's bandwidth); each gets the median of its three means.
    std::vector<Candidate *> final{alive.front()};
    if (def && def != alive.front())
      final = {alive.front(), def};
    std::vector<std::vector<double>> times(final.size());
    for (int process = 0; process < 3; ++process) {
      std::vector<Candidate *> order;
      for (int i = 0; i < 2; ++i)
        for (size_t j = 0; j < final.size(); ++j)
          order.push_back(final[process % 2 ? final.size() - 1 - j : j]);
      if (llvm::Error e = round(rows, cols, bucket, std::max<int64_t>(reps, 20), maxMs * 2, order))
        return std::move(e);
      for (size_t j = 0; j < final.size(); ++j)
        times[j].push_back(final[j]->us);
    }
    for (size_t j = 0; j < final.size(); ++j) {
      std::sort(times[j].begin(), times[j].end());
      final[j]->us = times[j][1];
    }
    GroupResult g;
    g.rows = rows, g.cols = cols, g.bucket = bucket;
    g.defaultUs = def ? def->us : final.front()->us;
    // Best first: the final round's winner, then everything else by its last time.
    // A winner must beat the default by --min-gain: below that, the difference is within what
    // a neighbour on the host moves a measurement, and the default stays.
    Candidate *winner = final[0];
    if (final.size() > 1 && final[0]->us * (1 + minGain / 100) > final[1]->us)
      winner = final[1];
    g.candidates.push_back(*winner);
    std::vector<Candidate *> rest;
    for (Candidate &c : pool)
      if (&c != winner)
        rest.push_back(&c);
    std::sort(rest.begin(), rest.end(),
              [](const Candidate *a, const Candidate *b) { return a->us < b->us; });
    for (Candidate *c : rest)
      g.candidates.push_back(*c);
    return g;
  }
};

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "tern-tune: search each bitlinear's kernel and schedule on this "
                              "CPU, for ternc --tuning\n");
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (model.empty() == shapesOpt.empty())
    return fail("give a checkpoint folder or --shapes (one of them)");
  if (budget <= 0)
    return fail("--budget must be positive");
  std::string resolved = target == "host" ? mlir::tern::hostTargetName() : target.getValue();
  const mlir::tern::TargetInfo *info = mlir::tern::lookupTarget(resolved);
  if (!info)
    return fail("unknown --target '" + target + "'");
  if (info->madVariant == "dispatch")
    return fail("--target=x86-64-multi picks its kernels at run time: tune for one ISA "
                "(x86-64-avx2, x86-64-avx512, x86-64-avx512-vnni)");
  const mlir::tern::TargetInfo *host = mlir::tern::lookupTarget(mlir::tern::hostTargetName());
  if (info->arch != host->arch || (info->features & host->features) != info->features)
    return fail("cannot time " + resolved + " kernels on this CPU, which runs " + host->name +
                " (tern-tune measures on the CPU it runs on)");
  std::vector<int64_t> buckets;
  {
    llvm::SmallVector<llvm::StringRef> items;
    llvm::StringRef(bucketsOpt).split(items, ',', -1, false);
    for (llvm::StringRef item : items) {
      int64_t b;
      if (item.trim().getAsInteger(10, b) ||
          !llvm::is_contained(mlir::tern::kBatchBuckets, b))
        return fail("--buckets: '" + item + "' is not one of 1, 8, 32, 128, 512");
      buckets.push_back(b);
    }
  }

  llvm::Expected<std::vector<std::pair<int64_t, int64_t>>> shapes =
      model.empty() ? parseShapes(shapesOpt) : modelShapes(model);
  if (!shapes)
    return fail(llvm::toString(shapes.takeError()));

  mlir::tern::CpuSignature cpu = mlir::tern::CpuSignature::host();
  std::string cpuKey = cpu.key();
  std::string journal = output + ".journal.jsonl";
  if (fresh)
    llvm::sys::fs::remove(journal);
  llvm::Expected<std::vector<GroupResult>> done = readJournal(journal, cpuKey, resolved);
  if (!done)
    return fail(llvm::toString(done.takeError()));
  std::vector<GroupResult> results = std::move(*done);
  auto measured = [&](int64_t rows, int64_t cols, int64_t bucket) {
    return llvm::any_of(results, [&](const GroupResult &g) {
      return g.rows == rows && g.cols == cols && g.bucket == bucket;
    });
  };
  std::vector<std::tuple<int64_t, int64_t, int64_t>> todo;
  for (auto [rows, cols] : *shapes)
    for (int64_t b : buckets)
      if (!measured(rows, cols, b))
        todo.emplace_back(rows, cols, b);
  size_t total = shapes->size() * buckets.size();
  progress(llvm::formatv("{0} shapes x {1} buckets for {2} on {3}; {4} measured before "
                         "(journal {5}), {6} to go, budget {7}",
                         shapes->size(), buckets.size(), resolved, cpuKey,
                         total - todo.size(), journal, todo.size(), duration(budget)));

  Tuner tuner{*info, {}, {}};
  llvm::Expected<std::string> clang = tern::driver::findLinker(linker);
  if (!clang)
    return fail(llvm::toString(clang.takeError()));
  llvm::Expected<std::string> rtDir = tern::driver::findRuntimeDir(runtimeDir, argv[0]);
  if (!rtDir)
    return fail(llvm::toString(rtDir.takeError()));
  llvm::Expected<std::string> gen = tern::tools::findKernelGenerator(kernelGen, argv[0]);
  if (!gen)
    return fail(llvm::toString(gen.takeError()));
  llvm::SmallString<128> work;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("tern-tune", work))
    return fail("cannot create a temporary folder: " + ec.message());
  llvm::scope_exit cleanup([&] { llvm::sys::fs::remove_directories(work); });
  tuner.harness = {*clang, *rtDir,
                   {info->triple.str(), info->cpu.str(), info->arch.str()},
                   std::string(work), verbose};
  tuner.generator.generator = *gen;
  tuner.generator.ukernelGenerator = tern::tools::findMicroKernelGenerator(argv[0]);
  tuner.generator.cacheDir = tern::tools::kernelCacheDir(kernelCache);
  tuner.generator.jobs = jobs;
  tuner.generator.verbose = verbose;
  tuner.generator.toolName = "tern-tune";

  for (auto [i, item] : llvm::enumerate(todo)) {
    auto [rows, cols, bucket] = item;
    double left = budget - elapsed();
    double share = std::max(2.0, left / double(todo.size() - i));
    const int width = 20;
    size_t finished = total - todo.size() + i;
    int filled = int(width * finished / std::max<size_t>(total, 1));
    std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
    std::string eta = i == 0 ? "?" : duration(elapsed() / double(i) * double(todo.size() - i));
    progress(llvm::formatv("[{0}] {1}/{2} {3}x{4} t{5}: elapsed {6}, ETA {7}", bar,
                           finished + 1, total, rows, cols, bucket, duration(elapsed()), eta));
    llvm::Expected<GroupResult> g = tuner.search(rows, cols, bucket, share);
    if (!g)
      return fail(llvm::formatv("{0}x{1} bucket {2}: ", rows, cols, bucket).str() +
                  llvm::toString(g.takeError()));
    progress(llvm::formatv("  {0} candidates: best {1:f2} us against the default's {2:f2} us "
                           "({3:f2}x)",
                           g->candidates.size(), g->best().us, g->defaultUs,
                           g->defaultUs / g->best().us));
    if (llvm::Error e = appendJournal(journal, cpuKey, resolved, *g))
      return fail(llvm::toString(std::move(e)));
    results.push_back(std::move(*g));
  }

  // The database: the groups of the shapes asked for.
  std::vector<GroupResult> chosen;
  for (const GroupResult &g : results)
    if (llvm::is_contained(*shapes, std::pair(g.rows, g.cols)) &&
        llvm::is_contained(buckets, g.bucket))
      chosen.push_back(g);
  mlir::tern::TuningDatabase db;
  db.cpu = cpu;
  db.target = resolved;
  db.kernels = decide(chosen);
  if (llvm::Error e = db.save(output))
    return fail(llvm::toString(std::move(e)));
  if (llvm::Error e = writeReports(output, chosen, db.kernels, cpuKey, resolved))
    return fail(llvm::toString(std::move(e)));
  std::string stem = llvm::StringRef(output).ends_with(".json")
                         ? llvm::StringRef(output).drop_back(5).str()
                         : output.getValue();
  progress(llvm::formatv("wrote {0} ({1} entries), {2}.report.md and {2}.svg in {3}", output,
                         db.kernels.size(), stem, duration(elapsed())));
  return 0;
}
