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

const char *const hf::kChatTensor = "tokenizer.chat";
const char *const hf::kTokenizerTensors[6] = {"tokenizer.vocab",   "tokenizer.offsets",
                                              "tokenizer.merges",  "tokenizer.special",
                                              "tokenizer.pattern", "tokenizer.config"};

namespace {

llvm::Error fail(llvm::StringRef path, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 (path + ": " + message).str().c_str());
}

/// GPT-2's byte-level alphabet: the character each byte is written as in the vocabulary.
/// Printable Latin-1 bytes stand for themselves; the others are 256, 257, ... in byte order.
llvm::DenseMap<uint32_t, uint8_t> byteLevelDecoder() {
  llvm::DenseMap<uint32_t, uint8_t> decode;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    decode[printable ? b : next++] = uint8_t(b);
  }
  return decode;
}

/// A byte-level vocabulary string's bytes, or false if a character is not in the alphabet.
bool decodeByteLevel(llvm::StringRef text, const llvm::DenseMap<uint32_t, uint8_t> &decode,
                     std::string &bytes) {
  bytes.clear();
  for (size_t i = 0; i < text.size();) {
    uint8_t c = uint8_t(text[i]);
    uint32_t cp;
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    if (i + len > text.size())
      return false;
    cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t j = 1; j < len; ++j)
      cp = (cp << 6) | (uint8_t(text[i + j]) & 0x3f);
    auto it = decode.find(cp);
    if (it == decode.end())
      return false;
    bytes.push_back(char(it->second));
    i += len;
  }
  return true;
}

/// The regex of a pre-tokenizer: a Split (Isolated, not inverted) followed by a ByteLevel
/// without its own regex (Llama 3), or a ByteLevel with use_regex (GPT-2's pattern).
llvm::Expected<std::string> preTokenizerPattern(llvm::StringRef path, const json::Object *pre) {
  static const char *const kGpt2 =
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
  if (!pre)
    return fail(path, "pre_tokenizer: expected a byte-level pre-tokenizer");
  std::optional<llvm::StringRef> type = pre->getString("type");
  if (type == "ByteLevel") {
    if (pre->getBoolean("use_regex").value_or(true) == false)
      return fail(path, "pre_tokenizer: a ByteLevel without a regex splits nothing");
    if (pre->getBoolean("add_prefix_space").value_or(false))
      return fail(path, "pre_tokenizer.add_prefix_space: not supported");
    return std::string(kGpt2);
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

template <typename T>
llvm::Error addTensor(WeightStore &store, const char *name, DType dtype,
                      llvm::SmallVector<int64_t, 4> shape, const std::vector<T> &values,
                      llvm::StringRef path) {
  StoredTensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.origin = ("converted from " + path).str();
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return store.addDerived(std::move(t), std::move(bytes));
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

  // Byte-level BPE starts every piece from single bytes: all 256 must be tokens.
  std::vector<bool> single(256, false);
  for (const std::string &t : tokens)
    if (t.size() == 1)
      single[uint8_t(t[0])] = true;
  for (int b = 0; b < 256; ++b)
    if (!single[size_t(b)])
      return fail(path, "model.vocab: no token for the byte " + std::to_string(b) +
                            " (a byte-level vocabulary has all 256)");

  std::vector<uint8_t> bytes;
  std::vector<int64_t> offsets{0};
  for (const std::string &t : tokens) {
    bytes.insert(bytes.end(), t.begin(), t.end());
    offsets.push_back(int64_t(bytes.size()));
  }
  std::vector<uint8_t> patternBytes(pattern->begin(), pattern->end());
  std::vector<int64_t> config{model->getBoolean("ignore_merges").value_or(false) ? 1 : 0, bos,
                              eos, 1};
  int64_t v = int64_t(tokens.size());
  if (llvm::Error e = addTensor(store, kTokenizerTensors[0], DType::U8, {int64_t(bytes.size())},
                                bytes, path))
    return e;
  if (llvm::Error e = addTensor(store, kTokenizerTensors[1], DType::I64, {v + 1}, offsets, path))
    return e;
  if (llvm::Error e = addTensor(store, kTokenizerTensors[2], DType::I32,
                                {int64_t(mergeIds.size() / 3), 3}, mergeIds, path))
    return e;
  if (llvm::Error e = addTensor(store, kTokenizerTensors[3], DType::I32,
                                {int64_t(special.size())}, special, path))
    return e;
  if (llvm::Error e = addTensor(store, kTokenizerTensors[4], DType::U8,
                                {int64_t(patternBytes.size())}, patternBytes, path))
    return e;
  return addTensor(store, kTokenizerTensors[5], DType::I64, {4}, config, path);
}

std::string hf::chatFormat(llvm::StringRef t) {
  // Llama 3's header format: every message as <|start_header_id|>role<|end_header_id|>\n\n
  // content (trimmed) <|eot_id|>, the BOS before the first, then the assistant's header.
  bool llama3 = t.contains("<|start_header_id|>") && t.contains("<|end_header_id|>") &&
                t.contains("<|eot_id|>") && t.contains("message['role']") &&
                t.contains("message['content'] | trim") && t.contains("bos_token");
  return llama3 ? "llama3-header" : "";
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
  if (!chat.empty()) {
    std::vector<uint8_t> bytes(chat.begin(), chat.end());
    if (llvm::Error e = addTensor(store, kChatTensor, DType::U8, {int64_t(bytes.size())}, bytes,
                                  configPath))
      return std::move(e);
  }
  return true;
}
