// scheduler.cpp - see scheduler.h.
#include "scheduler.h"

#include "text_output.h"

#include "../log_prob.h"

#include <algorithm>
#include <chrono>
#include <optional>

namespace tern::server {

Event Task::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [&] { return !events_.empty(); });
  Event event = std::move(events_.front());
  events_.pop_front();
  return event;
}

void Task::push(Event event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(std::move(event));
  }
  ready_.notify_one();
}

static double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Scheduler::Slot {
  std::unique_ptr<EngineSlot> engine;
  std::vector<int32_t> held; // the tokens in the KV cache, in order
  // The request being served (task null when the slot is free).
  std::shared_ptr<Task> task;
  GenerationRequest request;
  int64_t evaluated = 0; // prompt tokens in the KV cache
  int64_t cached = 0;    // of which reused from the previous request
  int64_t generated = 0;
  std::optional<int32_t> pending; // sampled, not evaluated yet
  std::unique_ptr<tern_sampler, void (*)(tern_sampler *)> sampler{nullptr, tern_sampler_free};
  std::optional<TextOutput> output;
  double started = 0, prefilled = 0;
  // Log probabilities: the logits of a scored prompt chunk's rows, and generated tokens'
  // entries waiting for their text to be sent (with where each token's bytes start in the
  // generated text); `generated`/`sent` bytes of that text went into / came out of `output`.
  std::vector<float> rows;
  std::deque<std::pair<int64_t, TokenLogprob>> held_logprobs;
  int64_t generatedBytes = 0, sentBytes = 0;
  bool echoed = false; // beginEcho ran
  bool scoring() const { return request.echo && request.topLogprobs >= 0; }
};

std::unique_ptr<Scheduler> Scheduler::create(Engine &engine, int slots, size_t queue,
                                             std::string &error) {
  std::unique_ptr<Scheduler> s(new Scheduler(engine, queue));
  for (int i = 0; i < slots; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->engine = engine.createSlot(error);
    if (!slot->engine)
      return nullptr;
    s->slots_.push_back(std::move(slot));
  }
  s->thread_ = std::thread([p = s.get()] { p->run(); });
  return s;
}

Scheduler::Scheduler(Engine &engine, size_t queue) : engine_(engine), queueLimit_(queue) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
  // Whoever still waits learns that the server stopped (submit takes no more).
  std::deque<std::pair<std::shared_ptr<Task>, GenerationRequest>> waiting;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    waiting.swap(waiting_);
  }
  for (auto &[task, request] : waiting)
    task->push(Event::failure("the server is shutting down"));
  for (auto &slot : slots_)
    if (slot->task) {
      slot->task->push(Event::failure("the server is shutting down"));
      slot->task.reset();
    }
}

std::shared_ptr<Task> Scheduler::submit(GenerationRequest request) {
  auto task = std::make_shared<Task>();
  if (request.prompt.empty()) { // the logits come from the prompt's last token
    task->push(Event::failure("the prompt has no tokens"));
    return task;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || busy_ + waiting_.size() >= slots_.size() + queueLimit_)
      return nullptr;
    waiting_.emplace_back(task, std::move(request));
  }
  wake_.notify_one();
  return task;
}

bool Scheduler::stopping() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

Scheduler::Load Scheduler::load() {
  std::lock_guard<std::mutex> lock(mutex_);
  return {slots_.size(), busy_, waiting_.size(), queueLimit_};
}

Scheduler::Metrics Scheduler::metrics() {
  std::lock_guard<std::mutex> lock(mutex_);
  Metrics m = totals_;
  m.load = {slots_.size(), busy_, waiting_.size(), queueLimit_};
  m.capacityPositions = static_cast<int64_t>(slots_.size()) * engine_.context();
  return m;
}

/// How many leading tokens two sequences share.
static size_t commonPrefix(const std::vector<int32_t> &a, const std::vector<int32_t> &b) {
  size_t n = std::min(a.size(), b.size()), i = 0;
  while (i < n && a[i] == b[i])
    ++i;
  return i;
}

void Scheduler::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || busy_ > 0 || !waiting_.empty(); });
      if (stopping_)
        return;
      // Waiting requests into free slots, each to the one holding most of its prompt.
      while (!waiting_.empty() && busy_ < slots_.size()) {
        auto &[task, request] = waiting_.front();
        Slot *best = nullptr;
        size_t bestShared = 0;
        for (auto &slot : slots_) {
          if (slot->task)
            continue;
          size_t shared = commonPrefix(slot->held, request.prompt);
          if (!best || shared > bestShared)
            best = slot.get(), bestShared = shared;
        }
        start(*best, std::move(task), std::move(request));
        waiting_.pop_front();
        ++busy_;
      }
    }
    step();
  }
}

void Scheduler::start(Slot &slot, std::shared_ptr<Task> task, GenerationRequest request) {
  slot.task = std::move(task);
  slot.request = std::move(request);
  // Keep the shared prefix, but evaluate at least the prompt's last token (its logits); a
  // prompt whose log probabilities are asked for is evaluated whole.
  int64_t prompt = static_cast<int64_t>(slot.request.prompt.size());
  int64_t keep = std::min<int64_t>(commonPrefix(slot.held, slot.request.prompt), prompt - 1);
  if (slot.scoring())
    keep = 0;
  slot.held.resize(static_cast<size_t>(keep));
  slot.evaluated = slot.cached = keep;
  slot.generated = 0;
  slot.pending.reset();
  slot.sampler.reset(tern_sampler_create(&slot.request.sampling, engine_.vocab(), nullptr));
  slot.output.emplace(slot.request.stop);
  slot.held_logprobs.clear();
  slot.generatedBytes = slot.sentBytes = 0;
  slot.echoed = false;
  slot.started = now();
}

// What a request needs before its first evaluation, done on the generation thread outside the
// lock start() runs under: the echoed prompt's text and the rows of a scored one.
void Scheduler::beginEcho(Slot &slot) {
  slot.echoed = true;
  const GenerationRequest &r = slot.request;
  if (r.echo && !slot.scoring()) {
    sendEcho(slot, r.echoFrom, static_cast<int64_t>(r.prompt.size()));
  } else if (slot.scoring()) {
    // Kept for the slot's next scored prompt (kPromptChunk rows: 33 MB for a 128k-token
    // vocabulary), as the logits buffer it is.
    slot.rows.resize(static_cast<size_t>(kPromptChunk * engine_.vocab()));
    // The prompt's first token has nothing before it: no log probability.
    if (r.echoFrom == 0)
      sendEcho(slot, 0, 1);
  }
}

TokenLogprob Scheduler::logprobOf(const float *logits, int32_t token, int top) {
  int64_t vocab = engine_.vocab();
  double norm = tern_log_sum_exp(logits, vocab);
  TokenLogprob t;
  t.token = token;
  t.piece = engine_.piece(token);
  t.logprob = static_cast<double>(logits[token]) - norm;
  if (top > 0) {
    std::vector<int32_t> ids(static_cast<size_t>(std::min<int64_t>(top, vocab)));
    tern_top_tokens(logits, vocab, static_cast<int64_t>(ids.size()), ids.data());
    for (int32_t id : ids)
      t.top.push_back({id, engine_.piece(id), static_cast<double>(logits[id]) - norm});
  }
  return t;
}

// The prompt's tokens [from, to) as text; their log probabilities too when the prompt is
// scored (row k of slot.rows holds the logits after prompt token rowsFrom + k).
void Scheduler::sendEcho(Slot &slot, int64_t from, int64_t to, int64_t rowsFrom) {
  const GenerationRequest &r = slot.request;
  Event e = Event::textPart("");
  for (int64_t i = from; i < to; ++i) {
    int32_t token = r.prompt[static_cast<size_t>(i)];
    if (slot.scoring() && i > 0) {
      int64_t row = i - 1 - rowsFrom;
      e.logprobs.push_back(logprobOf(slot.rows.data() + row * engine_.vocab(), token,
                                     r.topLogprobs));
      e.text += e.logprobs.back().piece;
    } else {
      std::string piece = engine_.piece(token);
      e.text += piece;
      if (slot.scoring())
        e.logprobs.push_back({token, std::move(piece), std::nullopt, {}});
    }
  }
  if (!e.text.empty() || !e.logprobs.empty())
    slot.task->push(std::move(e));
}

// Generated text on its way to the client, with the log probabilities of the tokens whose
// bytes begin in what is sent by now (`last`: the generation ended, so every token still held
// goes, but after a stop sequence those past the text sent).
void Scheduler::sendText(Slot &slot, std::string text, bool last) {
  slot.sentBytes += static_cast<int64_t>(text.size());
  Event e = Event::textPart(std::move(text));
  while (!slot.held_logprobs.empty() &&
         (slot.held_logprobs.front().first < slot.sentBytes ||
          (last && !slot.output->stopped()))) {
    e.logprobs.push_back(std::move(slot.held_logprobs.front().second));
    slot.held_logprobs.pop_front();
  }
  if (!e.text.empty() || !e.logprobs.empty())
    slot.task->push(std::move(e));
}

void Scheduler::step() {
  // Every busy slot's part, as many as one call takes: a generating slot's next token, a
  // reading slot's next prompt chunk. The slot the call starts from rotates every step, so
  // when a call cannot take every busy slot, each still gets its turn (a prompt is not held up
  // behind generating slots, nor they behind it).
  std::vector<SlotEval> parts;
  std::vector<Slot *> owners;
  int64_t budget = engine_.batchTokens(), reading = 0; // reading: prompt tokens in the call
  size_t count = slots_.size();
  for (size_t k = 0; k < count && budget > 0; ++k) {
    Slot &slot = *slots_[(rotation_ + k) % count];
    if (!slot.task)
      continue;
    if (slot.task->cancelled()) {
      finish(slot, "");
      continue;
    }
    if (!slot.sampler) {
      fail(slot, "out of memory for the sampler");
      continue;
    }
    if (!slot.echoed)
      beginEcho(slot);
    const std::vector<int32_t> &prompt = slot.request.prompt;
    int64_t position = static_cast<int64_t>(slot.held.size());
    SlotEval part{slot.engine.get(), position, nullptr, 1};
    if (slot.evaluated < static_cast<int64_t>(prompt.size())) {
      part.tokens = prompt.data() + slot.evaluated;
      part.n = std::min({kPromptChunk, static_cast<int64_t>(prompt.size()) - slot.evaluated,
                         budget});
      if (slot.scoring())
        part.rows = slot.rows.data();
      reading += part.n;
    } else {
      part.tokens = &*slot.pending;
    }
    budget -= part.n;
    parts.push_back(part);
    owners.push_back(&slot);
  }
  rotation_ = count ? (rotation_ + 1) % count : 0;
  if (parts.empty())
    return;
  std::string error;
  double begin = now();
  bool ok = engine_.evaluate(parts, error);
  double seconds = now() - begin;
  int64_t tokens = 0;
  for (const SlotEval &part : parts)
    tokens += part.n;
  {
    // The call's time is split between prompt and generated tokens by their count.
    std::lock_guard<std::mutex> lock(mutex_);
    totals_.decodeCalls += 1;
    totals_.busySlotsInCalls += static_cast<int64_t>(parts.size());
    totals_.promptTokens += reading;
    totals_.promptSeconds += seconds * static_cast<double>(reading) / static_cast<double>(tokens);
    totals_.predictedTokens += tokens - reading;
    totals_.predictedSeconds +=
        seconds * static_cast<double>(tokens - reading) / static_cast<double>(tokens);
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    // A failed call of several slots is retried slot by slot, so one request's failure (its
    // message naming its batch entry) does not fail the others.
    std::string alone;
    if (!ok && parts.size() > 1 && engine_.evaluate({parts[i]}, alone))
      advance(*owners[i], parts[i].n);
    else if (!ok)
      fail(*owners[i], parts.size() > 1 ? alone : error);
    else
      advance(*owners[i], parts[i].n);
  }
  publishCachedPositions();
}

void Scheduler::advance(Slot &slot, int64_t n) {
  const GenerationRequest &r = slot.request;
  const std::vector<int32_t> &prompt = r.prompt;
  int64_t length = static_cast<int64_t>(prompt.size());
  if (slot.evaluated < length) {
    slot.held.insert(slot.held.end(), prompt.begin() + slot.evaluated,
                     prompt.begin() + slot.evaluated + n);
    slot.evaluated += n;
    // Scored: the chunk's rows give the next prompt tokens' log probabilities (the last
    // row, after the whole prompt, is the first generated token's).
    if (slot.scoring()) {
      int64_t chunk = slot.evaluated - n;
      sendEcho(slot, std::max({chunk + 1, r.echoFrom, int64_t{1}}),
               std::min(slot.evaluated + 1, length), chunk);
    }
    if (slot.evaluated < length)
      return; // more of the prompt at the next step
    slot.prefilled = now();
    if (r.maxTokens == 0)
      return finish(slot, "length");
  } else {
    slot.held.push_back(*slot.pending);
  }
  const float *logits = slot.engine->logits();
  int32_t next = tern_sampler_sample(slot.sampler.get(), logits, slot.held.data(),
                                     static_cast<int64_t>(slot.held.size()));
  if (!r.ignoreEnd && engine_.isEnd(next)) {
    if (r.topLogprobs >= 0 && r.logprobOfEnd)
      slot.held_logprobs.emplace_back(slot.generatedBytes,
                                      logprobOf(logits, next, r.topLogprobs));
    return finish(slot, "stop");
  }
  ++slot.generated;
  std::string piece = engine_.piece(next);
  if (r.topLogprobs >= 0)
    slot.held_logprobs.emplace_back(slot.generatedBytes, logprobOf(logits, next, r.topLogprobs));
  slot.generatedBytes += static_cast<int64_t>(piece.size());
  sendText(slot, slot.output->add(piece), false);
  if (slot.output->stopped())
    return finish(slot, "stop");
  // Evaluating the token needs a free position.
  if (slot.generated == slot.request.maxTokens ||
      static_cast<int64_t>(slot.held.size()) >= engine_.context())
    return finish(slot, "length");
  slot.pending = next;
}

void Scheduler::finish(Slot &slot, const std::string &reason) {
  // What the output held back (a character cut by the last token, the start of a stop
  // sequence) and the log probabilities waiting for it go out first, through slot.task.
  if (!reason.empty())
    sendText(slot, slot.output->finish(), true);
  std::shared_ptr<Task> task = std::move(slot.task);
  std::optional<Event> done;
  if (!reason.empty()) {
    done.emplace();
    done->kind = Event::Kind::Done;
    done->finishReason = reason;
    done->promptTokens = static_cast<int64_t>(slot.request.prompt.size());
    done->cachedTokens = slot.cached;
    done->completionTokens = slot.generated;
    double end = now();
    done->promptSeconds = slot.prefilled - slot.started;
    done->generationSeconds = end - slot.prefilled;
  }
  slot.sampler.reset();
  slot.output.reset();
  // The slot is free before the client learns it is done: a client that sends its next
  // request at once finds it free, and /metrics counts the request.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --busy_;
    ++totals_.requestsServed;
  }
  publishCachedPositions();
  if (done)
    task->push(std::move(*done));
}

void Scheduler::publishCachedPositions() {
  int64_t held = 0;
  for (auto &slot : slots_)
    held += static_cast<int64_t>(slot->held.size());
  std::lock_guard<std::mutex> lock(mutex_);
  totals_.cachedPositions = held;
}

void Scheduler::fail(Slot &slot, const std::string &message) {
  std::shared_ptr<Task> task = slot.task;
  // What the KV cache holds is no longer known.
  slot.held.clear();
  finish(slot, "");
  task->push(Event::failure(message));
}

} // namespace tern::server
