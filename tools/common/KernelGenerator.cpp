//===- KernelGenerator.cpp - run tern-kernel-gen for the kernels a model needs ----------------===//
#include "tools/common/KernelGenerator.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <deque>

using namespace tern::tools;
using mlir::tern::GeneratedKernel;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::string> tern::tools::findKernelGenerator(llvm::StringRef override,
                                                             const char *argv0) {
  if (!override.empty()) {
    if (llvm::sys::fs::can_execute(override))
      return override.str();
    return fail("--kernel-gen=" + override + ": not an executable");
  }
  static int anchor;
  llvm::SmallString<256> beside(
      llvm::sys::path::parent_path(llvm::sys::fs::getMainExecutable(argv0, &anchor)));
  llvm::sys::path::append(beside, "tern-kernel-gen");
  if (llvm::sys::fs::can_execute(beside))
    return std::string(beside);
  if (auto found = llvm::sys::findProgramByName("tern-kernel-gen"))
    return *found;
  return fail("no tern-kernel-gen beside " + llvm::sys::path::parent_path(beside) +
              " or on PATH (it generates the per-model kernels; build it, pass --kernel-gen, "
              "or compile with --kernels=library)");
}

std::string tern::tools::findMicroKernelGenerator(const char *argv0) {
  static int anchor;
  llvm::SmallString<256> beside(
      llvm::sys::path::parent_path(llvm::sys::fs::getMainExecutable(argv0, &anchor)));
  llvm::sys::path::append(beside, "tern-ukernel-gen");
  if (llvm::sys::fs::can_execute(beside))
    return std::string(beside);
  if (auto found = llvm::sys::findProgramByName("tern-ukernel-gen"))
    return *found;
  return "";
}

std::string tern::tools::kernelCacheDir(llvm::StringRef override) {
  if (!override.empty())
    return override.str();
  if (std::optional<std::string> dir = llvm::sys::Process::GetEnv("TERN_KERNEL_CACHE"))
    if (!dir->empty())
      return *dir;
  llvm::SmallString<256> path;
  if (std::optional<std::string> xdg = llvm::sys::Process::GetEnv("XDG_CACHE_HOME");
      xdg && !xdg->empty())
    path = *xdg;
  else if (!llvm::sys::path::home_directory(path))
    llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/false, path);
  else
    llvm::sys::path::append(path, ".cache");
  llvm::sys::path::append(path, "tern", "kernels");
  return std::string(path);
}

namespace {
/// One generator process: the kernel, its scratch folder and where its output goes.
struct Job {
  const GeneratedKernel *kernel;
  std::string scratch, log, object;
  llvm::sys::ProcessInfo process;
};
} // namespace

/// The generator's last lines, for an error message.
static std::string tail(llvm::StringRef path) {
  auto text = llvm::MemoryBuffer::getFile(path);
  if (!text)
    return "(no output)";
  llvm::StringRef s = (*text)->getBuffer().trim();
  if (s.size() > 600)
    s = s.take_back(600);
  return s.str();
}

/// The cache's folder for these generators: a hash of their executables, so objects of an older
/// tern-kernel-gen or tern-ukernel-gen (another schedule or a fixed bug) are never reused.
static llvm::Expected<std::string> generatorCacheDir(const KernelGeneratorOptions &options) {
  uint64_t hash = 0;
  for (const std::string &path : {options.generator, options.ukernelGenerator}) {
    if (path.empty())
      continue;
    auto binary = llvm::MemoryBuffer::getFile(path);
    if (!binary)
      return fail(path + ": " + binary.getError().message());
    hash = llvm::xxh3_64bits((*binary)->getBuffer()) ^ (hash * 0x9E3779B97F4A7C15ull);
  }
  llvm::SmallString<256> dir(options.cacheDir);
  llvm::sys::path::append(dir, llvm::utohexstr(hash, /*LowerCase=*/true));
  return std::string(dir);
}

llvm::Expected<std::vector<std::string>>
tern::tools::generateKernels(const std::vector<GeneratedKernel> &kernels,
                             const KernelGeneratorOptions &baseOptions) {
  std::vector<std::string> objects;
  llvm::Expected<std::string> cacheDir = generatorCacheDir(baseOptions);
  if (!cacheDir)
    return cacheDir.takeError();
  KernelGeneratorOptions options = baseOptions;
  options.cacheDir = *cacheDir;
  if (std::error_code ec = llvm::sys::fs::create_directories(options.cacheDir))
    return fail("kernel cache " + options.cacheDir + ": " + ec.message());
  std::deque<Job> pending;
  size_t done = 0;
  for (const GeneratedKernel &k : kernels) {
    llvm::SmallString<256> dir(options.cacheDir);
    llvm::sys::path::append(dir, k.symbol);
    llvm::SmallString<256> object(dir);
    llvm::sys::path::append(object, k.symbol + ".o");
    objects.push_back(std::string(object));
    if (llvm::sys::fs::exists(object)) {
      ++done;
      if (options.progress)
        options.progress(done, kernels.size(), false);
      continue;
    }
    pending.push_back({&k, "", "", std::string(object), {}});
  }

  // Each generator writes into its own scratch folder, renamed into place when it succeeds:
  // another process sharing the cache sees a whole kernel or none.
  auto start = [&](Job &job) -> llvm::Error {
    llvm::SmallString<256> scratch;
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory(
            llvm::Twine(options.cacheDir) + "/.tmp-" + job.kernel->symbol, scratch))
      return fail("kernel cache " + options.cacheDir + ": " + ec.message());
    job.scratch = std::string(scratch);
    job.log = job.scratch + "/generator.log";
    std::vector<std::string> args;
    if (job.kernel->tool == GeneratedKernel::Tool::Mlir) {
      if (options.ukernelGenerator.empty())
        return fail("kernel " + job.kernel->symbol + " (" + job.kernel->generator +
                    ") is an MLIR tile, and there is no tern-ukernel-gen beside the program or "
                    "on PATH to generate it");
      std::string base = job.scratch + "/" + job.kernel->symbol;
      args = {options.ukernelGenerator, "--kernel=" + job.kernel->generator,
              "--symbol=" + job.kernel->symbol, "-o", base + ".o", "--mlir", base + ".mlir"};
    } else {
      args = {options.generator, "-g",           job.kernel->generator, "-f",
              job.kernel->symbol, "-o",          job.scratch,           "-e",
              "object,h,stmt",    "target=" + job.kernel->target};
    }
    args.insert(args.end(), job.kernel->params.begin(), job.kernel->params.end());
    llvm::SmallVector<llvm::StringRef> argv(args.begin(), args.end());
    if (options.verbose)
      llvm::errs() << options.toolName << ": " << llvm::join(argv, " ") << "\n";
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(job.log),
                                                  llvm::StringRef(job.log)};
    std::string message;
    job.process = llvm::sys::ExecuteNoWait(args.front(), argv, std::nullopt, redirects, 0,
                                           &message);
    if (job.process.Pid == llvm::sys::ProcessInfo::InvalidPid)
      return fail("cannot run " + args.front() + ": " + message);
    return llvm::Error::success();
  };
  auto finish = [&](Job &job) -> llvm::Error {
    std::string message;
    llvm::sys::ProcessInfo result = llvm::sys::Wait(job.process, std::nullopt, &message);
    if (result.ReturnCode != 0) {
      std::string why = tail(job.log);
      llvm::sys::fs::remove_directories(job.scratch);
      return fail("generating kernel " + job.kernel->symbol + " (" + job.kernel->generator + " " +
                  llvm::join(job.kernel->params, " ") + ") failed: " + why);
    }
    llvm::SmallString<256> dir(llvm::sys::path::parent_path(job.object));
    std::error_code ec = llvm::sys::fs::rename(job.scratch, dir);
    if (ec && !llvm::sys::fs::exists(job.object))
      return fail("kernel cache " + dir + ": " + ec.message());
    if (ec)
      llvm::sys::fs::remove_directories(job.scratch); // another process put it there first
    ++done;
    if (options.progress)
      options.progress(done, kernels.size(), true);
    return llvm::Error::success();
  };

  std::deque<Job> running;
  llvm::Error error = llvm::Error::success();
  while (!error && (!pending.empty() || !running.empty())) {
    while (!error && !pending.empty() && running.size() < std::max(1u, options.jobs)) {
      running.push_back(std::move(pending.front()));
      pending.pop_front();
      error = start(running.back());
      if (error)
        running.pop_back();
    }
    if (!running.empty()) {
      llvm::Error e = finish(running.front());
      running.pop_front();
      if (e && !error)
        error = std::move(e);
      else if (e)
        llvm::consumeError(std::move(e));
    }
  }
  // Whatever still runs after an error is waited for, so no process outlives us.
  for (Job &job : running) {
    std::string message;
    llvm::sys::Wait(job.process, std::nullopt, &message);
    llvm::sys::fs::remove_directories(job.scratch);
  }
  if (error)
    return std::move(error);
  return objects;
}
