//===- TokenizerFuzzer.cpp - the runtime tokenizer's encode and decode on arbitrary bytes -----===//
//
// The tokenizers of generated checkpoints (byte-level: Llama 3's pre-tokenizer regex and added
// tokens; metaspace: Llama 2's form with byte fallback), converted and opened as a compiled
// program does. Invalid UTF-8 is refused with a message naming the byte; valid text encodes,
// with or without BOS and added-token parsing, and decodes back to itself (after the BOS;
// metaspace only without added-token parsing, a U+2581 of the text coming back as a space).
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

namespace {
struct Opened {
  std::vector<uint8_t> blobBytes;
  tern_blob blob;
  tern_tokenizer *tokenizer = nullptr;
};
Opened byteLevel, metaspace;
} // namespace

static void die(const std::string &message) {
  llvm::errs() << "tokenizer fuzzer: " << message << "\n";
  std::abort();
}

static void openTokenizer(const tern::gen::Tokenizer &generated, llvm::StringRef eos, Opened &out) {
  llvm::SmallString<128> path;
  if (llvm::sys::fs::createTemporaryFile("tern-fuzz-tokenizer", "json", path))
    die("no temporary file");
  {
    std::error_code ec;
    llvm::raw_fd_ostream file(path, ec);
    file << generated.tokenizerJson;
  }
  tern::WeightStore store;
  if (llvm::Error e = tern::hf::importTokenizer(path, eos, store))
    die(llvm::toString(std::move(e)));
  llvm::sys::fs::remove(path);
  std::vector<std::string> names(std::begin(tern::kTokenizerTensors),
                                 std::end(tern::kTokenizerTensors));
  llvm::StringMap<uint64_t> offsets;
  auto bytes = tern::codegen::buildWeightBlob(store, names, offsets);
  if (!bytes)
    die(llvm::toString(bytes.takeError()));
  out.blobBytes.assign(bytes->begin(), bytes->end());
  char error[256];
  if (tern_blob_parse(out.blobBytes.data(), out.blobBytes.size(), "fuzz", 1, &out.blob, error,
                      sizeof error) ||
      tern_tokenizer_open(&out.blob, nullptr, &out.tokenizer, error, sizeof error))
    die(error);
}

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  openTokenizer(tern::gen::generateTokenizer(400, false, 128), "<|end_of_text|>", byteLevel);
  openTokenizer(tern::gen::generateMetaspaceTokenizer(400, 128), "</s>", metaspace);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  int addBos = data[0] & 1, special = (data[0] >> 1) & 1, isMetaspace = (data[0] >> 2) & 1;
  tern_tokenizer *tokenizer = isMetaspace ? metaspace.tokenizer : byteLevel.tokenizer;
  // An owned, exactly-sized copy, so ASan sees any read past the end.
  std::vector<char> text(data + 1, data + size);
  size_t n = text.size();
  // Metaspace: a space becomes a 3-byte U+2581 that may fall back to 3 byte tokens, plus the
  // prepended one.
  size_t most = isMetaspace ? 3 * n + 4 : n + 1;
  std::vector<int32_t> ids(most + 1);
  char error[256];
  int64_t count = tern_tokenizer_encode(tokenizer, text.data(), n, addBos, special, ids.data(),
                                        static_cast<int64_t>(ids.size()), error, sizeof error);
  if (count < 0) {
    if (!strstr(error, "not valid UTF-8 at byte"))
      die(std::string("unexpected error: ") + error);
    return 0;
  }
  if (count > static_cast<int64_t>(most) + addBos)
    die("more tokens than the text can make");
  int first = addBos && count > 0 && ids[0] == tern_tokenizer_bos(tokenizer) ? 1 : 0;
  // Metaspace puts a U+2581 before every span that follows an added token: such a text does not
  // come back as it was, and only the bounds above are checked.
  if (isMetaspace && special)
    return 0;
  std::string expected(text.begin(), text.end());
  for (size_t at; isMetaspace && (at = expected.find("\u2581")) != std::string::npos;)
    expected.replace(at, 3, " ");
  std::string decoded(expected.size() + 64, '\0');
  int64_t length = tern_tokenizer_decode_text(tokenizer, ids.data() + first, count - first,
                                              decoded.data(), decoded.size());
  if (length < 0 || static_cast<size_t>(length) != expected.size() ||
      memcmp(decoded.data(), expected.data(), expected.size()) != 0)
    die("the text does not decode back to itself");
  return 0;
}
