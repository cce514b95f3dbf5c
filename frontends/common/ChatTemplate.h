//===- ChatTemplate.h - a checkpoint's Jinja chat template, checked and stored ------*- C++ -*-===//
//
// The chat template travels into the weights blob as its Jinja source, with the bos_token and
// eos_token texts it refers to; the runtime renders it with the same parser (tern/jinja.h) that
// checks it here, so a template that would fail at run time for want of a construct is refused
// when the model is compiled, with the template's line.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_COMMON_CHATTEMPLATE_H
#define TERN_FRONTENDS_COMMON_CHATTEMPLATE_H

#include "dialects/weights/WeightStore.h"

#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace tern {

/// The tensors addChatTemplate adds (U8 text each; the token ones only when the checkpoint
/// names the token).
extern const char *const kChatTemplateTensor, *const kChatBosTensor, *const kChatEosTensor;

struct ChatTemplate {
  std::string source;                      ///< the Jinja text
  std::optional<std::string> bos, eos;     ///< bos_token / eos_token, when defined
  std::string origin;                      ///< the file and field it came from, for messages
};

/// ternc --chat-template: the checkpoint's own template (empty), none ("none"), or a file's.
struct ChatTemplateChoice {
  std::string value;
  /// Replaces `t`'s source as the choice says; a file that cannot be read is an error.
  llvm::Error apply(ChatTemplate &t) const;
};

/// Parses `t.source` with the runtime's Jinja subset and adds the tensors. An unsupported
/// construct or a syntax error is refused with `origin`, the template's line and the construct.
llvm::Error addChatTemplate(const ChatTemplate &t, WeightStore &store);

} // namespace tern

#endif // TERN_FRONTENDS_COMMON_CHATTEMPLATE_H
