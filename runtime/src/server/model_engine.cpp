// model_engine.cpp - see model_engine.h.
#include "model_engine.h"

#include <vector>

namespace tern::server {

namespace {

class ModelSlot : public EngineSlot {
public:
  ModelSlot(tern_session *session, int64_t vocab)
      : session(session), buffer(static_cast<size_t>(vocab)) {}
  ~ModelSlot() override { tern_session_destroy(session); }
  const float *logits() const override { return buffer.data(); }

  tern_session *session;
  std::vector<float> buffer; // the last token's logits
};

} // namespace

ModelEngine::ModelEngine(tern_model *model, int64_t context)
    : model_(model), context_(context ? context : tern_model_describe(model)->context) {}

int64_t ModelEngine::vocab() const { return tern_model_describe(model_)->vocab; }

int64_t ModelEngine::batchTokens() const { return tern_model_describe(model_)->max_tokens; }

bool ModelEngine::evaluate(const std::vector<SlotEval> &parts, std::string &error) {
  char message[512];
  entries_.clear();
  for (const SlotEval &part : parts) {
    auto *slot = static_cast<ModelSlot *>(part.slot);
    if (tern_session_rewind(slot->session, part.position, message, sizeof message) != 0) {
      error = message;
      return false;
    }
    entries_.push_back({slot->session, part.tokens, part.n, slot->buffer.data(), part.rows});
  }
  if (tern_session_eval_batch(entries_.data(), entries_.size(), message, sizeof message) != 0) {
    error = message;
    return false;
  }
  return true;
}

bool ModelEngine::isEnd(int32_t token) const {
  return tern_model_ends_generation(model_, token) != 0;
}

std::string ModelEngine::piece(int32_t token) const {
  char buffer[256], error[64];
  int64_t n = tern_model_detokenize(model_, &token, 1, buffer, sizeof buffer, error,
                                    sizeof error);
  if (n <= static_cast<int64_t>(sizeof buffer))
    return std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0);
  std::string long_piece(static_cast<size_t>(n), '\0');
  tern_model_detokenize(model_, &token, 1, long_piece.data(), long_piece.size(), error,
                        sizeof error);
  return long_piece;
}

std::unique_ptr<EngineSlot> ModelEngine::createSlot(std::string &error) {
  tern_session_options options{};
  options.context = context_;
  tern_session *session;
  char message[512];
  if (tern_session_create(model_, &options, &session, message, sizeof message) != 0) {
    error = message;
    return nullptr;
  }
  return std::make_unique<ModelSlot>(session, vocab());
}

} // namespace tern::server
