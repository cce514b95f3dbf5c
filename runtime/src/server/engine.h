// engine.h - what the scheduler generates with: the model's vocabulary and sessions, behind an
// interface so the scheduler can be tested with a scripted engine (test/unit).
#ifndef TERN_SERVER_ENGINE_H
#define TERN_SERVER_ENGINE_H

#include <cstdint>
#include <memory>
#include <string>

namespace tern::server {

/// One session: a KV cache the scheduler fills and rewinds.
class EngineSlot {
public:
  virtual ~EngineSlot() = default;
  /// Forgets every position from `position` on, evaluates `n` tokens there and keeps the last
  /// token's logits (logits()). False with a message on failure.
  virtual bool eval(int64_t position, const int32_t *tokens, int64_t n, std::string &error) = 0;
  virtual const float *logits() const = 0;
};

class Engine {
public:
  virtual ~Engine() = default;
  virtual int64_t vocab() const = 0;
  /// Positions a slot holds.
  virtual int64_t context() const = 0;
  /// Whether the token ends a reply (end of text, <|eot_id|>).
  virtual bool isEnd(int32_t token) const = 0;
  /// The token's bytes.
  virtual std::string piece(int32_t token) const = 0;
  /// A new session; null with a message when it cannot be made.
  virtual std::unique_ptr<EngineSlot> createSlot(std::string &error) = 0;
};

} // namespace tern::server

#endif
