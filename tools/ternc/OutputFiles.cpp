//===- OutputFiles.cpp - see OutputFiles.h ---------------------------------------------------===//
#include "OutputFiles.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

#include <csignal>
#include <cstring>
#include <unistd.h>

using namespace tern::ternc;

namespace {

// The temporary folder, for the interrupt function: a fixed buffer, since only
// async-signal-safe calls (rmdir, raise) may run in a signal handler.
char gFolder[4096];

// LLVM has removed the registered files before calling this, instead of ending the program:
// end it here, with the shell's status for an interrupt (128 + SIGINT). The signal itself is
// not passed; re-raising SIGINT measured no effect (ternc went on and failed later).
void interrupted() {
  if (gFolder[0])
    rmdir(gFolder);
  _exit(128 + SIGINT);
}

} // namespace

OutputFiles::~OutputFiles() {
  for (const Staged &s : staged_) {
    llvm::sys::fs::remove(s.temporary);
    llvm::sys::DontRemoveFileOnSignal(s.temporary);
  }
  if (!folder_.empty()) {
    llvm::sys::fs::remove_directories(folder_);
    gFolder[0] = 0;
  }
}

std::string OutputFiles::stage(llvm::StringRef final, bool main) {
  for (const Staged &s : staged_)
    if (s.final == final)
      return s.temporary;
  llvm::SmallString<256> model(llvm::sys::path::parent_path(final));
  llvm::sys::path::append(model, "." + llvm::sys::path::filename(final) + ".ternc-%%%%%%");
  llvm::SmallString<256> temporary;
  llvm::sys::fs::createUniquePath(model, temporary, /*MakeAbsolute=*/false);
  llvm::sys::RemoveFileOnSignal(temporary);
  staged_.push_back({std::string(temporary), final.str(), main});
  return std::string(temporary);
}

llvm::Error OutputFiles::commit() {
  for (bool main : {false, true})
    for (auto it = staged_.begin(); it != staged_.end();) {
      if (it->main != main) {
        ++it;
        continue;
      }
      if (std::error_code ec = llvm::sys::fs::rename(it->temporary, it->final))
        return llvm::createStringError(ec, "%s: cannot move the finished file into place: %s",
                                       it->final.c_str(), ec.message().c_str());
      llvm::sys::DontRemoveFileOnSignal(it->temporary);
      it = staged_.erase(it);
    }
  return llvm::Error::success();
}

std::string OutputFiles::finalNames(std::string text) const {
  for (const Staged &s : staged_)
    for (size_t at = text.find(s.temporary); at != std::string::npos;
         at = text.find(s.temporary, at + s.final.size()))
      text.replace(at, s.temporary.size(), s.final);
  return text;
}

void OutputFiles::setTemporaryFolder(llvm::StringRef folder) {
  folder_ = folder.str();
  if (folder_.size() < sizeof gFolder) {
    std::memcpy(gFolder, folder_.c_str(), folder_.size() + 1);
    llvm::sys::SetInterruptFunction(interrupted);
  }
}

std::string OutputFiles::temporaryFile(llvm::StringRef name) const {
  llvm::SmallString<256> path(folder_);
  llvm::sys::path::append(path, name);
  llvm::sys::RemoveFileOnSignal(path);
  return std::string(path);
}
