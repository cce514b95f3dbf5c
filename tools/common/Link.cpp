//===- Link.cpp - ternc's back end: weights object, static library, executable ----------------===//
#include "tools/common/Link.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace tern::driver;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::string> tern::driver::findLinker(llvm::StringRef override) {
  if (!override.empty()) {
    // A path must be an executable; a bare name is looked up on PATH.
    if (override.contains('/')) {
      if (llvm::sys::fs::can_execute(override))
        return override.str();
    } else if (auto found = llvm::sys::findProgramByName(override)) {
      return *found;
    }
    return fail("--linker=" + override + ": not an executable");
  }
  if (auto found = llvm::sys::findProgramByName("clang-22"))
    return *found;
  if (llvm::sys::fs::can_execute("/usr/lib/llvm-22/bin/clang"))
    return std::string("/usr/lib/llvm-22/bin/clang");
  return fail("no clang-22 to link with (install clang-22 and lld-22, or pass --linker=<clang>)");
}

llvm::Expected<std::string> tern::driver::findRuntimeDir(llvm::StringRef override,
                                                         const char *argv0) {
  llvm::SmallString<256> dir(override);
  if (dir.empty()) {
    static int anchor;
    std::string exe = llvm::sys::fs::getMainExecutable(argv0, &anchor);
    dir = llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe));
    llvm::sys::path::append(dir, "lib", "tern");
  }
  if (!llvm::sys::fs::is_directory(dir))
    return fail("no runtime at " + dir + " (build tern's runtime, or pass --runtime-dir)");
  return std::string(dir);
}

/// Runs `program args...`, its output going to ours; an error names the command.
static llvm::Error run(llvm::StringRef program, llvm::ArrayRef<std::string> args, bool verbose,
                       const llvm::Twine &what) {
  llvm::SmallVector<llvm::StringRef> argv{program};
  for (const std::string &a : args)
    argv.push_back(a);
  std::string command = llvm::join(argv, " ");
  if (verbose)
    llvm::errs() << "ternc: " << command << "\n";
  std::string message;
  int status = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, {}, 0, 0, &message);
  if (status != 0)
    return fail(what + " failed (" +
                (status < 0 ? message : "exit status " + std::to_string(status)) +
                "): " + command);
  return llvm::Error::success();
}

/// Extra flags the runtime archive was built to need (a sanitizer build's), one per word.
static llvm::SmallVector<std::string> linkFlags(llvm::StringRef runtimeDir,
                                                llvm::StringRef arch) {
  llvm::SmallString<256> path(runtimeDir);
  llvm::sys::path::append(path, arch, "link-flags");
  llvm::SmallVector<std::string> flags;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return flags;
  llvm::SmallVector<llvm::StringRef> words;
  llvm::SplitString((*buffer)->getBuffer(), words);
  for (llvm::StringRef w : words)
    flags.push_back(w.str());
  return flags;
}

static llvm::Expected<std::string> runtimeArchive(llvm::StringRef runtimeDir,
                                                  const Platform &platform) {
  llvm::SmallString<256> path(runtimeDir);
  llvm::sys::path::append(path, platform.arch, "libtern_runtime.a");
  if (!llvm::sys::fs::exists(path))
    return fail("no runtime for " + platform.arch + ": " + path +
                " is missing (the aarch64 runtime is built with "
                "-DTERN_ENABLE_AARCH64_TESTS=ON)");
  return std::string(path);
}

llvm::Error tern::driver::linkRelocatable(llvm::StringRef linker, const Platform &platform,
                                          llvm::ArrayRef<std::string> objects,
                                          llvm::StringRef output) {
  std::vector<std::string> args{"--target=" + platform.triple, "-fuse-ld=lld", "-r",
                                "-nostdlib", "-o", output.str()};
  args.insert(args.end(), objects.begin(), objects.end());
  return run(linker, args, false, "combining the model and its weights");
}

llvm::Error tern::driver::linkExecutable(llvm::StringRef linker, const Platform &platform,
                                         llvm::StringRef runtimeDir,
                                         llvm::ArrayRef<std::string> objects,
                                         llvm::StringRef output, bool verbose) {
  llvm::Expected<std::string> archive = runtimeArchive(runtimeDir, platform);
  if (!archive)
    return archive.takeError();
  std::vector<std::string> args{"--target=" + platform.triple, "-fuse-ld=lld", "-o",
                                output.str()};
  args.insert(args.end(), objects.begin(), objects.end());
  args.push_back(*archive);
  for (std::string &flag : linkFlags(runtimeDir, platform.arch))
    args.push_back(std::move(flag));
  for (const char *lib : {"-lpthread", "-ldl", "-lm"})
    args.push_back(lib);
  return run(linker, args, verbose, ("linking " + output).str());
}

llvm::Error tern::driver::writeLibrary(const Platform &platform, llvm::StringRef runtimeDir,
                                       llvm::ArrayRef<std::string> objects,
                                       llvm::StringRef output) {
  llvm::Expected<std::string> archivePath = runtimeArchive(runtimeDir, platform);
  if (!archivePath)
    return archivePath.takeError();
  std::vector<llvm::NewArchiveMember> members;
  for (const std::string &object : objects) {
    auto member = llvm::NewArchiveMember::getFile(object, /*Deterministic=*/true);
    if (!member)
      return member.takeError();
    // Named by file name, not by ternc's temporary path.
    member->MemberName = llvm::sys::path::filename(object);
    members.push_back(std::move(*member));
  }
  auto buffer = llvm::MemoryBuffer::getFile(*archivePath);
  if (!buffer)
    return fail(*archivePath + ": " + buffer.getError().message());
  auto archive = llvm::object::Archive::create((*buffer)->getMemBufferRef());
  if (!archive)
    return archive.takeError();
  llvm::Error childError = llvm::Error::success();
  for (const llvm::object::Archive::Child &child : (*archive)->children(childError)) {
    auto member = llvm::NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
    if (!member)
      return member.takeError();
    members.push_back(std::move(*member));
  }
  if (childError)
    return childError;
  return llvm::writeArchive(output, members, llvm::SymtabWritingMode::NormalSymtab,
                            llvm::object::Archive::K_GNU, /*Deterministic=*/true,
                            /*Thin=*/false);
}

llvm::Error tern::driver::writeLibraryHeader(
    llvm::StringRef runtimeDir, llvm::StringRef output, llvm::StringRef library,
    llvm::StringRef model, llvm::ArrayRef<std::pair<std::string, int64_t>> constants) {
  // The C API: tern/model.h, then tern/sampler.h without its include of the former, so the
  // library ships one header.
  std::string api;
  for (const char *name : {"model.h", "sampler.h"}) {
    llvm::SmallString<256> path(runtimeDir);
    llvm::sys::path::append(path, "include", "tern", name);
    auto header = llvm::MemoryBuffer::getFile(path);
    if (!header)
      return fail(path + ": " + header.getError().message());
    llvm::SmallVector<llvm::StringRef> lines;
    (*header)->getBuffer().split(lines, '\n');
    for (llvm::StringRef line : lines)
      if (!line.starts_with("#include \"tern/"))
        api += (line + "\n").str();
  }
  std::error_code ec;
  llvm::raw_fd_ostream out(output, ec);
  if (ec)
    return fail(output + ": " + ec.message());
  // Named after the library (the header may be written under a temporary name first).
  llvm::SmallString<128> name(llvm::sys::path::filename(library));
  llvm::sys::path::replace_extension(name, "h");
  out << "/* " << name << " - generated by ternc from " << model
      << ": the C API of " << llvm::sys::path::filename(library)
      << ".\n * Link: cc app.c " << llvm::sys::path::filename(library)
      << " -lpthread -ldl -lm */\n"
      << api << "\n/* This model's constants. */\n";
  for (const auto &[name, value] : constants)
    out << "#define TERN_COMPILED_" << name << " " << value << "\n";
  return llvm::Error::success();
}
