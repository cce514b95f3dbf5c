// The server's scheduler (runtime/src/server/scheduler.h) with a scripted engine: greedy
// generation follows "next = last + 1", each token's text is one letter, and evaluation can be
// held to keep a slot busy. Checks the bounded queue, turn-taking between slots, prompt-prefix
// reuse, the finish reasons and cancellation.
#include "server/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace tern::server;

namespace {

constexpr int32_t kVocab = 16, kEnd = 15;

struct Call {
  int slot;
  int64_t position, n;
};

class ScriptedEngine : public Engine {
public:
  explicit ScriptedEngine(int64_t context) : context_(context) {}
  int64_t vocab() const override { return kVocab; }
  int64_t context() const override { return context_; }
  bool isEnd(int32_t token) const override { return token == kEnd; }
  std::string piece(int32_t token) const override { return std::string(1, char('a' + token)); }
  std::unique_ptr<EngineSlot> createSlot(std::string &) override;

  // Evaluation waits while held.
  void hold(bool on) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_ = on;
    }
    changed_.notify_all();
  }
  // Waits until `n` calls have started.
  void awaitCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return started_ >= n; });
  }
  std::vector<Call> calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }

private:
  friend class ScriptedSlot;
  int64_t context_;
  int slots_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  size_t started_ = 0;
  std::vector<Call> calls_;
};

class ScriptedSlot : public EngineSlot {
public:
  ScriptedSlot(ScriptedEngine &e, int id) : engine_(e), id_(id), logits_(kVocab) {}
  bool eval(int64_t position, const int32_t *tokens, int64_t n, std::string &error) override {
    std::unique_lock<std::mutex> lock(engine_.mutex_);
    ++engine_.started_;
    engine_.changed_.notify_all();
    engine_.changed_.wait(lock, [&] { return !engine_.held_; });
    engine_.calls_.push_back({id_, position, n});
    if (position + n > engine_.context_)
      return error = "past the context", false;
    std::fill(logits_.begin(), logits_.end(), 0.0f);
    logits_[(tokens[n - 1] + 1) % kVocab] = 1.0f;
    return true;
  }
  const float *logits() const override { return logits_.data(); }

private:
  ScriptedEngine &engine_;
  int id_;
  std::vector<float> logits_;
};

std::unique_ptr<EngineSlot> ScriptedEngine::createSlot(std::string &) {
  return std::make_unique<ScriptedSlot>(*this, slots_++);
}

GenerationRequest greedy(std::vector<int32_t> prompt, int64_t maxTokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.maxTokens = maxTokens;
  r.sampling = tern_sampler_default_params(1);
  r.sampling.temperature = 0;
  return r;
}

// Everything a task sends until it ends: the text, and the last event.
Event collect(Task &task, std::string &text) {
  for (;;) {
    Event e = task.next();
    if (e.kind != Event::Kind::Text)
      return e;
    text += e.text;
  }
}

std::unique_ptr<Scheduler> make(ScriptedEngine &engine, int slots, size_t queue) {
  std::string error;
  auto s = Scheduler::create(engine, slots, queue, error);
  EXPECT_TRUE(s) << error;
  return s;
}

} // namespace

TEST(ServerScheduler, GeneratesUntilMaxTokens) {
  ScriptedEngine engine(64);
  auto s = make(engine, 1, 4);
  auto task = s->submit(greedy({1, 2}, 4));
  ASSERT_TRUE(task);
  std::string text;
  Event done = collect(*task, text);
  ASSERT_EQ(done.kind, Event::Kind::Done);
  EXPECT_EQ(text, "defg");
  EXPECT_EQ(done.finishReason, "length");
  EXPECT_EQ(done.promptTokens, 2);
  EXPECT_EQ(done.completionTokens, 4);
  // The prompt in one call, then one call per token but the last (it is never evaluated).
  std::vector<Call> calls = engine.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].position, 0);
  EXPECT_EQ(calls[0].n, 2);
  EXPECT_EQ(calls[3].position, 4);
}

TEST(ServerScheduler, StopsAtTheEndTokenUnlessIgnored) {
  ScriptedEngine engine(64);
  auto s = make(engine, 1, 4);
  std::string text;
  Event done = collect(*s->submit(greedy({12}, 10)), text);
  EXPECT_EQ(text, "no"); // 13, 14, then 15 ends it (not counted, not sent)
  EXPECT_EQ(done.finishReason, "stop");
  EXPECT_EQ(done.completionTokens, 2);

  GenerationRequest r = greedy({12}, 5);
  r.ignoreEnd = true;
  text.clear();
  done = collect(*s->submit(r), text);
  EXPECT_EQ(text, "nopab");
  EXPECT_EQ(done.finishReason, "length");
}

TEST(ServerScheduler, StopSequenceEndsTheReplyAndIsNotSent) {
  ScriptedEngine engine(64);
  auto s = make(engine, 1, 4);
  GenerationRequest r = greedy({0}, 10);
  r.stop = {"xyz", "def"};
  std::string text;
  Event done = collect(*s->submit(r), text);
  EXPECT_EQ(text, "bc");
  EXPECT_EQ(done.finishReason, "stop");
}

TEST(ServerScheduler, EndsWithLengthWhenTheContextIsFull) {
  ScriptedEngine engine(8);
  auto s = make(engine, 1, 4);
  std::string text;
  Event done = collect(*s->submit(greedy({0, 1, 2, 3, 4, 5}, -1)), text);
  // Positions 6 and 7 take two generated tokens; the third is sampled after position 7.
  EXPECT_EQ(text, "ghi");
  EXPECT_EQ(done.finishReason, "length");
  EXPECT_EQ(done.completionTokens, 3);
  for (const Call &c : engine.calls())
    EXPECT_LE(c.position + c.n, 8);
}

TEST(ServerScheduler, ReusesTheLongestSharedPrefix) {
  ScriptedEngine engine(64);
  auto s = make(engine, 1, 4);
  std::string text;
  collect(*s->submit(greedy({1, 2, 3, 4}, 2)), text); // holds 1 2 3 4 5 (6 not evaluated)
  Event done = collect(*s->submit(greedy({1, 2, 3, 4, 5, 9}, 1)), text);
  EXPECT_EQ(done.cachedTokens, 5);
  EXPECT_EQ(engine.calls().back().position, 5);
  EXPECT_EQ(engine.calls().back().n, 1);
  // The same prompt again: all but its last token (whose logits are needed) come from the cache.
  done = collect(*s->submit(greedy({1, 2, 3, 4, 5, 9}, 1)), text);
  EXPECT_EQ(done.cachedTokens, 5);
  // A different prompt starts over.
  done = collect(*s->submit(greedy({7, 7}, 1)), text);
  EXPECT_EQ(done.cachedTokens, 0);
  EXPECT_EQ(engine.calls().back().position, 0);
}

TEST(ServerScheduler, LongPromptsAreEvaluatedInChunks) {
  ScriptedEngine engine(512);
  auto s = make(engine, 1, 4);
  std::vector<int32_t> prompt(Scheduler::kPromptChunk * 2 + 5, 3);
  std::string text;
  collect(*s->submit(greedy(prompt, 1)), text);
  std::vector<Call> calls = engine.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].n, Scheduler::kPromptChunk);
  EXPECT_EQ(calls[1].position, Scheduler::kPromptChunk);
  EXPECT_EQ(calls[2].n, 5);
}

TEST(ServerScheduler, SlotsTakeTurns) {
  ScriptedEngine engine(64);
  auto s = make(engine, 2, 4);
  engine.hold(true);
  auto a = s->submit(greedy({1}, 8));
  auto b = s->submit(greedy({0}, 8));
  engine.awaitCalls(1);
  engine.hold(false);
  std::string ta, tb;
  EXPECT_EQ(collect(*a, ta).kind, Event::Kind::Done);
  EXPECT_EQ(collect(*b, tb).kind, Event::Kind::Done);
  EXPECT_EQ(ta, "cdefghij");
  EXPECT_EQ(tb, "bcdefghi");
  // While both are generating (from the second slot's first call to the first slot's last),
  // the calls alternate between the slots.
  std::vector<Call> calls = engine.calls();
  size_t begin = 0, end[2] = {0, 0};
  while (begin < calls.size() && calls[begin].slot == calls[0].slot)
    ++begin;
  for (size_t i = 0; i < calls.size(); ++i)
    end[calls[i].slot] = i;
  ASSERT_LT(begin, calls.size());
  for (size_t i = begin; i <= std::min(end[0], end[1]); ++i)
    EXPECT_NE(calls[i].slot, calls[i - 1].slot) << "call " << i;
  EXPECT_GE(std::min(end[0], end[1]) - begin, 5u); // most of the calls took turns
}

TEST(ServerScheduler, RefusesRequestsBeyondTheQueue) {
  ScriptedEngine engine(64);
  auto s = make(engine, 1, 1);
  engine.hold(true);
  auto a = s->submit(greedy({1}, 2));
  ASSERT_TRUE(a);
  engine.awaitCalls(1); // a is in the slot
  auto b = s->submit(greedy({2}, 2));
  ASSERT_TRUE(b); // waits
  Scheduler::Load load = s->load();
  EXPECT_EQ(load.busy, 1u);
  EXPECT_EQ(load.waiting, 1u);
  EXPECT_FALSE(s->submit(greedy({3}, 2))); // one slot busy, one waiting: full
  engine.hold(false);
  std::string text;
  EXPECT_EQ(collect(*a, text).kind, Event::Kind::Done);
  EXPECT_EQ(collect(*b, text).kind, Event::Kind::Done);
  EXPECT_TRUE(s->submit(greedy({3}, 2)));
}

TEST(ServerScheduler, ZeroQueueServesOnlyFreeSlots) {
  ScriptedEngine engine(64);
  auto s = make(engine, 1, 0);
  engine.hold(true);
  auto a = s->submit(greedy({1}, 2));
  ASSERT_TRUE(a);
  EXPECT_FALSE(s->submit(greedy({2}, 2)));
  engine.hold(false);
  std::string text;
  EXPECT_EQ(collect(*a, text).kind, Event::Kind::Done);
}

TEST(ServerScheduler, CancelledRequestFreesItsSlot) {
  ScriptedEngine engine(64);
  auto s = make(engine, 1, 0);
  engine.hold(true);
  auto a = s->submit(greedy({1}, 1000));
  engine.awaitCalls(1);
  a->cancel();
  engine.hold(false);
  // The slot frees at the next step; then a new request is served.
  std::shared_ptr<Task> b;
  for (int i = 0; i < 2000 && !b; ++i) {
    b = s->submit(greedy({2}, 2));
    if (!b)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(b);
  std::string text;
  EXPECT_EQ(collect(*b, text).kind, Event::Kind::Done);
  EXPECT_EQ(text, "de");
  EXPECT_LT(engine.calls().size(), 10u); // a did not run on
}

TEST(ServerScheduler, StopFailsEveryRequestInFlight) {
  ScriptedEngine engine(64);
  auto s = make(engine, 1, 2);
  engine.hold(true);
  auto a = s->submit(greedy({1}, 5));
  engine.awaitCalls(1);
  auto b = s->submit(greedy({2}, 5));
  ASSERT_TRUE(b);
  std::thread stopper([&] { s->stop(); });
  while (!s->stopping())
    std::this_thread::yield();
  engine.hold(false);
  stopper.join();
  std::string text;
  Event ea = collect(*a, text), eb = collect(*b, text);
  EXPECT_EQ(eb.kind, Event::Kind::Failed);
  EXPECT_EQ(eb.text, "the server is shutting down");
  // a may have finished its step before the stop; it ends either way.
  EXPECT_NE(ea.kind, Event::Kind::Text);
  EXPECT_FALSE(s->submit(greedy({3}, 1)));
}

TEST(ServerScheduler, EvaluationErrorsReachTheClient) {
  ScriptedEngine engine(4);
  auto s = make(engine, 1, 2);
  // A prompt longer than the engine takes (the HTTP layer refuses these; the engine's error
  // must still come through).
  std::string text;
  Event e = collect(*s->submit(greedy({1, 2, 3, 4, 5, 6}, 2)), text);
  EXPECT_EQ(e.kind, Event::Kind::Failed);
  EXPECT_EQ(e.text, "past the context");
  e = collect(*s->submit(greedy({}, 2)), text);
  EXPECT_EQ(e.kind, Event::Kind::Failed);
  EXPECT_EQ(e.text, "the prompt has no tokens");
}
