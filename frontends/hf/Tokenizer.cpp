//===- Tokenizer.cpp - a Hugging Face tokenizer.json as the runtime's tokenizer tensors --------===//
#include "frontends/hf/Tokenizer.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace tern;
namespace json = llvm::json;

namespace {

llvm::Error fail(llvm::StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 (path + ": " + message).str().c_str());
}

/// The regex of a pre-tokenizer: a Split (Isolated, not inverted) followed by a ByteLevel
/// without its own regex (Llama 3), or a ByteLevel with use_regex (GPT-2's pattern).
llvm::Expected<std::string> preTokenizerPattern(llvm::StringRef path, const json::Object *pre) {
  if (!pre)
    return fail(path, "pre_tokenizer: expected a byte-level pre-tokenizer");
  std::optional<llvm::StringRef> type = pre->getString("type");
  if (type == "ByteLevel") {
    if (pre->getBoolean("use_regex").value_or(true) == false)
      return fail(path, "pre_tokenizer: a ByteLevel without a regex splits nothing");
    if (pre->getBoolean("add_prefix_space").value_or(false))
      return fail(path, "pre_tokenizer.add_prefix_space: not supported");
    return std::string(kGpt2Pattern);
  }
  if (type != "Sequence")
    return fail(path, "pre_tokenizer.type: '" + type.value_or("?") +
                          "' is not supported (expected Sequence or ByteLevel)");
  const json::Array *list = pre->getArray("pretokenizers");
  std::string pattern;
  bool byteLevel = false;
  for (size_t i = 0; list && i < list->size(); ++i) {
    const json::Object *p = (*list)[i].getAsObject();
    std::optional<llvm::StringRef> t = p ? p->getString("type") : std::nullopt;
    std::string where = "pre_tokenizer.pretokenizers[" + std::to_string(i) + "]";
    if (t == "Split") {
      const json::Object *regex = p->getObject("pattern");
      std::optional<llvm::StringRef> r = regex ? regex->getString("Regex") : std::nullopt;
      if (!r || !pattern.empty() || p->getString("behavior") != "Isolated" ||
          p->getBoolean("invert").value_or(false))
        return fail(path, where + ": expected one Split with a Regex pattern, Isolated, not "
                                  "inverted");
      pattern = r->str();
    } else if (t == "ByteLevel") {
      if (p->getBoolean("use_regex").value_or(true) || p->getBoolean("add_prefix_space")
                                                           .value_or(false))
        return fail(path, where + ": expected a ByteLevel with use_regex false and no prefix "
                                  "space");
      byteLevel = true;
    } else {
      return fail(path, where + ".type: '" + t.value_or("?") + "' is not supported");
    }
  }
  if (pattern.empty() || !byteLevel)
    return fail(path, "pre_tokenizer: expected a Split with a regex and a ByteLevel");
  return pattern;
}

} // namespace

llvm::Error hf::importTokenizer(llvm::StringRef path, llvm::StringRef eosToken,
                                WeightStore &store) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  llvm::Expected<json::Value> root = json::parse((*buffer)->getBuffer());
  if (!root)
    return fail(path, "not JSON: " + llvm::toString(root.takeError()));
  const json::Object *top = root->getAsObject();
  const json::Object *model = top ? top->getObject("model") : nullptr;
  if (!model || model->getString("type") != "BPE")
    return fail(path, "model.type: expected a BPE model");
  if (model->getBoolean("byte_fallback").value_or(false))
    return fail(path, "model.byte_fallback: not supported (byte-level BPE has no fallback)");
  if (top->get("normalizer") && !top->get("normalizer")->getAsNull())
    return fail(path, "normalizer: not supported (byte-level BPE normalizes nothing)");
  llvm::Expected<std::string> pattern = preTokenizerPattern(path, top->getObject("pre_tokenizer"));
  if (!pattern)
    return pattern.takeError();

  // The vocabulary, with the added tokens (whose text is not byte-level encoded).
  const json::Object *vocab = model->getObject("vocab");
  if (!vocab)
    return fail(path, "model.vocab: expected an object");
  std::vector<std::string> tokens;
  auto place = [&](int64_t id, std::string bytes, llvm::StringRef what) -> llvm::Error {
    if (id < 0 || id > 10000000)
      return fail(path, what + ": id " + std::to_string(id) + " is out of range");
    if (size_t(id) >= tokens.size())
      tokens.resize(size_t(id) + 1);
    tokens[size_t(id)] = std::move(bytes);
    return llvm::Error::success();
  };
  llvm::DenseMap<uint32_t, uint8_t> decode = byteLevelDecoder();
  llvm::StringMap<int32_t> idOf;
  for (const auto &[text, value] : *vocab) {
    std::optional<int64_t> id = value.getAsInteger();
    std::string bytes;
    if (!id || !decodeByteLevel(text, decode, bytes))
      return fail(path, "model.vocab['" + llvm::StringRef(text) +
                            "']: expected an id and byte-level characters");
    if (llvm::Error e = place(*id, bytes, "model.vocab"))
      return e;
    idOf[text] = int32_t(*id);
  }
  std::vector<int32_t> special;
  if (const json::Array *added = top->getArray("added_tokens"))
    for (const json::Value &v : *added) {
      const json::Object *a = v.getAsObject();
      std::optional<int64_t> id = a ? a->getInteger("id") : std::nullopt;
      std::optional<llvm::StringRef> content = a ? a->getString("content") : std::nullopt;
      if (!id || !content)
        return fail(path, "added_tokens: expected entries with id and content");
      if (llvm::Error e = place(*id, content->str(), "added_tokens"))
        return e;
      special.push_back(int32_t(*id));
    }

  // Merges, as "left right" strings or [left, right] pairs of byte-level text.
  const json::Array *merges = model->getArray("merges");
  if (!merges)
    return fail(path, "model.merges: expected an array");
  std::vector<int32_t> mergeIds;
  for (size_t i = 0; i < merges->size(); ++i) {
    llvm::StringRef left, right;
    if (std::optional<llvm::StringRef> s = (*merges)[i].getAsString()) {
      std::tie(left, right) = s->split(' ');
    } else if (const json::Array *pair = (*merges)[i].getAsArray(); pair && pair->size() == 2) {
      left = (*pair)[0].getAsString().value_or("");
      right = (*pair)[1].getAsString().value_or("");
    }
    auto l = idOf.find(left), r = idOf.find(right), m = idOf.find((left + right).str());
    if (left.empty() || right.empty() || l == idOf.end() || r == idOf.end() || m == idOf.end())
      return fail(path, "model.merges[" + std::to_string(i) +
                            "]: expected two tokens of the vocabulary whose concatenation is one");
    mergeIds.insert(mergeIds.end(), {l->second, r->second, m->second});
  }

  // The BOS the post-processor puts first, and the EOS.
  int64_t bos = -1, eos = -1;
  auto idOfText = [&](llvm::StringRef text) -> int64_t {
    for (size_t id = 0; id < tokens.size(); ++id)
      if (tokens[id] == text)
        return int64_t(id);
    return -1;
  };
  if (const json::Object *post = top->getObject("post_processor"))
    if (const json::Array *single = post->getArray("single"))
      if (!single->empty())
        if (const json::Object *first = (*single)[0].getAsObject())
          if (const json::Object *st = first->getObject("SpecialToken"))
            if (std::optional<llvm::StringRef> text = st->getString("id"))
              bos = idOfText(*text);
  if (!eosToken.empty())
    eos = idOfText(eosToken);

  TokenizerTables tables;
  tables.tokens = std::move(tokens);
  tables.merges = std::move(mergeIds);
  tables.special = std::move(special);
  tables.pattern = std::move(*pattern);
  tables.ignoreMerges = model->getBoolean("ignore_merges").value_or(false);
  tables.bos = bos;
  tables.eos = eos;
  return addTokenizerTensors(tables, path, "model.vocab", store);
}

llvm::Expected<bool> hf::importCheckpointTokenizer(llvm::StringRef dir, WeightStore &store) {
  llvm::SmallString<256> path(dir), configPath(dir);
  llvm::sys::path::append(path, "tokenizer.json");
  llvm::sys::path::append(configPath, "tokenizer_config.json");
  if (!llvm::sys::fs::exists(path))
    return false;
  std::string eos, chat;
  if (auto buffer = llvm::MemoryBuffer::getFile(configPath)) {
    llvm::Expected<json::Value> config = json::parse((*buffer)->getBuffer());
    if (!config)
      return fail(configPath, "not JSON: " + llvm::toString(config.takeError()));
    if (const json::Object *c = config->getAsObject()) {
      if (std::optional<llvm::StringRef> s = c->getString("eos_token"))
        eos = s->str();
      else if (const json::Object *o = c->getObject("eos_token"))
        eos = o->getString("content").value_or("").str();
      chat = chatFormat(c->getString("chat_template").value_or(""));
    }
  }
  if (llvm::Error e = importTokenizer(path, eos, store))
    return std::move(e);
  if (llvm::Error e = addChatFormat(chat, configPath, store))
    return std::move(e);
  return true;
}
