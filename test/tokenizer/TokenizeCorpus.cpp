//===- TokenizeCorpus.cpp - tern's tokenizer on a corpus, for tokenizer_test.py ----------------===//
//
//   tern-tokenize-corpus TOKENIZER_JSON TOKENIZER_CONFIG_JSON CORPUS_JSON OUT_JSON
//   tern-tokenize-corpus MODEL.gguf - CORPUS_JSON OUT_JSON
//
// The path a compiled program takes: the compiler's converter (frontends/hf/Tokenizer) turns
// tokenizer.json (or a GGUF file's tokenizer.ggml.* metadata) into the blob tensors, the blob is written and parsed as the runtime parses it,
// and the runtime's tokenizer encodes every corpus string (added tokens recognized, nothing
// added) and decodes the ids back. Writes [{"ids": [...], "text": "..."}] like the reference.
//
//===------------------------------------------------------------------------------------------===//
#include "TokenizerBlob.h"

#include "frontends/gguf/GgufTokenizer.h"
#include "frontends/hf/Tokenizer.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

static int fail(const llvm::Twine &message) {
  llvm::errs() << "tern-tokenize-corpus: error: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5)
    return fail("usage: tern-tokenize-corpus TOKENIZER_JSON TOKENIZER_CONFIG_JSON CORPUS_JSON "
                "OUT_JSON");
  std::string eos;
  if (auto config = llvm::MemoryBuffer::getFile(argv[2])) {
    if (auto json = llvm::json::parse((*config)->getBuffer()))
      if (const llvm::json::Object *o = json->getAsObject()) {
        if (auto s = o->getString("eos_token"))
          eos = s->str();
        else if (const llvm::json::Object *t = o->getObject("eos_token"))
          eos = t->getString("content").value_or("").str();
      }
  }
  tern::WeightStore store;
  if (llvm::StringRef(argv[1]).ends_with(".gguf")) {
    auto file = tern::gguf::GgufFile::open(argv[1]);
    if (!file)
      return fail(llvm::toString(file.takeError()));
    auto imported = tern::gguf::importTokenizer(**file, store);
    if (!imported)
      return fail(llvm::toString(imported.takeError()));
    if (!*imported)
      return fail(llvm::Twine(argv[1]) + ": no tokenizer in the metadata");
  } else if (llvm::Error e = tern::hf::importTokenizer(argv[1], eos, store)) {
    return fail(llvm::toString(std::move(e)));
  }
  tern::TokenizerBlob opened;
  if (llvm::Error e = tern::openTokenizerBlob(store, {}, opened))
    return fail(llvm::toString(std::move(e)));
  tern_tokenizer *tokenizer = opened.tokenizer;
  char error[512];

  auto corpusFile = llvm::MemoryBuffer::getFile(argv[3]);
  if (!corpusFile)
    return fail(llvm::Twine(argv[3]) + ": " + corpusFile.getError().message());
  auto corpus = llvm::json::parse((*corpusFile)->getBuffer());
  if (!corpus || !corpus->getAsArray())
    return fail(llvm::Twine(argv[3]) + ": expected a JSON array of strings");
  llvm::json::Array out;
  for (const llvm::json::Value &v : *corpus->getAsArray()) {
    llvm::StringRef text = v.getAsString().value_or("");
    // Sized by asking first, as a program that does not know the count does.
    int64_t n = tern_tokenizer_encode(tokenizer, text.data(), text.size(), 0, 1, nullptr, 0,
                                      error, sizeof error);
    if (n < 0)
      return fail(error);
    std::vector<int32_t> ids(static_cast<size_t>(n));
    if (tern_tokenizer_encode(tokenizer, text.data(), text.size(), 0, 1, ids.data(), n, error,
                              sizeof error) != n)
      return fail("the second encode counted differently");
    // A whole text, as the tokenizer's decoder gives it back (transformers.js decode).
    int64_t len = tern_tokenizer_decode_text(tokenizer, ids.data(), n, nullptr, 0);
    if (len < 0)
      return fail("decode failed");
    std::string decoded(static_cast<size_t>(len), '\0');
    if (tern_tokenizer_decode_text(tokenizer, ids.data(), n, decoded.data(), decoded.size()) !=
        len)
      return fail("the second decode counted differently");
    llvm::json::Array idList;
    for (int32_t id : ids)
      idList.push_back(id);
    out.push_back(llvm::json::Object{{"ids", std::move(idList)}, {"text", decoded}});
  }
  std::error_code ec;
  llvm::raw_fd_ostream file(argv[4], ec);
  if (ec)
    return fail(llvm::Twine(argv[4]) + ": " + ec.message());
  file << llvm::json::Value(std::move(out));
  return 0;
}
