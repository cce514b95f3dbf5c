//===- TokenizerGen.cpp - small BPE tokenizers in HF tokenizer.json form ----------------------===//
#include "tools/tern-gen-checkpoint/TokenizerGen.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

using namespace tern::gen;

const char *const tern::gen::kLlama3ChatTemplate =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | "
    "trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
    "{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

/// The Llama 3 pre-tokenizer split pattern.
static const char *const kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/// Special tokens in Llama 3's order (128000 ...).
static const char *const kSpecials[] = {
    "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>", "<|reserved_special_token_2|>",
    "<|reserved_special_token_3|>", "<|start_header_id|>", "<|end_header_id|>",
    "<|reserved_special_token_4|>", "<|eot_id|>"};

/// Training text: written for this generator; any English prose would do.
static const char *const kCorpus =
    "A ternary language model keeps every weight of its linear layers in three values: minus one, "
    "zero and plus one, with one scale for the whole matrix. The activations that enter such a "
    "layer are rounded to eight bits for each token, so the inner product needs no multiplication "
    "by a weight at all: it only adds, subtracts or skips. A compiler for these models reads the "
    "checkpoint, checks every tensor, and turns the graph of the model into code for the processor "
    "it will run on. The compiler knows the shapes of all the weights before the program starts, "
    "so it can choose the best kernel for each layer, pack the weights in the order that kernel "
    "reads them, and plan the memory of the activations once. On a laptop the speed of decoding "
    "one token is limited by how fast the weights stream from memory; the smaller the weights, the "
    "faster the model answers. Tests compare the numbers the compiled program prints with the "
    "numbers of a second, independent implementation of the same model, token by token and "
    "position by position. 1234 5678 90 2024 3.14 100% -- it's what we'd expect, isn't it? "
    "The quick brown fox jumps over the lazy dog; the lazy dog sleeps in the warm sun.\n"
    "Hello, world! Hello again, world. Where is the model? Here is the model, and here is the "
    "tokenizer that splits the text into pieces before the model sees them.\n";

namespace {

/// GPT-2's reversible map from bytes to printable unicode code points.
std::vector<std::string> byteAlphabet() {
  std::vector<std::string> table(256);
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    uint32_t cp = printable ? uint32_t(b) : uint32_t(next++);
    char buf[4];
    char *ptr = buf;
    llvm::ConvertCodePointToUTF8(cp, ptr);
    table[b] = std::string(buf, ptr);
  }
  return table;
}

/// A rough version of the Llama 3 split: letters with an optional leading space or symbol,
/// digit runs of up to three, punctuation runs with an optional leading space, whitespace.
std::vector<std::string> pretokenize(llvm::StringRef text) {
  std::vector<std::string> pieces;
  size_t i = 0;
  auto isLetter = [](unsigned char c) { return std::isalpha(c) || c >= 0x80; };
  while (i < text.size()) {
    size_t start = i;
    unsigned char c = text[i];
    if (std::isdigit(c)) {
      while (i < text.size() && i - start < 3 && std::isdigit((unsigned char)text[i]))
        ++i;
    } else if (isLetter(c) || ((c == ' ' || std::ispunct(c)) && i + 1 < text.size() &&
                               isLetter((unsigned char)text[i + 1]))) {
      ++i;
      while (i < text.size() && isLetter((unsigned char)text[i]))
        ++i;
    } else if (std::isspace(c)) {
      while (i < text.size() && std::isspace((unsigned char)text[i]))
        ++i;
    } else {
      if (c == ' ')
        ++i;
      while (i < text.size() && std::ispunct((unsigned char)text[i]))
        ++i;
      if (i == start)
        ++i;
    }
    pieces.push_back(text.substr(start, i - start).str());
  }
  return pieces;
}

/// Trains `merges` merges on words given as symbol ids, adding each merged token to `tokens`:
/// the most frequent adjacent pair first, ties to the smallest ids (deterministic).
std::vector<std::pair<int, int>>
trainMerges(std::vector<std::pair<std::vector<int>, int64_t>> &words,
            std::vector<std::string> &tokens, int merges) {
  std::vector<std::pair<int, int>> mergeList;
  for (int m = 0; m < merges; ++m) {
    std::map<std::pair<int, int>, int64_t> pairs;
    for (const auto &[ids, n] : words)
      for (size_t i = 0; i + 1 < ids.size(); ++i)
        pairs[{ids[i], ids[i + 1]}] += n;
    std::pair<int, int> best{-1, -1};
    int64_t bestCount = 0;
    for (const auto &[p, n] : pairs)
      if (n > bestCount)
        best = p, bestCount = n;
    if (bestCount < 1)
      break;
    int id = int(tokens.size());
    tokens.push_back(tokens[best.first] + tokens[best.second]);
    mergeList.push_back(best);
    for (auto &[ids, n] : words) {
      std::vector<int> merged;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i + 1 < ids.size() && ids[i] == best.first && ids[i + 1] == best.second) {
          merged.push_back(id);
          ++i;
        } else {
          merged.push_back(ids[i]);
        }
      }
      ids = std::move(merged);
    }
  }
  return mergeList;
}

/// model.vocab: every token by id.
llvm::json::Object vocabJson(const std::vector<std::string> &tokens) {
  llvm::json::Object vocab;
  for (size_t id = 0; id < tokens.size(); ++id)
    vocab[tokens[id]] = int64_t(id);
  return vocab;
}

/// model.merges as "left right" strings.
llvm::json::Array mergesJson(const std::vector<std::string> &tokens,
                             const std::vector<std::pair<int, int>> &mergeList) {
  llvm::json::Array merges;
  for (auto [a, b] : mergeList)
    merges.push_back(tokens[size_t(a)] + " " + tokens[size_t(b)]);
  return merges;
}

/// A special added token, in tokenizer.json's added_tokens and tokenizer_config.json's
/// added_tokens_decoder.
void addSpecial(int64_t id, llvm::StringRef content, llvm::json::Array &added,
                llvm::json::Object &addedDecoder) {
  llvm::json::Object t{{"id", id},        {"content", content},  {"single_word", false},
                       {"lstrip", false}, {"rstrip", false},     {"normalized", false},
                       {"special", true}};
  added.push_back(llvm::json::Object(t));
  t.erase("id");
  addedDecoder[std::to_string(id)] = std::move(t);
}

/// The post-processor that puts `bos` (id `bosId`) before a sequence (and each of a pair).
llvm::json::Object bosPostProcessor(const std::string &bos, int64_t bosId) {
  auto special = [&](int64_t typeId) {
    return llvm::json::Object{
        {"SpecialToken", llvm::json::Object{{"id", bos}, {"type_id", typeId}}}};
  };
  auto sequence = [](const char *id, int64_t typeId) {
    return llvm::json::Object{{"Sequence", llvm::json::Object{{"id", id}, {"type_id", typeId}}}};
  };
  return llvm::json::Object{
      {"type", "TemplateProcessing"},
      {"single", llvm::json::Array{special(0), sequence("A", 0)}},
      {"pair", llvm::json::Array{special(0), sequence("A", 0), special(1), sequence("B", 1)}},
      {"special_tokens",
       llvm::json::Object{{bos, llvm::json::Object{{"id", bos},
                                                   {"ids", llvm::json::Array{bosId}},
                                                   {"tokens", llvm::json::Array{bos}}}}}}};
}

std::string toJson(llvm::json::Object object) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::formatv("{0:2}", llvm::json::Value(std::move(object)));
  return text;
}

} // namespace

Tokenizer tern::gen::generateTokenizer(int merges, bool llama3SpecialIds, int64_t maxPositions) {
  std::vector<std::string> alphabet = byteAlphabet();
  std::vector<std::string> tokens = alphabet; // id -> token string
  std::map<std::string, int64_t> wordCounts;
  for (const std::string &piece : pretokenize(kCorpus))
    ++wordCounts[piece];
  std::vector<std::pair<std::vector<int>, int64_t>> words;
  for (const auto &[w, n] : wordCounts) {
    std::vector<int> ids;
    for (unsigned char c : w)
      ids.push_back(c);
    words.push_back({ids, n});
  }

  std::vector<std::pair<int, int>> mergeList = trainMerges(words, tokens, merges);

  int64_t specialBase = llama3SpecialIds ? 128000 : int64_t(tokens.size());
  Tokenizer result;
  result.bos = specialBase;
  result.eos = specialBase + 1;
  result.size = specialBase + int64_t(std::size(kSpecials));

  llvm::json::Array added;
  llvm::json::Object addedDecoder;
  for (size_t i = 0; i < std::size(kSpecials); ++i)
    addSpecial(specialBase + int64_t(i), kSpecials[i], added, addedDecoder);
  llvm::json::Object tokenizer{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", std::move(added)},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       llvm::json::Object{
           {"type", "Sequence"},
           {"pretokenizers",
            llvm::json::Array{
                llvm::json::Object{{"type", "Split"},
                                   {"pattern", llvm::json::Object{{"Regex", kLlama3Pattern}}},
                                   {"behavior", "Isolated"},
                                   {"invert", false}},
                llvm::json::Object{{"type", "ByteLevel"},
                                   {"add_prefix_space", false},
                                   {"trim_offsets", true},
                                   {"use_regex", false}}}}}},
      {"post_processor", bosPostProcessor(kSpecials[0], result.bos)},
      {"decoder", llvm::json::Object{{"type", "ByteLevel"},
                                     {"add_prefix_space", true},
                                     {"trim_offsets", true},
                                     {"use_regex", true}}},
      {"model", llvm::json::Object{{"type", "BPE"},
                                   {"dropout", nullptr},
                                   {"unk_token", nullptr},
                                   {"continuing_subword_prefix", nullptr},
                                   {"end_of_word_suffix", nullptr},
                                   {"fuse_unk", false},
                                   {"byte_fallback", false},
                                   {"ignore_merges", true},
                                   {"vocab", vocabJson(tokens)},
                                   {"merges", mergesJson(tokens, mergeList)}}}};
  llvm::json::Object config{{"added_tokens_decoder", std::move(addedDecoder)},
                            {"bos_token", kSpecials[0]},
                            {"eos_token", kSpecials[1]},
                            {"chat_template", kLlama3ChatTemplate},
                            {"clean_up_tokenization_spaces", true},
                            {"model_input_names", llvm::json::Array{"input_ids", "attention_mask"}},
                            {"model_max_length", maxPositions},
                            {"tokenizer_class", "PreTrainedTokenizerFast"}};
  result.tokenizerJson = toJson(std::move(tokenizer));
  result.tokenizerConfigJson = toJson(std::move(config));
  return result;
}

Tokenizer tern::gen::generateMetaspaceTokenizer(int merges, int64_t maxPositions) {
  const std::string metaspace = "\u2581";
  // <unk> <s> </s>, <0x00>..<0xFF>, then every character of the corpus (spaces as U+2581) but
  // newlines, which stay out of the vocabulary so that encoding them falls back to <0x0A>.
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b)
    tokens.push_back(llvm::formatv("<0x{0:X-2}>", b).str());
  std::map<std::string, int> charIds;
  std::string text = kCorpus;
  auto symbolOf = [&](const std::string &c) {
    auto [it, inserted] = charIds.try_emplace(c, int(tokens.size()));
    if (inserted)
      tokens.push_back(c);
    return it->second;
  };
  // Words as SentencePiece sees them: U+2581 starts each (MergedWithNext), no merge crosses one.
  std::map<std::vector<int>, int64_t> wordCounts;
  std::vector<int> word;
  for (size_t i = 0; i <= text.size();) {
    if (i == text.size() || text[i] == ' ' || text[i] == '\n') {
      if (!word.empty())
        ++wordCounts[word];
      word.clear();
      if (i < text.size() && text[i] == ' ')
        word.push_back(symbolOf(metaspace));
      ++i;
      continue;
    }
    unsigned char c = text[i];
    size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (word.empty())
      word.push_back(symbolOf(metaspace));
    word.push_back(symbolOf(text.substr(i, len)));
    i += len;
  }
  std::vector<std::pair<std::vector<int>, int64_t>> words(wordCounts.begin(), wordCounts.end());
  std::vector<std::pair<int, int>> mergeList = trainMerges(words, tokens, merges);

  Tokenizer result;
  result.bos = 1;
  result.eos = 2;
  result.size = int64_t(tokens.size());
  llvm::json::Array added;
  llvm::json::Object addedDecoder;
  for (int64_t id = 0; id < 3; ++id)
    addSpecial(id, tokens[size_t(id)], added, addedDecoder);
  llvm::json::Object tokenizer{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", std::move(added)},
      {"normalizer",
       llvm::json::Object{
           {"type", "Sequence"},
           {"normalizers",
            llvm::json::Array{
                llvm::json::Object{{"type", "Prepend"}, {"prepend", metaspace}},
                llvm::json::Object{{"type", "Replace"},
                                   {"pattern", llvm::json::Object{{"String", " "}}},
                                   {"content", metaspace}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor", bosPostProcessor("<s>", 1)},
      {"decoder",
       llvm::json::Object{
           {"type", "Sequence"},
           {"decoders",
            llvm::json::Array{
                llvm::json::Object{{"type", "Replace"},
                                   {"pattern", llvm::json::Object{{"String", metaspace}}},
                                   {"content", " "}},
                llvm::json::Object{{"type", "ByteFallback"}},
                llvm::json::Object{{"type", "Fuse"}},
                llvm::json::Object{
                    {"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
      {"model", llvm::json::Object{{"type", "BPE"},
                                   {"dropout", nullptr},
                                   {"unk_token", "<unk>"},
                                   {"continuing_subword_prefix", nullptr},
                                   {"end_of_word_suffix", nullptr},
                                   {"fuse_unk", true},
                                   {"byte_fallback", true},
                                   {"vocab", vocabJson(tokens)},
                                   {"merges", mergesJson(tokens, mergeList)}}}};
  llvm::json::Object config{{"added_tokens_decoder", std::move(addedDecoder)},
                            {"bos_token", "<s>"},
                            {"eos_token", "</s>"},
                            {"unk_token", "<unk>"},
                            {"add_bos_token", true},
                            {"add_eos_token", false},
                            {"legacy", true},
                            {"clean_up_tokenization_spaces", false},
                            {"model_max_length", maxPositions},
                            {"tokenizer_class", "LlamaTokenizer"}};
  result.tokenizerJson = toJson(std::move(tokenizer));
  result.tokenizerConfigJson = toJson(std::move(config));
  return result;
}

llvm::Expected<Tokenizer> tern::gen::readTokenizer(llvm::StringRef path) {
  auto text = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!text)
    return llvm::createStringError(text.getError(), "%s: cannot open: %s", path.str().c_str(),
                                   text.getError().message().c_str());
  llvm::Expected<llvm::json::Value> json = llvm::json::parse((*text)->getBuffer());
  if (!json)
    return llvm::createStringError("%s: not valid JSON: %s", path.str().c_str(),
                                   llvm::toString(json.takeError()).c_str());
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *model = root ? root->getObject("model") : nullptr;
  const llvm::json::Object *vocab = model ? model->getObject("vocab") : nullptr;
  if (!vocab)
    return llvm::createStringError("%s: expected a tokenizer.json with model.vocab",
                                   path.str().c_str());
  Tokenizer t;
  t.tokenizerJson = (*text)->getBuffer().str();
  std::optional<int64_t> bos, eos;
  auto note = [&](llvm::StringRef content, int64_t id) {
    t.size = std::max(t.size, id + 1);
    if (content == "<|begin_of_text|>" || content == "<s>")
      bos = id;
    if (content == "<|end_of_text|>" || content == "</s>")
      eos = id;
  };
  for (const auto &[token, id] : *vocab)
    if (std::optional<int64_t> i = id.getAsInteger())
      note(token, *i);
  if (const llvm::json::Array *added = root->getArray("added_tokens"))
    for (const llvm::json::Value &a : *added)
      if (const llvm::json::Object *o = a.getAsObject())
        if (auto id = o->getInteger("id"); id && o->getString("content"))
          note(*o->getString("content"), *id);
  t.bos = bos.value_or(0);
  t.eos = eos.value_or(0);
  return t;
}
