// engine.h - what the scheduler generates with: the model's vocabulary and sessions, behind an
// interface so the scheduler can be tested with a scripted engine (test/unit).
#ifndef TERN_SERVER_ENGINE_H
#define TERN_SERVER_ENGINE_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tern::server {

/// One session: a KV cache the scheduler fills and rewinds.
class EngineSlot {
public:
  virtual ~EngineSlot() = default;
  /// The logits after the last token the slot evaluated.
  virtual const float *logits() const = 0;
};

/// One slot's part of an evaluation: forget every position from `position` on, then evaluate
/// `n` tokens there; with `rows`, also write the logits after each of them ([n][vocab]: a
/// prompt whose log probabilities are asked for).
struct SlotEval {
  EngineSlot *slot;
  int64_t position;
  const int32_t *tokens;
  int64_t n;
  float *rows = nullptr;
};

class Engine {
public:
  virtual ~Engine() = default;
  virtual int64_t vocab() const = 0;
  /// Positions a slot holds.
  virtual int64_t context() const = 0;
  /// The most tokens one evaluate() takes, over all its parts.
  virtual int64_t batchTokens() const = 0;
  /// Whether the token ends a reply (tern_model_ends_generation).
  virtual bool isEnd(int32_t token) const = 0;
  /// The token's bytes.
  virtual std::string piece(int32_t token) const = 0;
  /// A new session; null with a message when it cannot be made.
  virtual std::unique_ptr<EngineSlot> createSlot(std::string &error) = 0;
  /// Evaluates every part (distinct slots) in one forward call, so the weights are read once
  /// for all of them; then each slot's logits() are its last token's. False with a message
  /// when the call failed: then what the parts' slots hold is unknown.
  virtual bool evaluate(const std::vector<SlotEval> &parts, std::string &error) = 0;
};

} // namespace tern::server

#endif
