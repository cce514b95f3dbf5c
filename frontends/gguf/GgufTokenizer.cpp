//===- GgufTokenizer.cpp - a GGUF file's tokenizer as the runtime's tokenizer tensors ---------===//
//
// llama.cpp's conventions (convert_hf_to_gguf's get_vocab_base, llama-vocab.cpp): normal tokens
// are stored in GPT-2's byte-level alphabet, control and user-defined tokens (the added tokens)
// as raw text; merges are "left right" in byte-level text; tokenizer.ggml.pre names the
// pre-tokenizer.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/gguf/GgufTokenizer.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

using namespace tern;
using namespace tern::gguf;
using llvm::formatv;

namespace {
// gguf-py's TokenType.
enum TokenType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

/// The regex and ignore_merges of a tokenizer.ggml.pre name llama.cpp knows as Llama 3's or
/// GPT-2's (the pre-tokenizers of the BitNet family's tokenizers).
std::optional<std::pair<const char *, bool>> preTokenizer(llvm::StringRef pre) {
  for (const char *llama3 : {"llama-bpe", "llama3", "llama-v3", "falcon3", "falcon_e"})
    if (pre == llama3)
      return std::make_pair(kLlama3Pattern, true);
  if (pre == "gpt-2")
    return std::make_pair(kGpt2Pattern, false);
  return std::nullopt;
}
} // namespace

llvm::Expected<std::optional<TokenizerTables>> tern::gguf::readTokenizer(const GgufFile &file) {
  llvm::Expected<std::optional<llvm::StringRef>> model =
      file.getOptionalString("tokenizer.ggml.model");
  if (!model)
    return model.takeError();
  if (!*model)
    return std::nullopt;
  if (**model != "gpt2")
    return file.error(formatv("tokenizer.ggml.model is '{0}'; tern reads byte-level BPE "
                              "tokenizers ('gpt2'), not SentencePiece ('llama') or others",
                              **model));
  llvm::Expected<const MetaValue *> tokens = file.getArray("tokenizer.ggml.tokens",
                                                           ValueType::String);
  if (!tokens)
    return tokens.takeError();
  if (!*tokens || (*tokens)->count == 0)
    return file.error("tokenizer.ggml.tokens: missing or empty (a gpt2 tokenizer lists its "
                      "tokens)");
  uint64_t count = (*tokens)->count;
  llvm::Expected<const MetaValue *> types = file.getArray("tokenizer.ggml.token_type",
                                                          ValueType::I64);
  if (!types)
    return types.takeError();
  if (*types && (*types)->count != count)
    return file.error(formatv("tokenizer.ggml.token_type has {0} entries; tokenizer.ggml.tokens "
                              "has {1}",
                              (*types)->count, count));
  llvm::Expected<const MetaValue *> merges = file.getArray("tokenizer.ggml.merges",
                                                           ValueType::String);
  if (!merges)
    return merges.takeError();
  if (!*merges)
    return file.error("tokenizer.ggml.merges: missing (a gpt2 tokenizer has merges)");

  llvm::Expected<std::optional<llvm::StringRef>> pre = file.getOptionalString("tokenizer.ggml.pre");
  if (!pre)
    return pre.takeError();
  TokenizerTables t;
  bool llama3Vocab = llvm::is_contained((*tokens)->strings, "<|begin_of_text|>");
  if (*pre) {
    auto known = preTokenizer(**pre);
    if (!known)
      return file.error(formatv("tokenizer.ggml.pre is '{0}'; tern implements the Llama 3 "
                                "pre-tokenizer (llama-bpe, llama3, falcon3, falcon_e) and GPT-2's "
                                "(gpt-2)",
                                **pre));
    t.pattern = known->first;
    t.ignoreMerges = known->second;
  } else if (llama3Vocab) {
    // The official BitNet b1.58 2B4T file has no tokenizer.ggml.pre (llama.cpp then falls back
    // to its default regexes); its vocabulary is Llama 3's, and so is the pre-tokenizer the
    // model was trained with.
    t.pattern = kLlama3Pattern;
    t.ignoreMerges = true;
  } else {
    return file.error("tokenizer.ggml.pre: missing; tern needs the pre-tokenizer's name "
                      "(llama-bpe or gpt-2) for a vocabulary that is not Llama 3's");
  }

  llvm::DenseMap<uint32_t, uint8_t> decode = byteLevelDecoder();
  llvm::StringMap<int32_t> idOf;
  t.tokens.resize(count);
  for (uint64_t id = 0; id < count; ++id) {
    llvm::StringRef text = (*tokens)->strings[id];
    int64_t type = *types ? (*types)->intAt(id) : Normal;
    if (type == Normal) {
      if (!decodeByteLevel(text, decode, t.tokens[id]))
        return file.error(formatv("tokenizer.ggml.tokens[{0}] ('{1}'): a normal token of a gpt2 "
                                  "tokenizer is written in GPT-2's byte-level alphabet",
                                  id, text));
    } else if (type == Control || type == UserDefined || type == Unknown || type == Unused) {
      t.tokens[id] = text.str();
      if (type == Control || type == UserDefined)
        t.special.push_back(int32_t(id));
    } else {
      return file.error(formatv("tokenizer.ggml.token_type[{0}] is {1}; a gpt2 tokenizer's "
                                "tokens are normal (1), unknown (2), control (3), user-defined "
                                "(4) or unused (5)",
                                id, type));
    }
    idOf.try_emplace(text, int32_t(id));
  }
  for (uint64_t i = 0; i < (*merges)->count; ++i) {
    llvm::StringRef merge = (*merges)->strings[i];
    size_t space = merge.find(' ', 1);
    llvm::StringRef left = merge.substr(0, space);
    llvm::StringRef right = space == llvm::StringRef::npos ? "" : merge.substr(space + 1);
    auto l = idOf.find(left), r = idOf.find(right), m = idOf.find((left + right).str());
    if (right.empty() || l == idOf.end() || r == idOf.end() || m == idOf.end())
      return file.error(formatv("tokenizer.ggml.merges[{0}] ('{1}'): expected two tokens of the "
                                "vocabulary whose concatenation is one",
                                i, merge));
    t.merges.insert(t.merges.end(), {l->second, r->second, m->second});
  }

  auto tokenId = [&](llvm::StringRef key) -> llvm::Expected<int64_t> {
    llvm::Expected<std::optional<uint64_t>> id = file.getOptionalUInt(key);
    if (!id)
      return id.takeError();
    if (!*id)
      return -1;
    if (**id >= count)
      return file.error(formatv("{0} is {1}; the vocabulary has {2} tokens", key, **id, count));
    return int64_t(**id);
  };
  llvm::Expected<int64_t> bos = tokenId("tokenizer.ggml.bos_token_id");
  if (!bos)
    return bos.takeError();
  llvm::Expected<int64_t> eos = tokenId("tokenizer.ggml.eos_token_id");
  if (!eos)
    return eos.takeError();
  llvm::Expected<std::optional<bool>> addBos = file.getOptionalBool("tokenizer.ggml.add_bos_token");
  if (!addBos)
    return addBos.takeError();
  // llama.cpp adds the BOS for the Llama 3 pre-tokenizers unless the file says otherwise.
  if (addBos->value_or(t.ignoreMerges)) {
    if (*bos < 0)
      return file.error("tokenizer.ggml.add_bos_token is set but tokenizer.ggml.bos_token_id is "
                        "missing");
    t.bos = *bos;
  }
  t.eos = *eos;
  // llama.cpp's end-of-turn and end-of-message tokens end a reply too.
  for (const char *key : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
    llvm::Expected<int64_t> id = tokenId(key);
    if (!id)
      return id.takeError();
    if (*id >= 0)
      t.endOfGeneration.push_back(*id);
  }
  return std::optional<TokenizerTables>(std::move(t));
}

llvm::Expected<bool> tern::gguf::importTokenizer(const GgufFile &file, WeightStore &store,
                                                 const ChatTemplateChoice &choice) {
  llvm::Expected<std::optional<TokenizerTables>> tables = readTokenizer(file);
  if (!tables)
    return tables.takeError();
  if (!*tables)
    return false;
  if (llvm::Error e = addTokenizerTensors(**tables, file.path(), "tokenizer.ggml.tokens", store))
    return std::move(e);
  llvm::Expected<std::optional<llvm::StringRef>> source =
      file.getOptionalString("tokenizer.chat_template");
  if (!source)
    return source.takeError();
  ChatTemplate chat;
  chat.source = source->value_or("").str();
  chat.origin = (file.path() + ": tokenizer.chat_template").str();
  // The template's bos_token and eos_token: the texts of the ids the file names (readTokenizer
  // checked them against the vocabulary), whether or not the encoder adds the BOS.
  const std::vector<std::string> &tokens = (*tables)->tokens;
  for (auto [key, text] : {std::pair{"tokenizer.ggml.bos_token_id", &chat.bos},
                           std::pair{"tokenizer.ggml.eos_token_id", &chat.eos}}) {
    llvm::Expected<std::optional<uint64_t>> id = file.getOptionalUInt(key);
    if (!id)
      return id.takeError();
    if (*id && **id < tokens.size())
      *text = tokens[**id];
  }
  if (llvm::Error e = choice.apply(chat))
    return std::move(e);
  if (llvm::Error e = addChatTemplate(chat, store))
    return std::move(e);
  return true;
}
