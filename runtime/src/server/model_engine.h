// model_engine.h - the scheduler's engine over the compiled model (tern/model.h).
#ifndef TERN_SERVER_MODEL_ENGINE_H
#define TERN_SERVER_MODEL_ENGINE_H

#include "engine.h"

#include "tern/model.h"

#include <vector>

namespace tern::server {

class ModelEngine : public Engine {
public:
  /// Slots of `context` positions (0: the compiled context).
  ModelEngine(tern_model *model, int64_t context);

  int64_t vocab() const override;
  int64_t context() const override { return context_; }
  int64_t batchTokens() const override;
  bool isEnd(int32_t token) const override;
  std::string piece(int32_t token) const override;
  std::unique_ptr<EngineSlot> createSlot(std::string &error) override;
  bool evaluate(const std::vector<SlotEval> &parts, std::string &error) override;

private:
  tern_model *model_;
  int64_t context_;
  std::vector<tern_batch_entry> entries_; // evaluate()'s, kept to reuse their memory
};

} // namespace tern::server

#endif
