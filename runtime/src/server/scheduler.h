// scheduler.h - requests waiting for a session, and the generation loop that serves them.
//
// One thread generates for every busy slot at once (continuous batching): each step is one
// forward call carrying the next token of every generating slot and a chunk of every prompt
// still being read, as many as one call takes, so the weights are read once per step for all
// of them (every forward call runs on the runtime's thread pool). When a call cannot take every
// busy slot, the slots it starts from rotate, so all make progress. At most `queue` requests
// wait for a free slot; more are refused, not queued without bound. A free slot keeps what its KV cache holds: a request
// goes to the free slot whose held tokens share the longest prefix with its prompt, and only
// the rest of the prompt is evaluated (a conversation resent turn by turn costs one turn).
#ifndef TERN_SERVER_SCHEDULER_H
#define TERN_SERVER_SCHEDULER_H

#include "engine.h"

#include "tern/sampler.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tern::server {

struct GenerationRequest {
  std::vector<int32_t> prompt;   // at least one token, at most the context
  int64_t maxTokens = -1;        // -1: until the end token or the context is full; 0: none
  std::vector<std::string> stop; // stop sequences (not sent)
  tern_sampler_params sampling{};
  bool ignoreEnd = false;        // keep going after the end token
  // Log probabilities: -1 none; else every generated token's, with this many most likely
  // alternatives at its position. They are of the model's whole distribution (a log-softmax of
  // the logits, in double), before temperature, penalties or any filter of the sampler.
  int topLogprobs = -1;
  // The token that ends generation is listed too (its text is not sent): a scoring harness
  // reads one entry per generated position (/v1/completions; chat leaves it out).
  bool logprobOfEnd = false;
  // The prompt's tokens from echoFrom on are sent first (as text, and with topLogprobs >= 0
  // with their log probabilities: the prompt is then evaluated whole, not reused from a
  // slot's cache, since every position's logits are needed). echoFrom skips a BOS the server
  // added.
  bool echo = false;
  int64_t echoFrom = 0;
};

/// A token's log probability and the most likely tokens at its position.
struct TokenLogprob {
  struct Alternative {
    int32_t token;
    std::string piece;
    double logprob;
  };
  int32_t token = 0;
  std::string piece;             // its bytes
  std::optional<double> logprob; // none: an echoed prompt's first token (no context before)
  std::vector<Alternative> top;  // best first
};

struct Event {
  enum class Kind { Text, Done, Failed } kind = Kind::Text;
  // Text: the next part of the reply (with an echo, the prompt's text first) and the log
  // probabilities of the tokens whose text begins in it or was sent before; Failed: the
  // message.
  std::vector<TokenLogprob> logprobs;
  std::string text;
  std::string finishReason; // Done: "stop" (end token or stop sequence) or "length"
  int64_t promptTokens = 0, cachedTokens = 0, completionTokens = 0; // Done
  double promptSeconds = 0, generationSeconds = 0;                  // Done

  static Event textPart(std::string text) { return make(Kind::Text, std::move(text)); }
  static Event failure(std::string message) { return make(Kind::Failed, std::move(message)); }

private:
  static Event make(Kind kind, std::string text) {
    Event e;
    e.kind = kind;
    e.text = std::move(text);
    return e;
  }
};

/// A request being served: the scheduler pushes events, the HTTP thread takes them.
class Task {
public:
  /// Blocks until the next event.
  Event next();
  /// The client is gone: the scheduler frees its slot at the next step.
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }
  void push(Event event);

private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Event> events_;
  std::atomic<bool> cancelled_{false};
};

class Scheduler {
public:
  /// The most of one prompt's tokens a step evaluates, so that the other slots' next tokens,
  /// in the same forward call, are not held up long.
  static constexpr int64_t kPromptChunk = 64;

  /// Fails (returns null with a message) when a slot cannot be created.
  static std::unique_ptr<Scheduler> create(Engine &engine, int slots, size_t queue,
                                           std::string &error);
  ~Scheduler();

  /// The task serving `request`, or null when every slot is busy and `queue` requests wait
  /// (or the scheduler stopped).
  std::shared_ptr<Task> submit(GenerationRequest request);
  /// Stops generating: every request in flight or waiting ends with a Failed event.
  void stop();
  bool stopping();

  struct Load {
    size_t slots, busy, waiting, queue;
  };
  Load load();

  /// Totals since start, for GET /metrics (llama-server's counters).
  struct Metrics {
    Load load;
    int64_t promptTokens = 0;      // evaluated (not those reused from a slot's cache)
    double promptSeconds = 0;      // forward calls' time, shared by the tokens in each
    int64_t predictedTokens = 0;   // generated
    double predictedSeconds = 0;
    int64_t decodeCalls = 0;       // forward calls
    int64_t busySlotsInCalls = 0;  // summed over the calls (per call: the batch's sessions)
    int64_t cachedPositions = 0;   // positions held in the slots' KV caches now
    int64_t capacityPositions = 0; // slots x context
    int64_t requestsServed = 0;    // ended (done, failed or cancelled)
  };
  Metrics metrics();

private:
  struct Slot;
  Scheduler(Engine &engine, size_t queue);
  void run();
  void start(Slot &slot, std::shared_ptr<Task> task, GenerationRequest request);
  void step();
  void advance(Slot &slot, int64_t n);
  void beginEcho(Slot &slot);
  void sendEcho(Slot &slot, int64_t from, int64_t to, int64_t rowsFrom = 0);
  void sendText(Slot &slot, std::string text, bool last);
  TokenLogprob logprobOf(const float *logits, int32_t token, int top);
  void finish(Slot &slot, const std::string &reason);
  void fail(Slot &slot, const std::string &message);
  void publishCachedPositions();

  Engine &engine_;
  size_t queueLimit_;
  std::vector<std::unique_ptr<Slot>> slots_; // only the generation thread touches them
  std::mutex mutex_;                         // guards the fields below
  std::condition_variable wake_;
  std::deque<std::pair<std::shared_ptr<Task>, GenerationRequest>> waiting_;
  size_t busy_ = 0;
  bool stopping_ = false;
  Metrics totals_; // but load, which load() fills in
  size_t rotation_ = 0;  // the slot the next step starts from (generation thread)
  std::thread thread_;
};

} // namespace tern::server

#endif
