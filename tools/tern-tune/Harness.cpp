//===- Harness.cpp - time a round of candidates in a process linked for it --------------------===//
#include "tools/tern-tune/Harness.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <set>

using namespace tern::tune;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The C table of the round's generated candidates (tern_tune_candidates).
static llvm::Error writeTable(llvm::StringRef path, const std::vector<Candidate *> &candidates) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return fail(path + ": " + ec.message());
  out << "/* The candidates of one tern-tune round. */\n#include <stdint.h>\n"
         "struct halide_buffer_t;\n"
         "typedef int (*fn_t)(struct halide_buffer_t *, struct halide_buffer_t *, "
         "struct halide_buffer_t *);\n"
         "typedef struct { const char *name; fn_t fn; int64_t token_group; int layout; } "
         "candidate;\n";
  std::vector<const Candidate *> generated;
  std::set<const Candidate *> declared;
  for (const Candidate *c : candidates)
    if (c->kernel && declared.insert(c).second) {
      generated.push_back(c);
      out << "int " << c->kernel->symbol
          << "(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *);\n";
    }
  out << "const candidate tern_tune_candidates[] = {\n";
  for (const Candidate *c : generated)
    out << "  {\"" << c->kernel->symbol << "\", " << c->kernel->symbol << ", "
        << harnessTokenGroup(*c) << ", " << harnessLayout(*c) << "},\n";
  if (generated.empty())
    out << "  {0, 0, 0, 0},\n";
  out << "};\nconst int tern_tune_candidate_count = " << generated.size() << ";\n";
  return llvm::Error::success();
}

llvm::Error tern::tune::runRound(const HarnessSetup &setup, int64_t rows, int64_t cols,
                                 int64_t tokens, int64_t reps, double maxMs,
                                 std::vector<Candidate *> &candidates,
                                 const std::vector<std::string> &objects) {
  auto path = [&](llvm::StringRef name) {
    llvm::SmallString<256> p(setup.workDir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  };
  std::string table = path("candidates.c"), exe = path("harness"), out = path("timings.txt"),
              err = path("harness.err");
  if (llvm::Error e = writeTable(table, candidates))
    return e;
  llvm::SmallString<256> harnessLib(setup.runtimeDir);
  llvm::sys::path::append(harnessLib, setup.platform.arch, "libtern_tune_harness.a");
  if (!llvm::sys::fs::exists(harnessLib))
    return fail("no timing harness at " + harnessLib + " (build tern-tune's harness)");
  std::vector<std::string> inputs{table, std::string(harnessLib)};
  inputs.insert(inputs.end(), objects.begin(), objects.end());
  if (llvm::Error e = tern::driver::linkExecutable(setup.linker, setup.platform, setup.runtimeDir,
                                                   inputs, exe, setup.verbose))
    return e;

  std::vector<std::string> args{exe,      "--rows",   std::to_string(rows),
                                "--cols", std::to_string(cols), "--tokens",
                                std::to_string(tokens), "--reps", std::to_string(reps),
                                "--max-ms", std::to_string(maxMs)};
  for (const Candidate *c : candidates)
    args.push_back(c->name);
  llvm::SmallVector<llvm::StringRef> argv(args.begin(), args.end());
  if (setup.verbose)
    llvm::errs() << "tern-tune: " << llvm::join(argv, " ") << "\n";
  // LLVM's redirection opens the files without truncating them: an earlier, longer output
  // would leave its tail (another bucket's times of the same kernels) behind this one's.
  llvm::sys::fs::remove(out);
  llvm::sys::fs::remove(err);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(out),
                                                llvm::StringRef(err)};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(exe, argv, std::nullopt, redirects, 0, 0, &message);
  if (status != 0) {
    auto text = llvm::MemoryBuffer::getFile(err);
    return fail("the timing harness failed (" +
                (status < 0 ? message : "exit status " + std::to_string(status)) + ")" +
                (text ? ": " + (*text)->getBuffer().trim().str() : std::string()));
  }
  auto text = llvm::MemoryBuffer::getFile(out);
  if (!text)
    return fail(out + ": " + text.getError().message());
  // A candidate listed several times (interleaved with another, against drift) gets the mean.
  std::map<std::string, std::pair<double, int>> timings;
  llvm::SmallVector<llvm::StringRef> lines;
  (*text)->getBuffer().split(lines, '\n', -1, false);
  for (llvm::StringRef line : lines) {
    llvm::SmallVector<llvm::StringRef> fields;
    line.split(fields, ' ');
    double us;
    if (fields.size() >= 2 && !fields[1].getAsDouble(us)) {
      auto &[sum, count] = timings[fields[0].str()];
      sum += us, ++count;
    }
  }
  std::map<std::string, int> listed;
  for (const Candidate *c : candidates)
    ++listed[c->name];
  std::set<Candidate *> seen;
  for (Candidate *c : candidates) {
    auto it = timings.find(c->name);
    if (it == timings.end())
      return fail("the timing harness did not report " + c->name);
    if (it->second.second != listed[c->name])
      return fail("the timing harness reported " + c->name + " " +
                  std::to_string(it->second.second) + " times, not " +
                  std::to_string(listed[c->name]));
    c->us = it->second.first / it->second.second;
    if (seen.insert(c).second)
      ++c->rounds;
  }
  return llvm::Error::success();
}
