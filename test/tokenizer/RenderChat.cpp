//===- RenderChat.cpp - tern's chat template on conversations, for chat_template_test.py ------===//
//
//   tern-render-chat CHECKPOINT_DIR|MODEL.gguf CONVERSATIONS_JSON OUT_JSON
//
// The path a compiled program takes: the compiler's importer checks the checkpoint's chat
// template and stores it with the tokenizer in the weights blob, the blob is written and parsed
// as the runtime parses it, and the runtime renders every conversation (tern/jinja.h) and
// tokenizes the text (special tokens recognized, no BOS added: the template writes its own).
// CONVERSATIONS_JSON is [{"messages": [{"role", "content"}...], "add_generation_prompt": b}];
// writes [{"text": "...", "ids": [...]}] or [{"error": "..."}] per conversation, like the
// reference (reference_chat.mjs).
//
//===------------------------------------------------------------------------------------------===//
#include "TokenizerBlob.h"

#include "frontends/gguf/GgufTokenizer.h"
#include "frontends/hf/Tokenizer.h"

#include "chat_template.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <vector>

static int fail(const llvm::Twine &message) {
  llvm::errs() << "tern-render-chat: error: " << message << "\n";
  return 1;
}

/// One conversation rendered and tokenized, or the error the template gave.
static llvm::json::Value render(const tern_chat *chat, tern_tokenizer *tokenizer,
                                const llvm::json::Object &c) {
  std::vector<tern_chat_message> messages;
  std::vector<std::string> texts;
  const llvm::json::Array *list = c.getArray("messages");
  for (const llvm::json::Value &m : list ? *list : llvm::json::Array{}) {
    const llvm::json::Object *o = m.getAsObject();
    texts.push_back(o ? o->getString("role").value_or("").str() : "");
    texts.push_back(o ? o->getString("content").value_or("").str() : "");
  }
  for (size_t i = 0; i < texts.size(); i += 2)
    messages.push_back({texts[i].c_str(), texts[i + 1].c_str()});
  tern_jinja_context context;
  std::memset(&context, 0, sizeof context);
  context.messages = messages.data();
  context.n_messages = messages.size();
  context.add_generation_prompt = c.getBoolean("add_generation_prompt").value_or(false);
  char error[512];
  // Sized by asking first, as a program that does not know the length does.
  int64_t n = tern_chat_render(chat, context, nullptr, 0, error, sizeof error);
  if (n < 0)
    return llvm::json::Object{{"error", std::string(error)}};
  std::string text(static_cast<size_t>(n) + 1, '\0');
  if (tern_chat_render(chat, context, text.data(), text.size(), error, sizeof error) != n)
    return llvm::json::Object{{"error", "the second render gave another length"}};
  text.resize(static_cast<size_t>(n));
  int64_t count = tern_tokenizer_encode(tokenizer, text.data(), text.size(), 0, 1, nullptr, 0,
                                        error, sizeof error);
  if (count < 0)
    return llvm::json::Object{{"error", std::string(error)}};
  std::vector<int32_t> ids(static_cast<size_t>(count));
  tern_tokenizer_encode(tokenizer, text.data(), text.size(), 0, 1, ids.data(), count, error,
                        sizeof error);
  llvm::json::Array idList;
  for (int32_t id : ids)
    idList.push_back(id);
  return llvm::json::Object{{"text", text}, {"ids", std::move(idList)}};
}

int main(int argc, char **argv) {
  if (argc != 4)
    return fail("usage: tern-render-chat CHECKPOINT_DIR|MODEL.gguf CONVERSATIONS_JSON OUT_JSON");
  tern::WeightStore store;
  if (llvm::StringRef(argv[1]).ends_with(".gguf")) {
    auto file = tern::gguf::GgufFile::open(argv[1]);
    if (!file)
      return fail(llvm::toString(file.takeError()));
    auto imported = tern::gguf::importTokenizer(**file, store);
    if (!imported)
      return fail(llvm::toString(imported.takeError()));
  } else {
    auto imported = tern::hf::importCheckpointTokenizer(argv[1], store);
    if (!imported)
      return fail(llvm::toString(imported.takeError()));
    if (!*imported)
      return fail(llvm::Twine(argv[1]) + ": no tokenizer.json");
  }
  tern::TokenizerBlob opened;
  if (llvm::Error e = tern::openTokenizerBlob(
          store, {tern::kChatTemplateTensor, tern::kChatBosTensor, tern::kChatEosTensor}, opened))
    return fail(llvm::toString(std::move(e)));
  tern_tokenizer *tokenizer = opened.tokenizer;
  char error[512];
  tern_chat *chat;
  if (tern_chat_open(&opened.blob, nullptr, &chat, error, sizeof error))
    return fail(error);
  if (!chat)
    return fail(llvm::Twine(argv[1]) + ": the checkpoint has no chat template");

  auto file = llvm::MemoryBuffer::getFile(argv[2]);
  if (!file)
    return fail(llvm::Twine(argv[2]) + ": " + file.getError().message());
  auto conversations = llvm::json::parse((*file)->getBuffer());
  if (!conversations || !conversations->getAsArray())
    return fail(llvm::Twine(argv[2]) + ": expected a JSON array of conversations");
  llvm::json::Array out;
  for (const llvm::json::Value &c : *conversations->getAsArray())
    out.push_back(c.getAsObject() ? render(chat, tokenizer, *c.getAsObject())
                                  : llvm::json::Object{{"error", "not an object"}});
  tern_chat_free(chat);
  std::error_code ec;
  llvm::raw_fd_ostream os(argv[3], ec);
  if (ec)
    return fail(llvm::Twine(argv[3]) + ": " + ec.message());
  os << llvm::json::Value(std::move(out));
  return 0;
}
