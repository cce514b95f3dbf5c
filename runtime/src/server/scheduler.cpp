// scheduler.cpp - see scheduler.h.
#include "scheduler.h"

#include "text_output.h"

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
    for (auto &slot : slots_)
      if (slot->task)
        step(*slot);
  }
}

void Scheduler::start(Slot &slot, std::shared_ptr<Task> task, GenerationRequest request) {
  slot.task = std::move(task);
  slot.request = std::move(request);
  // Keep the shared prefix, but evaluate at least the prompt's last token (its logits).
  int64_t prompt = static_cast<int64_t>(slot.request.prompt.size());
  int64_t keep = std::min<int64_t>(commonPrefix(slot.held, slot.request.prompt), prompt - 1);
  slot.held.resize(static_cast<size_t>(keep));
  slot.evaluated = slot.cached = keep;
  slot.generated = 0;
  slot.pending.reset();
  slot.sampler.reset(tern_sampler_create(&slot.request.sampling, engine_.vocab(), nullptr));
  slot.output.emplace(slot.request.stop);
  slot.started = now();
}

void Scheduler::step(Slot &slot) {
  if (slot.task->cancelled())
    return finish(slot, "");
  if (!slot.sampler)
    return fail(slot, "out of memory for the sampler");
  const std::vector<int32_t> &prompt = slot.request.prompt;
  int64_t position = static_cast<int64_t>(slot.held.size());
  std::string error;
  if (slot.evaluated < static_cast<int64_t>(prompt.size())) {
    int64_t n = std::min<int64_t>(kPromptChunk, prompt.size() - slot.evaluated);
    if (!slot.engine->eval(position, prompt.data() + slot.evaluated, n, error))
      return fail(slot, error);
    slot.held.insert(slot.held.end(), prompt.begin() + slot.evaluated,
                     prompt.begin() + slot.evaluated + n);
    slot.evaluated += n;
    if (slot.evaluated < static_cast<int64_t>(prompt.size()))
      return; // more of the prompt at the next step
    slot.prefilled = now();
  } else {
    int32_t token = *slot.pending;
    if (!slot.engine->eval(position, &token, 1, error))
      return fail(slot, error);
    slot.held.push_back(token);
  }
  int32_t next = tern_sampler_sample(slot.sampler.get(), slot.engine->logits(), slot.held.data(),
                                     static_cast<int64_t>(slot.held.size()));
  if (!slot.request.ignoreEnd && engine_.isEnd(next))
    return finish(slot, "stop");
  ++slot.generated;
  std::string text = slot.output->add(engine_.piece(next));
  if (!text.empty())
    slot.task->push(Event::textPart(std::move(text)));
  if (slot.output->stopped())
    return finish(slot, "stop");
  // Evaluating the token needs a free position.
  if (slot.generated == slot.request.maxTokens ||
      static_cast<int64_t>(slot.held.size()) >= engine_.context())
    return finish(slot, "length");
  slot.pending = next;
}

void Scheduler::finish(Slot &slot, const std::string &reason) {
  if (!reason.empty()) {
    std::string rest = slot.output->finish();
    if (!rest.empty())
      slot.task->push(Event::textPart(std::move(rest)));
    Event done;
    done.kind = Event::Kind::Done;
    done.finishReason = reason;
    done.promptTokens = static_cast<int64_t>(slot.request.prompt.size());
    done.cachedTokens = slot.cached;
    done.completionTokens = slot.generated;
    double end = now();
    done.promptSeconds = slot.prefilled - slot.started;
    done.generationSeconds = end - slot.prefilled;
    slot.task->push(std::move(done));
  }
  slot.task.reset();
  slot.sampler.reset();
  slot.output.reset();
  std::lock_guard<std::mutex> lock(mutex_);
  --busy_;
}

void Scheduler::fail(Slot &slot, const std::string &message) {
  slot.task->push(Event::failure(message));
  // What the KV cache holds is no longer known.
  slot.held.clear();
  finish(slot, "");
}

} // namespace tern::server
