//===- Tokenizer.cpp - a Hugging Face tokenizer.json as the runtime's tokenizer tensors --------===//
#include "frontends/hf/Tokenizer.h"

#include "frontends/common/ChatTemplate.h"

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

/// The U+2581 that metaspace tokenizers write for a space.
constexpr llvm::StringLiteral kMetaspace("\u2581");

bool isNull(const json::Value *v) { return !v || v->getAsNull(); }

/// A Replace whose pattern is the string `from` and whose content is `to`.
bool isReplace(const json::Object *o, llvm::StringRef from, llvm::StringRef to) {
  const json::Object *pattern = o ? o->getObject("pattern") : nullptr;
  return o && o->getString("type") == "Replace" && pattern &&
         pattern->getString("String") == from && o->getString("content") == to;
}

/// A metaspace tokenizer's spans and decoder, from the legacy form (Llama 2: a normalizer that
/// prepends U+2581 and replaces spaces, no pre-tokenizer) or the current one (a Metaspace
/// pre-tokenizer, no normalizer), and its decoder (Replace, ByteFallback, Fuse, Strip, or
/// Metaspace).
llvm::Error readMetaspace(llvm::StringRef path, const json::Object &top, TokenizerTables &t) {
  const json::Value *normalizerValue = top.get("normalizer");
  const json::Value *preValue = top.get("pre_tokenizer");
  if (!isNull(normalizerValue)) {
    const json::Object *n = normalizerValue->getAsObject();
    const json::Array *list = n && n->getString("type") == "Sequence"
                                  ? n->getArray("normalizers")
                                  : nullptr;
    bool prepend = false, replace = false;
    for (size_t i = 0; list && i < list->size(); ++i) {
      const json::Object *step = (*list)[i].getAsObject();
      if (step && step->getString("type") == "Prepend" && step->getString("prepend") == kMetaspace &&
          !prepend && !replace)
        prepend = true;
      else if (isReplace(step, " ", kMetaspace) && !replace)
        replace = true;
      else
        return fail(path, "normalizer.normalizers[" + std::to_string(i) +
                              "]: not supported (a metaspace normalizer is a Prepend of "
                              "\"\u2581\" and a Replace of \" \" by \"\u2581\")");
    }
    if (!list || !replace)
      return fail(path, "normalizer: not supported (expected a Sequence of a Prepend of "
                        "\"\u2581\" and a Replace of \" \" by \"\u2581\", as Llama 2's)");
    if (!isNull(preValue))
      return fail(path, "pre_tokenizer: expected none beside a metaspace normalizer");
    t.prepend = prepend ? MetaspacePrepend::Always : MetaspacePrepend::Never;
    t.pattern = kWholeSpanPattern;
  } else {
    const json::Object *pre = isNull(preValue) ? nullptr : preValue->getAsObject();
    if (!pre || pre->getString("type") != "Metaspace")
      return fail(path, "pre_tokenizer: expected a Metaspace pre-tokenizer (or a metaspace "
                        "normalizer) for a BPE with byte_fallback");
    if (pre->getString("replacement").value_or(kMetaspace) != kMetaspace)
      return fail(path, "pre_tokenizer.replacement: only \"\u2581\" is supported");
    std::optional<llvm::StringRef> scheme = pre->getString("prepend_scheme");
    // add_prefix_space: false (before tokenizers 0.19, beside prepend_scheme) prepends nothing.
    if (!pre->getBoolean("add_prefix_space").value_or(true))
      t.prepend = MetaspacePrepend::Never;
    else if (!scheme) // before tokenizers 0.14: add_prefix_space alone
      t.prepend = MetaspacePrepend::UnlessThere;
    else if (*scheme == "always")
      t.prepend = MetaspacePrepend::UnlessThere;
    else if (*scheme == "first")
      t.prepend = MetaspacePrepend::First;
    else if (*scheme == "never")
      t.prepend = MetaspacePrepend::Never;
    else
      return fail(path, "pre_tokenizer.prepend_scheme: '" + *scheme +
                            "' is not supported (expected always, first or never)");
    t.pattern = pre->getBoolean("split").value_or(true) ? kMetaspaceSplitPattern
                                                        : kWholeSpanPattern;
  }

  const json::Object *decoder = top.getObject("decoder");
  const json::Array *steps = decoder && decoder->getString("type") == "Sequence"
                                 ? decoder->getArray("decoders")
                                 : nullptr;
  // Replace U+2581 by a space, ByteFallback, Fuse, then optionally Strip one leading space.
  size_t i = 0;
  auto step = [&](size_t k) { return steps && k < steps->size() ? (*steps)[k].getAsObject() : nullptr; };
  auto type = [&](size_t k) { return step(k) ? step(k)->getString("type") : std::nullopt; };
  bool ok = isReplace(step(i++), kMetaspace, " ") && type(i++) == "ByteFallback" &&
            type(i++) == "Fuse";
  if (ok && i < (steps ? steps->size() : 0)) {
    const json::Object *strip = step(i++);
    std::optional<int64_t> start = strip ? strip->getInteger("start") : std::nullopt;
    ok = type(i - 1) == "Strip" && strip->getString("content") == " " && start &&
         (*start == 0 || *start == 1) && strip->getInteger("stop").value_or(0) == 0;
    t.stripLeadingSpace = ok && *start == 1;
  }
  if (!ok || i != (steps ? steps->size() : 0))
    return fail(path, "decoder: not supported (a metaspace decoder is a Sequence of a Replace "
                      "of \"\u2581\" by \" \", ByteFallback, Fuse and Strip of one leading "
                      "space, as Llama 2's; a Metaspace decoder has no byte fallback)");
  return llvm::Error::success();
}

} // namespace

llvm::Error hf::importTokenizer(llvm::StringRef path, llvm::StringRef eosToken,
                                WeightStore &store, llvm::ArrayRef<int64_t> endOfGeneration) {
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
  // Metaspace (SentencePiece converted) when the model falls back to bytes or the text is
  // normalized or pre-tokenized with U+2581; byte-level otherwise.
  TokenizerTables tables;
  const json::Object *pre = top->getObject("pre_tokenizer");
  const json::Value *normalizer = top->get("normalizer");
  std::string normalizerText;
  if (!isNull(normalizer))
    llvm::raw_string_ostream(normalizerText) << *normalizer;
  if (model->getBoolean("byte_fallback").value_or(false) ||
      llvm::StringRef(normalizerText).contains(kMetaspace) ||
      (pre && pre->getString("type") == "Metaspace")) {
    tables.kind = TokenizerKind::Metaspace;
    if (llvm::Error e = readMetaspace(path, *top, tables))
      return e;
  } else {
    if (!isNull(normalizer))
      return fail(path, "normalizer: not supported (byte-level BPE normalizes nothing)");
    llvm::Expected<std::string> pattern = preTokenizerPattern(path, pre);
    if (!pattern)
      return pattern.takeError();
    tables.pattern = std::move(*pattern);
  }
  bool metaspace = tables.kind == TokenizerKind::Metaspace;

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
    std::string bytes = metaspace ? text.str() : "";
    if (!id || (!metaspace && !decodeByteLevel(text, decode, bytes)))
      return fail(path, "model.vocab['" + llvm::StringRef(text) + "']: expected an id" +
                            (metaspace ? "" : " and byte-level characters"));
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
      // Hugging Face matches a normalized added token in the normalized text, which tern does
      // not keep: beside a normalizer (which only turns spaces into U+2581) such a token is
      // matched exactly only if it has neither.
      if (!isNull(normalizer) && a->getBoolean("normalized").value_or(false) &&
          (content->contains(' ') || content->contains(kMetaspace)))
        return fail(path, "added_tokens['" + *content +
                              "']: a normalized added token with a space beside a normalizer "
                              "is not supported (expected \"normalized\": false)");
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

  if (metaspace) {
    tables.fuseUnk = model->getBoolean("fuse_unk").value_or(false);
    tables.byteFallback = model->getBoolean("byte_fallback").value_or(false);
    if (std::optional<llvm::StringRef> unk = model->getString("unk_token")) {
      auto it = idOf.find(*unk);
      if (it == idOf.end())
        return fail(path, "model.unk_token: '" + *unk + "' is not in the vocabulary");
      tables.unk = it->second;
    }
  }
  tables.tokens = std::move(tokens);
  tables.merges = std::move(mergeIds);
  tables.special = std::move(special);
  tables.ignoreMerges = model->getBoolean("ignore_merges").value_or(false);
  tables.bos = bos;
  tables.eos = eos;
  tables.endOfGeneration.assign(endOfGeneration.begin(), endOfGeneration.end());
  return addTokenizerTensors(tables, path, "model.vocab", store);
}

/// A special token of tokenizer_config.json: a string, an AddedToken object, or null.
static std::optional<std::string> tokenText(const json::Object &config, llvm::StringRef key) {
  if (std::optional<llvm::StringRef> s = config.getString(key))
    return s->str();
  if (const json::Object *o = config.getObject(key))
    if (std::optional<llvm::StringRef> s = o->getString("content"))
      return s->str();
  return std::nullopt;
}

/// The checkpoint's chat template: chat_template.jinja when the folder has one (transformers
/// saves it there since 4.47 and prefers it), else tokenizer_config.json's chat_template, a
/// string or a list of named templates of which transformers uses "default".
static llvm::Error readChatTemplate(llvm::StringRef dir, const json::Object *config,
                                    llvm::StringRef configPath, ChatTemplate &t) {
  llvm::SmallString<256> jinjaPath(dir);
  llvm::sys::path::append(jinjaPath, "chat_template.jinja");
  if (llvm::sys::fs::exists(jinjaPath)) {
    auto buffer = llvm::MemoryBuffer::getFile(jinjaPath);
    if (!buffer)
      return fail(jinjaPath, "cannot read: " + buffer.getError().message());
    t.source = (*buffer)->getBuffer().str();
    t.origin = jinjaPath.str().str();
    return llvm::Error::success();
  }
  if (!config)
    return llvm::Error::success();
  const json::Value *value = config->get("chat_template");
  if (!value || value->kind() == json::Value::Null)
    return llvm::Error::success();
  t.origin = (configPath + ": chat_template").str();
  if (std::optional<llvm::StringRef> s = value->getAsString()) {
    t.source = s->str();
    return llvm::Error::success();
  }
  if (const json::Array *named = value->getAsArray()) {
    for (size_t i = 0; i < named->size(); ++i) {
      const json::Object *entry = (*named)[i].getAsObject();
      std::optional<llvm::StringRef> name = entry ? entry->getString("name") : std::nullopt;
      std::optional<llvm::StringRef> text = entry ? entry->getString("template") : std::nullopt;
      if (!name || !text)
        return fail(configPath, "chat_template[" + std::to_string(i) +
                                    "]: expected an object with a name and a template");
      if (*name == "default") {
        t.source = text->str();
        t.origin = (configPath + ": chat_template[" + std::to_string(i) + "]").str();
        return llvm::Error::success();
      }
    }
    return fail(configPath, "chat_template: none of the named templates is 'default'");
  }
  return fail(configPath, "chat_template: expected a string or a list of named templates");
}

/// eos_token_id of config.json and generation_config.json (an id or a list of them; the files
/// are optional, and HFConfig reports a malformed config.json): every id that ends a reply.
static llvm::Error readEndOfGeneration(llvm::StringRef dir, std::vector<int64_t> &ids) {
  for (const char *name : {"config.json", "generation_config.json"}) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      continue;
    llvm::Expected<json::Value> root = json::parse((*buffer)->getBuffer());
    if (!root) {
      llvm::consumeError(root.takeError());
      continue;
    }
    const json::Object *o = root->getAsObject();
    const json::Value *v = o ? o->get("eos_token_id") : nullptr;
    if (!v || v->kind() == json::Value::Null)
      continue;
    json::Array single{*v};
    const json::Array *list = v->getAsArray() ? v->getAsArray() : &single;
    for (const json::Value &id : *list) {
      std::optional<int64_t> i = id.getAsInteger();
      if (!i || *i < 0)
        return fail(path, "eos_token_id: expected a non-negative id or a list of them");
      ids.push_back(*i);
    }
  }
  return llvm::Error::success();
}

llvm::Expected<bool> hf::importCheckpointTokenizer(llvm::StringRef dir, WeightStore &store,
                                                   const ChatTemplateChoice &choice) {
  llvm::SmallString<256> path(dir), configPath(dir);
  llvm::sys::path::append(path, "tokenizer.json");
  llvm::sys::path::append(configPath, "tokenizer_config.json");
  if (!llvm::sys::fs::exists(path))
    return false;
  std::string eos;
  ChatTemplate chat;
  std::optional<json::Value> config;
  if (auto buffer = llvm::MemoryBuffer::getFile(configPath)) {
    llvm::Expected<json::Value> parsed = json::parse((*buffer)->getBuffer());
    if (!parsed)
      return fail(configPath, "not JSON: " + llvm::toString(parsed.takeError()));
    config = std::move(*parsed);
  }
  const json::Object *c = config ? config->getAsObject() : nullptr;
  if (c) {
    chat.bos = tokenText(*c, "bos_token");
    chat.eos = tokenText(*c, "eos_token");
    eos = chat.eos.value_or("");
  }
  if (llvm::Error e = readChatTemplate(dir, c, configPath, chat))
    return std::move(e);
  std::vector<int64_t> endOfGeneration;
  if (llvm::Error e = readEndOfGeneration(dir, endOfGeneration))
    return std::move(e);
  if (llvm::Error e = importTokenizer(path, eos, store, endOfGeneration))
    return std::move(e);
  if (llvm::Error e = choice.apply(chat))
    return std::move(e);
  if (llvm::Error e = addChatTemplate(chat, store))
    return std::move(e);
  return true;
}
