// model_engine.cpp - see model_engine.h.
#include "model_engine.h"

#include <vector>

namespace tern::server {

namespace {

class ModelSlot : public EngineSlot {
public:
  ModelSlot(tern_session *session, int64_t vocab)
      : session_(session), logits_(static_cast<size_t>(vocab)) {}
  ~ModelSlot() override { tern_session_destroy(session_); }

  bool eval(int64_t position, const int32_t *tokens, int64_t n, std::string &error) override {
    char message[512];
    if (tern_session_rewind(session_, position, message, sizeof message) != 0 ||
        tern_session_eval_last(session_, tokens, n, 0, logits_.data(), message,
                               sizeof message) != 0) {
      error = message;
      return false;
    }
    return true;
  }
  const float *logits() const override { return logits_.data(); }

private:
  tern_session *session_;
  std::vector<float> logits_;
};

} // namespace

ModelEngine::ModelEngine(tern_model *model, int64_t context)
    : model_(model), context_(context ? context : tern_model_describe(model)->context),
      eos_(static_cast<int32_t>(tern_model_describe(model)->eos_token)),
      eot_(tern_model_token_id(model, "<|eot_id|>")) {}

int64_t ModelEngine::vocab() const { return tern_model_describe(model_)->vocab; }

bool ModelEngine::isEnd(int32_t token) const {
  return token >= 0 && (token == eos_ || token == eot_);
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
