//===- OutputFiles.h - ternc's outputs, written whole or not at all --------------------------===//
//
// Every file a ternc run produces for the user (the executable, library, object or IR, and the
// .weights and .h beside it) is written under a temporary name in its own folder and renamed
// into place only when the whole run succeeded, the main output last: a failed run leaves no
// partial file, and the main output appears only once the files beside it are in place. The
// temporary names are removed when the run fails or returns early, and, with ternc's temporary
// folder, when it is interrupted (SIGINT, SIGTERM: LLVM's signal handler removes the files
// registered with it, then the interrupt function removes the emptied folder and exits with
// status 130).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TOOLS_TERNC_OUTPUTFILES_H
#define TERN_TOOLS_TERNC_OUTPUTFILES_H

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace tern::ternc {

class OutputFiles {
public:
  OutputFiles() = default;
  ~OutputFiles();
  OutputFiles(const OutputFiles &) = delete;
  OutputFiles &operator=(const OutputFiles &) = delete;

  /// The path to write instead of `final`: a unique hidden name in final's folder, so the
  /// rename is atomic. Staging the same final path again returns the same name. The main
  /// output is renamed after the others.
  std::string stage(llvm::StringRef final, bool main = false);
  /// Renames every staged file onto its final path, the main output last; an error names the
  /// file.
  llvm::Error commit();
  /// `text` (a message) with every staged name replaced by its final one.
  std::string finalNames(std::string text) const;

  /// ternc's temporary folder: its files are registered with LLVM's signal handler as they are
  /// named (temporaryFile), the folder itself is removed by the interrupt function.
  void setTemporaryFolder(llvm::StringRef folder);
  std::string temporaryFile(llvm::StringRef name) const;

private:
  struct Staged {
    std::string temporary, final;
    bool main;
  };
  std::vector<Staged> staged_;
  std::string folder_;
};

} // namespace tern::ternc

#endif
