// The server's scheduler (runtime/src/server/scheduler.h) with a scripted engine: greedy
// generation follows "next = last + 1", each token's text is one letter, and evaluation can be
// held to keep a slot busy. Checks the bounded queue, continuous batching (busy slots share each
// call, a prompt chunk joins the others' tokens, slots take turns when a call cannot take them
// all), prompt-prefix reuse, the finish reasons and cancellation.
#include "server/scheduler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace tern::server;

namespace {

constexpr int32_t kVocab = 16, kEnd = 15;

// One slot's part of an evaluate() call (`call` numbers the calls).
struct Call {
  int slot;
  int64_t position, n;
  size_t call;
};

class ScriptedEngine : public Engine {
public:
  explicit ScriptedEngine(int64_t context, int64_t batchTokens = 512)
      : context_(context), batchTokens_(batchTokens) {}
  int64_t vocab() const override { return kVocab; }
  int64_t context() const override { return context_; }
  int64_t batchTokens() const override { return batchTokens_; }
  bool evaluate(const std::vector<SlotEval> &parts, std::string &error) override;
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
  int64_t context_, batchTokens_;
  int slots_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  size_t started_ = 0, evaluated_ = 0;
  std::vector<Call> calls_; // every part of every call
};

class ScriptedSlot : public EngineSlot {
public:
  explicit ScriptedSlot(int id) : id(id), buffer(kVocab) {}
  const float *logits() const override { return buffer.data(); }

  int id;
  std::vector<float> buffer;
};

std::unique_ptr<EngineSlot> ScriptedEngine::createSlot(std::string &) {
  return std::make_unique<ScriptedSlot>(slots_++);
}

bool ScriptedEngine::evaluate(const std::vector<SlotEval> &parts, std::string &error) {
  std::unique_lock<std::mutex> lock(mutex_);
  ++started_;
  changed_.notify_all();
  changed_.wait(lock, [&] { return !held_; });
  int64_t tokens = 0;
  size_t call = evaluated_++;
  for (const SlotEval &part : parts) {
    auto *slot = static_cast<ScriptedSlot *>(part.slot);
    calls_.push_back({slot->id, part.position, part.n, call});
    tokens += part.n;
    if (part.position + part.n > context_)
      return error = "past the context", false;
    std::fill(slot->buffer.begin(), slot->buffer.end(), 0.0f);
    slot->buffer[(part.tokens[part.n - 1] + 1) % kVocab] = 1.0f;
    // Every row, when asked: the same one-hot "next = token + 1" after each token.
    for (int64_t i = 0; part.rows && i < part.n; ++i) {
      std::fill(part.rows + i * kVocab, part.rows + (i + 1) * kVocab, 0.0f);
      part.rows[i * kVocab + (part.tokens[i] + 1) % kVocab] = 1.0f;
    }
  }
  if (tokens > batchTokens_)
    return error = "over the batch", false;
  return true;
}

GenerationRequest greedy(std::vector<int32_t> prompt, int64_t maxTokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.maxTokens = maxTokens;
  r.sampling = tern_sampler_default_params(1);
  r.sampling.temperature = 0;
  return r;
}

// Everything a task sends until it ends: the text (and log probabilities), and the last event.
Event collect(Task &task, std::string &text, std::vector<TokenLogprob> *logprobs = nullptr) {
  for (;;) {
    Event e = task.next();
    if (e.kind != Event::Kind::Text)
      return e;
    text += e.text;
    if (logprobs)
      for (TokenLogprob &t : e.logprobs)
        logprobs->push_back(std::move(t));
  }
}

// The scripted engine's log probabilities: the predicted token (logit 1) and any other (0).
const double kNorm = std::log(std::exp(1.0) + (kVocab - 1));
const double kLikely = 1.0 - kNorm, kUnlikely = -kNorm;

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

// The parts of each call, in order.
std::vector<std::vector<Call>> byCall(const std::vector<Call> &parts) {
  std::vector<std::vector<Call>> calls;
  for (const Call &c : parts) {
    if (calls.size() <= c.call)
      calls.resize(c.call + 1);
    calls[c.call].push_back(c);
  }
  return calls;
}

// Two greedy requests of 8 tokens submitted while the engine is held, on two slots; both must
// end with their texts.
void generateOnTwoSlots(ScriptedEngine &engine) {
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
}

TEST(ServerScheduler, BusySlotsShareEachCall) {
  ScriptedEngine engine(64);
  generateOnTwoSlots(engine);
  // Once both are in, every call carries both slots' next tokens, one each, at consecutive
  // positions.
  std::vector<std::vector<Call>> calls = byCall(engine.calls());
  size_t shared = 0;
  for (const auto &call : calls)
    if (call.size() == 2) {
      ++shared;
      EXPECT_NE(call[0].slot, call[1].slot);
    }
  EXPECT_GE(shared, 6u);                 // b may have arrived after a's first call
  EXPECT_LE(calls.size(), shared + 3u);  // a's lone calls before b, and the ends
  int64_t last[2] = {-1, -1};
  for (const Call &c : engine.calls()) {
    if (last[c.slot] >= 0) {
      EXPECT_EQ(c.position, last[c.slot]);
    }
    last[c.slot] = c.position + c.n;
  }
}

TEST(ServerScheduler, PromptChunksJoinTheOthersTokens) {
  ScriptedEngine engine(512);
  auto s = make(engine, 2, 4);
  engine.hold(true);
  auto a = s->submit(greedy({1}, 6));
  engine.awaitCalls(1); // a alone in the first call
  std::vector<int32_t> prompt(Scheduler::kPromptChunk + 3, 2);
  auto b = s->submit(greedy(prompt, 1));
  engine.hold(false);
  std::string text;
  EXPECT_EQ(collect(*a, text).kind, Event::Kind::Done);
  EXPECT_EQ(collect(*b, text).kind, Event::Kind::Done);
  // b's prompt is read in two chunks, each in a call with a's next token.
  std::vector<int64_t> chunks;
  for (const auto &call : byCall(engine.calls()))
    for (const Call &c : call)
      if (c.slot == 1) {
        chunks.push_back(c.n);
        EXPECT_EQ(call.size(), 2u) << "call " << c.call;
      }
  EXPECT_EQ(chunks, (std::vector<int64_t>{Scheduler::kPromptChunk, 3}));
}

TEST(ServerScheduler, SlotsTakeTurnsWhenACallCannotTakeThemAll) {
  // One token per call: the two generating slots alternate.
  ScriptedEngine engine(64, 1);
  generateOnTwoSlots(engine);
  std::vector<Call> calls = engine.calls();
  for (size_t i = 1; i < calls.size(); ++i)
    EXPECT_NE(calls[i].call, calls[i - 1].call); // one part each
  // From the second slot's first call to the first slot's last, the calls alternate.
  int64_t begin = 0, end[2] = {0, 0};
  while (begin < int64_t(calls.size()) && calls[size_t(begin)].slot == calls[0].slot)
    ++begin;
  for (size_t i = 0; i < calls.size(); ++i)
    end[calls[i].slot] = int64_t(i);
  int64_t last = std::min(end[0], end[1]);
  ASSERT_GE(last - begin, 5) << "the slots did not overlap";
  for (int64_t i = begin; i <= last; ++i)
    EXPECT_NE(calls[size_t(i)].slot, calls[size_t(i - 1)].slot) << "call " << i;
}

TEST(ServerScheduler, APromptIsReadWhileOthersGenerate) {
  // Two tokens per call and two generating slots: the third slot's prompt still gets its turns
  // (each 2 tokens), long before the others finish.
  ScriptedEngine engine(512, 2);
  auto s = make(engine, 3, 4);
  engine.hold(true);
  auto a = s->submit(greedy({1}, 40));
  auto b = s->submit(greedy({2}, 40));
  engine.awaitCalls(1);
  auto c = s->submit(greedy(std::vector<int32_t>(9, 3), 1));
  engine.hold(false);
  std::string text;
  EXPECT_EQ(collect(*c, text).kind, Event::Kind::Done);
  EXPECT_EQ(text, "e");
  std::vector<Call> calls = engine.calls();
  size_t cEnd = 0, generated = 0;
  for (size_t i = 0; i < calls.size(); ++i)
    if (calls[i].slot == 2)
      cEnd = i;
  for (size_t i = 0; i <= cEnd; ++i)
    generated += calls[i].slot != 2;
  EXPECT_LT(generated, 40u) << "the prompt waited for the generating slots";
  EXPECT_EQ(collect(*a, text).kind, Event::Kind::Done);
  EXPECT_EQ(collect(*b, text).kind, Event::Kind::Done);
}

TEST(ServerScheduler, AFailedCallFailsOnlyTheSlotThatFails) {
  ScriptedEngine engine(8);
  auto s = make(engine, 2, 4);
  engine.hold(true);
  auto a = s->submit(greedy({1}, 3));
  engine.awaitCalls(1);
  // b's prompt fits no slot (the HTTP layer refuses these; the engine's error must come
  // through), and a's next token shares its call: the call fails, each part is retried alone,
  // and only b fails.
  auto b = s->submit(greedy({1, 2, 3, 4, 5, 6, 7, 8, 9}, 2));
  engine.hold(false);
  std::string text;
  Event eb = collect(*b, text);
  EXPECT_EQ(eb.kind, Event::Kind::Failed);
  EXPECT_EQ(eb.text, "past the context");
  std::string ta;
  Event ea = collect(*a, ta);
  EXPECT_EQ(ea.kind, Event::Kind::Done);
  EXPECT_EQ(ta, "cde");
  // Both slots serve again.
  EXPECT_EQ(collect(*s->submit(greedy({3}, 2)), text).kind, Event::Kind::Done);
  EXPECT_EQ(collect(*s->submit(greedy({4}, 2)), text).kind, Event::Kind::Done);
}

TEST(ServerScheduler, MetricsCountTokensAndCalls) {
  ScriptedEngine engine(64);
  auto s = make(engine, 2, 4);
  std::string text;
  collect(*s->submit(greedy({1, 2, 3}, 4)), text);
  Scheduler::Metrics m = s->metrics();
  EXPECT_EQ(m.promptTokens, 3);
  EXPECT_EQ(m.predictedTokens, 3); // the 4th token is sampled, never evaluated
  EXPECT_EQ(m.decodeCalls, 4);
  EXPECT_EQ(m.busySlotsInCalls, 4);
  EXPECT_EQ(m.requestsServed, 1);
  EXPECT_EQ(m.cachedPositions, 6);
  EXPECT_EQ(m.capacityPositions, 128);
  EXPECT_EQ(m.load.busy, 0u);
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

TEST(ServerScheduler, EchoScoresEveryPromptTokenAndTheGenerated) {
  ScriptedEngine engine(256);
  std::string error;
  auto s = Scheduler::create(engine, 1, 4, error);
  ASSERT_TRUE(s) << error;
  // A first request leaves [3, 4, 9] in the slot: a scored prompt is evaluated whole anyway.
  std::string text;
  collect(*s->submit(greedy({3, 4, 9}, 1)), text);
  GenerationRequest r = greedy({3, 4, 9}, 2);
  r.echo = true;
  r.topLogprobs = 1;
  std::vector<TokenLogprob> l;
  text.clear();
  Event done = collect(*s->submit(r), text, &l);
  EXPECT_EQ(text, "dejkl"); // the prompt, then 10 and 11
  EXPECT_EQ(done.cachedTokens, 0);
  EXPECT_EQ(done.completionTokens, 2);
  ASSERT_EQ(l.size(), 5u);
  EXPECT_FALSE(l[0].logprob); // nothing before the first token
  EXPECT_TRUE(l[0].top.empty());
  EXPECT_DOUBLE_EQ(*l[1].logprob, kLikely);   // 4 after 3
  EXPECT_DOUBLE_EQ(*l[2].logprob, kUnlikely); // 9 after 4 (5 was likely)
  ASSERT_EQ(l[2].top.size(), 1u);
  EXPECT_EQ(l[2].top[0].token, 5);
  EXPECT_EQ(l[2].top[0].piece, "f");
  EXPECT_DOUBLE_EQ(l[2].top[0].logprob, kLikely);
  EXPECT_EQ(l[3].token, 10);
  EXPECT_DOUBLE_EQ(*l[3].logprob, kLikely);
  EXPECT_EQ(l[4].token, 11);
  EXPECT_EQ(l[4].piece, "l");
  auto calls = engine.calls();
  EXPECT_EQ(calls[calls.size() - 2].position, 0); // the prompt again from position 0
}

TEST(ServerScheduler, ScoredPromptsSpanChunksAndSkipTheServersBos) {
  ScriptedEngine engine(512);
  std::string error;
  auto s = Scheduler::create(engine, 1, 4, error);
  ASSERT_TRUE(s) << error;
  std::vector<int32_t> prompt;
  for (int i = 0; i < 150; ++i) // longer than two chunks; every 7th token unexpected
    prompt.push_back(i % 7 == 0 ? 0 : (i % kVocab));
  GenerationRequest r = greedy(prompt, 0);
  r.echo = true;
  r.topLogprobs = 0;
  r.echoFrom = 1;
  std::vector<TokenLogprob> l;
  std::string text;
  Event done = collect(*s->submit(r), text, &l);
  EXPECT_EQ(done.finishReason, "length");
  EXPECT_EQ(done.completionTokens, 0);
  ASSERT_EQ(l.size(), prompt.size() - 1);
  for (size_t i = 1; i < prompt.size(); ++i) {
    const TokenLogprob &t = l[i - 1];
    EXPECT_EQ(t.token, prompt[i]);
    ASSERT_TRUE(t.logprob) << i;
    EXPECT_DOUBLE_EQ(*t.logprob, prompt[i] == (prompt[i - 1] + 1) % kVocab ? kLikely : kUnlikely)
        << i;
    EXPECT_TRUE(t.top.empty());
  }
  EXPECT_EQ(text.size(), prompt.size() - 1);
}

TEST(ServerScheduler, EchoWithoutLogprobsReusesTheCache) {
  ScriptedEngine engine(256);
  std::string error;
  auto s = Scheduler::create(engine, 1, 4, error);
  ASSERT_TRUE(s) << error;
  std::string text;
  collect(*s->submit(greedy({1, 2, 3, 4}, 1)), text);
  GenerationRequest r = greedy({1, 2, 3, 4}, 1);
  r.echo = true;
  std::vector<TokenLogprob> l;
  text.clear();
  Event done = collect(*s->submit(r), text, &l);
  EXPECT_EQ(text, "bcdef");
  EXPECT_EQ(done.cachedTokens, 3);
  EXPECT_TRUE(l.empty());
}

TEST(ServerScheduler, LogprobsPastAStopSequenceAreDropped) {
  ScriptedEngine engine(256);
  std::string error;
  auto s = Scheduler::create(engine, 1, 4, error);
  ASSERT_TRUE(s) << error;
  GenerationRequest r = greedy({1}, 8); // generates c d e f g ...
  r.stop = {"ef"};
  r.topLogprobs = 0;
  std::vector<TokenLogprob> l;
  std::string text;
  Event done = collect(*s->submit(r), text, &l);
  EXPECT_EQ(text, "cd");
  EXPECT_EQ(done.finishReason, "stop");
  ASSERT_EQ(l.size(), 2u); // c and d; e and f made the stop sequence
  EXPECT_EQ(l[0].piece, "c");
  EXPECT_EQ(l[1].piece, "d");
  EXPECT_DOUBLE_EQ(*l[1].logprob, kLikely);
}

TEST(ServerScheduler, TextHeldBackAtTheEndIsSent) {
  // "c" then "d" could begin the stop sequence "cdz": held back until max_tokens ends the
  // reply, then sent (this once sent through a task already let go of: a crash).
  ScriptedEngine engine(256);
  std::string error;
  auto s = Scheduler::create(engine, 1, 4, error);
  ASSERT_TRUE(s) << error;
  GenerationRequest r = greedy({1}, 2);
  r.stop = {"cdz"};
  r.topLogprobs = 0;
  std::vector<TokenLogprob> l;
  std::string text;
  Event done = collect(*s->submit(r), text, &l);
  EXPECT_EQ(text, "cd");
  EXPECT_EQ(done.finishReason, "length");
  EXPECT_EQ(l.size(), 2u);
}

TEST(ServerScheduler, TheEndTokensLogprobIsListedWhenAsked) {
  ScriptedEngine engine(256);
  std::string error;
  auto s = Scheduler::create(engine, 1, 4, error);
  ASSERT_TRUE(s) << error;
  for (bool listed : {false, true}) {
    GenerationRequest r = greedy({13}, 5); // 14, then the end token 15
    r.topLogprobs = 1;
    r.logprobOfEnd = listed;
    std::vector<TokenLogprob> l;
    std::string text;
    Event done = collect(*s->submit(r), text, &l);
    EXPECT_EQ(text, "o");
    EXPECT_EQ(done.finishReason, "stop");
    EXPECT_EQ(done.completionTokens, 1);
    ASSERT_EQ(l.size(), listed ? 2u : 1u);
    if (listed) {
      EXPECT_EQ(l[1].token, kEnd);
      EXPECT_DOUBLE_EQ(*l[1].logprob, kLikely);
    }
  }
}
