//===- TokenizerFuzzer.cpp - the runtime tokenizer's encode and decode on arbitrary bytes -----===//
//
// The tokenizer of a generated checkpoint (Llama 3's pre-tokenizer regex and added tokens),
// converted and opened as a compiled program does. Invalid UTF-8 is refused with a message
// naming the byte; valid text encodes, with or without BOS and added-token parsing, and decodes
// back to itself (after the BOS).
//
//===------------------------------------------------------------------------------------------===//
#include "codegen/blob/WeightBlobWriter.h"
#include "frontends/hf/Tokenizer.h"
#include "tools/tern-gen-checkpoint/TokenizerGen.h"

#include "tern/tokenizer.h"
#include "tern/weight_blob.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static std::vector<uint8_t> blobBytes;
static tern_blob blob;
static tern_tokenizer *tokenizer;

static void die(const std::string &message) {
  llvm::errs() << "tokenizer fuzzer: " << message << "\n";
  std::abort();
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  tern::gen::Tokenizer generated = tern::gen::generateTokenizer(400, false, 128);
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("tern-fuzz-tokenizer", "json", path))
    die("no temporary file");
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec);
    out << generated.tokenizerJson;
  }
  tern::WeightStore store;
  if (llvm::Error e = tern::hf::importTokenizer(path, "<|end_of_text|>", store))
    die(llvm::toString(std::move(e)));
  llvm::sys::fs::remove(path);
  std::vector<std::string> names(std::begin(tern::kTokenizerTensors),
                                 std::end(tern::kTokenizerTensors));
  llvm::StringMap<uint64_t> offsets;
  auto bytes = tern::codegen::buildWeightBlob(store, names, offsets);
  if (!bytes)
    die(llvm::toString(bytes.takeError()));
  blobBytes.assign(bytes->begin(), bytes->end());
  char error[256];
  if (tern_blob_parse(blobBytes.data(), blobBytes.size(), "fuzz", 1, &blob, error,
                      sizeof error) ||
      tern_tokenizer_open(&blob, nullptr, &tokenizer, error, sizeof error))
    die(error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  int addBos = data[0] & 1, special = (data[0] >> 1) & 1;
  // An owned, exactly-sized copy, so ASan sees any read past the end.
  std::vector<char> text(data + 1, data + size);
  size_t n = text.size();
  std::vector<int32_t> ids(n + 2);
  char error[256];
  int64_t count = tern_tokenizer_encode(tokenizer, text.data(), n, addBos, special, ids.data(),
                                        static_cast<int64_t>(ids.size()), error, sizeof error);
  if (count < 0) {
    if (!strstr(error, "not valid UTF-8 at byte"))
      die(std::string("unexpected error: ") + error);
    return 0;
  }
  if (count > static_cast<int64_t>(n) + 1)
    die("more tokens than bytes");
  int first = addBos && count > 0 && ids[0] == tern_tokenizer_bos(tokenizer) ? 1 : 0;
  std::string decoded(n + 64, '\0');
  int64_t length = tern_tokenizer_decode(tokenizer, ids.data() + first, count - first,
                                         decoded.data(), decoded.size());
  if (length < 0 || static_cast<size_t>(length) != n ||
      (n > 0 && memcmp(decoded.data(), text.data(), n) != 0))
    die("the text does not decode back to itself");
  return 0;
}
