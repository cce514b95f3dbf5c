//===- ChatTemplate.cpp - a checkpoint's Jinja chat template, checked and stored -------------===//
#include "frontends/common/ChatTemplate.h"
#include "frontends/common/TokenizerTables.h"

#include "tern/jinja.h"

#include "llvm/Support/MemoryBuffer.h"

using namespace tern;

const char *const tern::kChatTemplateTensor = "tokenizer.chat_template";
const char *const tern::kChatBosTensor = "tokenizer.chat_bos_token";
const char *const tern::kChatEosTensor = "tokenizer.chat_eos_token";

static llvm::Error addText(WeightStore &store, const char *name, llvm::StringRef text,
                           llvm::StringRef origin) {
  return addConvertedTensor(store, name, DType::U8, {int64_t(text.size())},
                            std::vector<uint8_t>(text.begin(), text.end()), origin);
}

llvm::Error ChatTemplateChoice::apply(ChatTemplate &t) const {
  if (value.empty())
    return llvm::Error::success();
  if (value == "none") {
    t.source.clear();
    return llvm::Error::success();
  }
  auto buffer = llvm::MemoryBuffer::getFile(value, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--chat-template=%s: cannot read: %s", value.c_str(),
                                   buffer.getError().message().c_str());
  t.source = (*buffer)->getBuffer().str();
  t.origin = value;
  return llvm::Error::success();
}

llvm::Error tern::addChatTemplate(const ChatTemplate &t, WeightStore &store) {
  if (t.source.empty())
    return llvm::Error::success();
  char error[512];
  tern_jinja *parsed = nullptr;
  if (tern_jinja_parse(t.source.data(), t.source.size(), nullptr, &parsed, error,
                       sizeof error) != 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "%s: %s (tern renders a subset of Jinja: docs/runtime.md, "
                                   "\"Chat templates\"; ternc --chat-template=FILE replaces the "
                                   "template, --chat-template=none leaves it out)",
                                   t.origin.c_str(), error);
  tern_jinja_free(parsed);
  if (llvm::Error e = addText(store, kChatTemplateTensor, t.source, t.origin))
    return e;
  // An empty token text has no tensor (a tensor has at least one element): the template sees
  // it undefined, which prints as the empty string too.
  for (auto [name, text] : {std::pair{kChatBosTensor, &t.bos}, std::pair{kChatEosTensor, &t.eos}})
    if (*text && !(*text)->empty())
      if (llvm::Error e = addText(store, name, **text, t.origin))
        return e;
  return llvm::Error::success();
}
