// http_server.cpp - --server: the compiled model behind an OpenAI-compatible HTTP API
// (cpp-httplib), until SIGINT or SIGTERM.
//
//   POST /v1/completions, /v1/chat/completions  whole JSON, or Server-Sent Events with "stream"
//   POST /v1/embeddings                          an embedding model's vectors (instead of the two)
//   POST /tokenize, /detokenize                  the model's tokenizer (llama-server's)
//   GET  /v1/models, /health, /metrics (Prometheus)
// Requests are parsed and tokenized on the HTTP threads; generation happens on the scheduler's
// thread (scheduler.h), which bounds how many requests may wait. With --api-key every endpoint
// but /health and /v1/models wants the key.
//
// A non-streamed request whose client leaves runs to its end (max_tokens or the context): the
// cpp-httplib of Debian bookworm (0.11) gives a handler no way to see the connection close
// before it writes. A streamed one stops at its next token (the write fails).
#include "api_key.h"
#include "embeddings.h"
#include "metrics_text.h"
#include "model_engine.h"
#include "openai_request.h"
#include "openai_response.h"
#include "scheduler.h"
#include "tokenize.h"

#include "../cli/cli.h"

// cpp-httplib listens with a backlog of 5 connections: 64 clients connecting at once overflowed
// it and some were reset (the load test, test/server/load_test.py). The kernel caps it at
// net.core.somaxconn.
#define CPPHTTPLIB_LISTEN_BACKLOG 1024
#include <httplib.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <malloc.h>
#include <pthread.h>
#include <random>
#include <thread>

namespace tern::server {
namespace {

constexpr size_t kMaxBody = 16 << 20;

struct Server {
  const char *program;
  tern_model *model;
  const tern_cli *cli;
  std::string name;          // the model's id in the API
  int64_t created;           // when the server started (the model's "created")
  int64_t context;           // positions per session
  tern_sampler_params sampling; // the command line's; requests override fields
  std::unique_ptr<Scheduler> scheduler;
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> refusedBusy{0}, unauthorized{0};
  std::string apiKey; // empty: none required
  std::mutex logLock;
  bool embeddingModel = false;        // answers /v1/embeddings, not completions
  std::mutex embedLock;               // one embedding at a time: its session's memory at most
  std::atomic<int64_t> embedding{0};  // embedding requests running or waiting for embedLock

  void log(const char *format, ...) __attribute__((format(printf, 2, 3)));
  bool buildPrompt(const ApiRequest &api, std::vector<int32_t> &prompt, ApiError &error);
  GenerationRequest generation(const ApiRequest &api);
  void complete(const httplib::Request &req, httplib::Response &res, bool chat);
  void embed(const httplib::Request &req, httplib::Response &res);
  void tokenize(const httplib::Request &req, httplib::Response &res);
  void detokenize(const httplib::Request &req, httplib::Response &res);
};

void Server::log(const char *format, ...) {
  if (cli->quiet)
    return;
  std::lock_guard<std::mutex> lock(logLock);
  va_list args;
  va_start(args, format);
  fprintf(stderr, "%s: ", program);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
}

void sendError(httplib::Response &res, const ApiError &error) {
  res.status = error.status;
  res.set_content(errorJson(error), "application/json");
}

// The prompt's tokens: the text tokenized (BOS first, added tokens recognized), the ids given,
// or the messages rendered by the model's chat template (the tokenizer's BOS first unless the
// template wrote it).
bool Server::buildPrompt(const ApiRequest &api, std::vector<int32_t> &prompt, ApiError &error) {
  char message[512];
  std::string text;
  const std::string param = api.chat ? "messages" : "prompt";
  if (api.chat) {
    std::vector<tern_chat_message> messages;
    for (const ChatMessage &m : api.messages)
      messages.push_back({m.role.c_str(), m.content.c_str()});
    // Rendered into 4 KiB first: again only when longer.
    text.resize(4096);
    int64_t n = tern_model_apply_chat_template(model, messages.data(), messages.size(), 1,
                                               text.data(), text.size(), message, sizeof message);
    if (n >= static_cast<int64_t>(text.size())) {
      text.resize(static_cast<size_t>(n) + 1);
      tern_model_apply_chat_template(model, messages.data(), messages.size(), 1, text.data(),
                                     text.size(), message, sizeof message);
    }
    if (n >= 0) {
      text.resize(static_cast<size_t>(n));
    } else {
      error = {400, message, "invalid_request_error", param, "unsupported_value"};
      return false;
    }
  } else if (api.promptText) {
    text = *api.promptText;
  } else {
    prompt = api.promptTokens;
  }
  if (api.chat || api.promptText) {
    // One token per byte and the BOS (a byte-level tokenizer's most); again with the count a
    // metaspace tokenizer may need beyond. A chat's BOS: the tokenizer's, unless the template
    // wrote it (tern_model_tokenize_chat).
    auto tokenize = [&](int64_t capacity) {
      return api.chat ? tern_model_tokenize_chat(model, text.data(), text.size(), prompt.data(),
                                                 capacity, message, sizeof message)
                      : tern_model_tokenize(model, text.data(), text.size(), 1, 1,
                                            prompt.data(), capacity, message, sizeof message);
    };
    prompt.resize(text.size() + 1);
    int64_t n = tokenize(static_cast<int64_t>(prompt.size()));
    if (n > static_cast<int64_t>(prompt.size())) {
      prompt.resize(static_cast<size_t>(n));
      n = tokenize(n);
    }
    prompt.resize(n > 0 ? static_cast<size_t>(n) : 0);
    if (n < 0) {
      error = {400, "Invalid '" + param + "': " + message, "invalid_request_error", param,
               "invalid_value"};
      return false;
    }
  }
  int64_t vocab = tern_model_describe(model)->vocab;
  for (int32_t id : prompt)
    if (id >= vocab) {
      error = {400,
               "Invalid 'prompt': token " + std::to_string(id) + " is outside the vocabulary [0, " +
                   std::to_string(vocab) + ").",
               "invalid_request_error", param, "invalid_value"};
      return false;
    }
  if (prompt.empty()) {
    error = {400, "Invalid '" + param + "': the prompt has no tokens.", "invalid_request_error",
             param, "invalid_value"};
    return false;
  }
  if (static_cast<int64_t>(prompt.size()) > context) {
    error = {400,
             "This model's maximum context length is " + std::to_string(context) +
                 " tokens. However, your prompt has " + std::to_string(prompt.size()) +
                 " tokens. Please reduce the length of the " + param + ".",
             "invalid_request_error", param, "context_length_exceeded"};
    return false;
  }
  return true;
}

// A field the request sets overrides the command line's.
template <class Field, class Value>
void setIfGiven(Field &field, const std::optional<Value> &value) {
  if (value)
    field = static_cast<Field>(*value);
}

GenerationRequest Server::generation(const ApiRequest &api) {
  GenerationRequest g;
  tern_sampler_params &p = g.sampling;
  p = sampling;
  setIfGiven(p.temperature, api.temperature);
  setIfGiven(p.top_p, api.topP);
  setIfGiven(p.min_p, api.minP);
  setIfGiven(p.top_k, api.topK);
  setIfGiven(p.repeat_penalty, api.repeatPenalty);
  setIfGiven(p.repeat_last_n, api.repeatLastN);
  setIfGiven(p.presence_penalty, api.presencePenalty);
  setIfGiven(p.frequency_penalty, api.frequencyPenalty);
  // A request's seed, else the command line's, else a new one per request.
  if (api.seed)
    p.seed = static_cast<uint64_t>(*api.seed);
  else if (cli->seed < 0)
    p.seed = std::random_device()() * 0x100000001ull;
  // OpenAI's default for completions is 16 tokens; a chat reply runs to its end. -n sets both.
  g.maxTokens = api.maxTokens ? *api.maxTokens
                : cli->n_predict > 0 ? cli->n_predict
                : api.chat ? -1
                           : 16;
  g.stop = api.stop;
  g.ignoreEnd = api.ignoreEos;
  g.topLogprobs = api.chat ? (api.chatLogprobs ? static_cast<int>(api.topLogprobs.value_or(0))
                                               : -1)
                           : (api.logprobs ? static_cast<int>(*api.logprobs) : -1);
  g.logprobOfEnd = !api.chat;
  g.echo = api.echo;
  return g;
}

std::string newId(bool chat, uint64_t serial) {
  static const uint64_t salt = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) | device();
  }();
  char id[64];
  snprintf(id, sizeof id, "%s-%016llx%08llx", chat ? "chatcmpl" : "cmpl",
           static_cast<unsigned long long>(salt), static_cast<unsigned long long>(serial));
  return id;
}

// Logs what a finished request cost.
void logDone(Server &s, const char *path, const Event &done) {
  double tps = done.generationSeconds > 0 ? done.completionTokens / done.generationSeconds : 0;
  s.log("%s: %lld prompt tokens (%lld cached) in %.1f ms, %lld tokens in %.1f ms (%.1f "
        "tokens/s), %s",
        path, static_cast<long long>(done.promptTokens),
        static_cast<long long>(done.cachedTokens), 1e3 * done.promptSeconds,
        static_cast<long long>(done.completionTokens), 1e3 * done.generationSeconds, tps,
        done.finishReason.c_str());
}

struct Stream {
  std::shared_ptr<Task> task;
  ResponseHeader header;
  bool includeUsage = false, sentRole = false;
  std::string path;
  Logprobs logprobs; // each chunk's tokens; the text offset carries over
};

void Server::complete(const httplib::Request &req, httplib::Response &res, bool chat) {
  if (embeddingModel)
    return sendError(res, {400,
                           name + " is an embedding model: it answers POST /v1/embeddings, not " +
                               req.path + ".",
                           "invalid_request_error", "model", "model_not_supported"});
  ApiRequest api;
  ApiError error;
  std::vector<int32_t> prompt;
  if (!parseApiRequest(req.body, chat, api, error) || !buildPrompt(api, prompt, error))
    return sendError(res, error);
  GenerationRequest g = generation(api);
  // The BOS a text prompt was given here is not the client's: it is not echoed (its first
  // token then has a log probability, after the BOS).
  int32_t bos = tern_model_added_bos(model);
  g.echoFrom = api.promptText && bos >= 0 && prompt[0] == bos ? 1 : 0;
  g.prompt = std::move(prompt);
  Logprobs logprobs;
  logprobs.requested = g.topLogprobs >= 0;
  std::shared_ptr<Task> task = scheduler->submit(std::move(g));
  if (!task && scheduler->stopping())
    return sendError(res, {503, "The server is shutting down.", "server_error", "",
                           "server_stopping"});
  if (!task) {
    ++refusedBusy;
    Scheduler::Load load = scheduler->load();
    res.set_header("Retry-After", "1");
    return sendError(res, {503,
                           "The server is busy: " + std::to_string(load.busy) +
                               " requests are generating and " + std::to_string(load.waiting) +
                               " wait (--parallel " + std::to_string(load.slots) +
                               ", --queue " + std::to_string(load.queue) +
                               "). Retry later.",
                           "server_error", "", "server_busy"});
  }
  ResponseHeader header{chat, newId(chat, ++requests), static_cast<int64_t>(std::time(nullptr)),
                        name};
  if (!api.stream) {
    std::string text;
    for (;;) {
      Event e = task->next();
      if (e.kind == Event::Kind::Text) {
        text += e.text;
        for (TokenLogprob &t : e.logprobs)
          logprobs.tokens.push_back(std::move(t));
      } else if (e.kind == Event::Kind::Done) {
        logDone(*this, req.path.c_str(), e);
        res.set_content(completionJson(header, text, e, logprobs), "application/json");
        return;
      } else {
        log("%s: failed: %s", req.path.c_str(), e.text.c_str());
        return sendError(res, {500, e.text, "server_error", "", "generation_failed"});
      }
    }
  }
  auto stream = std::make_shared<Stream>();
  stream->task = task;
  stream->header = header;
  stream->includeUsage = api.includeUsage;
  stream->path = req.path;
  stream->logprobs = std::move(logprobs);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, stream](size_t, httplib::DataSink &sink) {
        std::string out;
        if (stream->header.chat && !stream->sentRole) {
          out = roleChunk(stream->header);
          stream->sentRole = true;
        }
        Event e = stream->task->next();
        bool end = e.kind != Event::Kind::Text;
        if (e.kind == Event::Kind::Text) {
          stream->logprobs.tokens = std::move(e.logprobs);
          out += textChunk(stream->header, e.text, stream->logprobs);
        } else if (e.kind == Event::Kind::Done) {
          logDone(*this, stream->path.c_str(), e);
          out += finishChunk(stream->header, e);
          if (stream->includeUsage)
            out += usageChunk(stream->header, e);
        } else {
          log("%s: failed: %s", stream->path.c_str(), e.text.c_str());
          out += errorEvent({500, e.text, "server_error", "", "generation_failed"});
        }
        if (end)
          out += kDoneEvent;
        if (!sink.write(out.data(), out.size())) {
          stream->task->cancel(); // the client is gone: free the slot
          return false;
        }
        if (end)
          sink.done();
        return true;
      },
      [stream](bool) { stream->task->cancel(); });
}

// /v1/embeddings: every input tokenized on this thread (texts as tern_model_tokenize_embedding
// does; token ids as given), embedded one at a time.
void Server::embed(const httplib::Request &req, httplib::Response &res) {
  EmbeddingRequest api;
  ApiError error;
  if (!parseEmbeddingRequest(req.body, api, error))
    return sendError(res, error);
  if (!embeddingModel)
    return sendError(res, {400,
                           name + " is a language model: it has no embeddings (compile an "
                                  "embedding model, e.g. Qwen3Model, for /v1/embeddings).",
                           "invalid_request_error", "model", "model_not_supported"});
  // As many may wait as completions may (--queue); more get the same 503.
  struct Admission {
    std::atomic<int64_t> &count;
    ~Admission() { --count; }
  } admission{embedding};
  if (++embedding > cli->queue + 1) {
    ++refusedBusy;
    res.set_header("Retry-After", "1");
    return sendError(res, {503,
                           "The server is busy: " + std::to_string(embedding.load() - 1) +
                               " embedding requests are running or waiting (--queue " +
                               std::to_string(cli->queue) + "). Retry later.",
                           "server_error", "", "server_busy"});
  }
  const tern_model_desc *d = tern_model_describe(model);
  if (api.dimensions && *api.dimensions > d->output_width)
    return sendError(res, {400,
                           "Invalid 'dimensions': this model's vectors have " +
                               std::to_string(d->output_width) + " dimensions.",
                           "invalid_request_error", "dimensions", "invalid_value"});
  std::vector<std::vector<float>> vectors;
  int64_t promptTokens = 0;
  char message[512];
  for (size_t i = 0; i < api.inputs.size(); ++i) {
    std::string param = api.inputs.size() == 1 ? "input" : "input[" + std::to_string(i) + "]";
    std::vector<int32_t> tokens = api.inputs[i].tokens;
    if (const std::optional<std::string> &text = api.inputs[i].text) {
      tokens.resize(text->size() + 2);
      int64_t n = tern_model_tokenize_embedding(model, text->data(), text->size(), tokens.data(),
                                                static_cast<int64_t>(tokens.size()), message,
                                                sizeof message);
      if (n > static_cast<int64_t>(tokens.size())) {
        tokens.resize(static_cast<size_t>(n));
        n = tern_model_tokenize_embedding(model, text->data(), text->size(), tokens.data(), n,
                                          message, sizeof message);
      }
      if (n < 0)
        return sendError(res, {400, "Invalid '" + param + "': " + message,
                               "invalid_request_error", param, "invalid_value"});
      tokens.resize(static_cast<size_t>(n));
    }
    if (static_cast<int64_t>(tokens.size()) > context)
      return sendError(res, {400,
                             "'" + param + "' has " + std::to_string(tokens.size()) +
                                 " tokens; this model's context holds " +
                                 std::to_string(context) + ".",
                             "invalid_request_error", param, "context_length_exceeded"});
    std::vector<float> v(static_cast<size_t>(d->output_width));
    int status;
    {
      std::lock_guard<std::mutex> lock(embedLock);
      status = tern_model_embed(model, tokens.data(), static_cast<int64_t>(tokens.size()),
                                v.data(), message, sizeof message);
    }
    if (status != 0)
      return sendError(res, {400, "Invalid '" + param + "': " + message,
                             "invalid_request_error", param, "invalid_value"});
    if (api.dimensions)
      truncateEmbedding(v, *api.dimensions, d->normalize != 0);
    promptTokens += static_cast<int64_t>(tokens.size());
    vectors.push_back(std::move(v));
  }
  log("%s: %zu inputs, %lld tokens", req.path.c_str(), vectors.size(),
      static_cast<long long>(promptTokens));
  res.set_content(embeddingsJson(name, vectors, api.base64, promptTokens), "application/json");
}

// The C heap's bytes in use (glibc's mallinfo2), 0 where the C library has no such count.
static uint64_t heapInUse() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 heap = mallinfo2();
  return static_cast<uint64_t>(heap.uordblks + heap.hblkhd);
#else
  return 0;
#endif
}

// The bytes of `tokens` as the model's tokenizer decodes them, piece by piece (a token's text)
// or as a whole text (the leading space a metaspace tokenizer prepended stripped, as
// llama-server's /detokenize gives it); false with a message when an id is outside the
// vocabulary.
static bool decodeTokens(tern_model *model, const std::vector<int32_t> &tokens, bool wholeText,
                         std::string &out, char *message, size_t size) {
  auto decode = wholeText ? tern_model_detokenize_text : tern_model_detokenize;
  int64_t n = decode(model, tokens.data(), static_cast<int64_t>(tokens.size()), nullptr, 0,
                     message, size);
  if (n < 0)
    return false;
  out.resize(static_cast<size_t>(n));
  decode(model, tokens.data(), static_cast<int64_t>(tokens.size()), out.data(), out.size(),
         message, size);
  return true;
}

void Server::tokenize(const httplib::Request &req, httplib::Response &res) {
  TokenizeRequest api;
  ApiError error;
  if (!parseTokenizeRequest(req.body, api, error))
    return sendError(res, error);
  char message[512];
  std::vector<int32_t> tokens(api.content.size() + 1);
  auto encode = [&] {
    return tern_model_tokenize(model, api.content.data(), api.content.size(), api.addSpecial,
                               api.parseSpecial, tokens.data(),
                               static_cast<int64_t>(tokens.size()), message, sizeof message);
  };
  int64_t n = encode();
  if (n > static_cast<int64_t>(tokens.size())) { // a metaspace tokenizer may need more
    tokens.resize(static_cast<size_t>(n));
    n = encode();
  }
  if (n < 0)
    return sendError(res, {400, std::string("Invalid 'content': ") + message,
                           "invalid_request_error", "content", "invalid_value"});
  tokens.resize(static_cast<size_t>(n));
  std::vector<std::string> pieces;
  for (size_t i = 0; api.withPieces && i < tokens.size(); ++i) {
    pieces.emplace_back();
    decodeTokens(model, {tokens[i]}, false, pieces.back(), message, sizeof message);
  }
  res.set_content(tokenizeJson(tokens, api.withPieces ? &pieces : nullptr), "application/json");
}

void Server::detokenize(const httplib::Request &req, httplib::Response &res) {
  std::vector<int32_t> tokens;
  ApiError error;
  if (!parseDetokenizeRequest(req.body, tokens, error))
    return sendError(res, error);
  char message[512];
  std::string content;
  if (!decodeTokens(model, tokens, true, content, message, sizeof message))
    return sendError(res, {400, std::string("Invalid 'tokens': ") + message,
                           "invalid_request_error", "tokens", "invalid_value"});
  res.set_content(detokenizeJson(content), "application/json");
}

// Errors without a body (no route, a body too large, a malformed request) in OpenAI's shape.
httplib::Server::HandlerResponse errorHandler(const httplib::Request &req,
                                              httplib::Response &res) {
  if (!res.body.empty())
    return httplib::Server::HandlerResponse::Unhandled;
  ApiError error{res.status, "", "invalid_request_error", "", ""};
  if (res.status == 404)
    error.message = "Unknown request URL: " + req.method + " " + req.path +
                    ". This server has POST /v1/completions, POST /v1/chat/completions, POST "
                    "/tokenize, POST /detokenize, GET /v1/models, GET /health and GET /metrics.",
    error.code = "unknown_url";
  else if (res.status == 413)
    error.message = "The request body is larger than " + std::to_string(kMaxBody) + " bytes.",
    error.code = "request_too_large";
  else
    error.message = std::string("HTTP ") + std::to_string(res.status) + ": " +
                    httplib::detail::status_message(res.status);
  sendError(res, error);
  return httplib::Server::HandlerResponse::Handled;
}

} // namespace
} // namespace tern::server

using namespace tern::server;

extern "C" int tern_cli_server(const char *program, tern_model *model, const tern_cli *c) {
  Server s;
  s.program = program;
  s.model = model;
  s.cli = c;
  const char *base = strrchr(program, '/');
  s.name = c->alias ? c->alias : base ? base + 1 : program;
  s.created = static_cast<int64_t>(std::time(nullptr));
  char error[512];
  if (tern_cli_sampler_params(c, &s.sampling, error, sizeof error) != 0)
    return tern_cli_usage_error(program, error, nullptr);
  std::string keyError;
  if (!loadApiKey(c->api_key, c->api_key_file, s.apiKey, keyError))
    return tern_cli_usage_error(program, keyError.c_str(), nullptr);
  // Answers are text: without the tokenizer every reply would be empty.
  if (tern_model_tokenize(model, "", 0, 0, 0, nullptr, 0, error, sizeof error) < 0) {
    fprintf(stderr, "%s: error: --server: %s\n", program, error);
    return 1;
  }

  // SIGINT and SIGTERM are taken by one thread (below); every other thread blocks them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  s.embeddingModel = tern_model_describe(model)->pooling != TERN_POOLING_NONE;
  // An embedding model generates nothing: its scheduler's one session holds one position (each
  // embedding runs in a session of its own, of the input's length, at most -c).
  ModelEngine engine(model, s.embeddingModel ? 1 : c->context);
  int64_t compiled = tern_model_describe(model)->context;
  if (s.embeddingModel && c->context > compiled) {
    fprintf(stderr, "%s: error: -c %lld: this model holds 1 to %lld positions (recompile it with "
                    "ternc --context=N for more)\n",
            program, c->context, static_cast<long long>(compiled));
    return 1;
  }
  s.context = s.embeddingModel && c->context ? c->context
              : s.embeddingModel              ? compiled
                                              : engine.context();
  std::string message;
  s.scheduler = Scheduler::create(engine, s.embeddingModel ? 1 : static_cast<int>(c->parallel),
                                  static_cast<size_t>(c->queue), message);
  if (!s.scheduler) {
    fprintf(stderr, "%s: error: %s\n", program, message.c_str());
    return 1;
  }

  httplib::Server http;
  // A thread per request that may be generating or waiting, and a few for the rest.
  size_t threads = static_cast<size_t>(c->parallel + c->queue) + 4;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(kMaxBody);
  // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, with which a second server
  // would share the port instead of failing.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_error_handler(httplib::Server::HandlerWithResponse(errorHandler));
  http.set_pre_routing_handler([&s](const httplib::Request &req, httplib::Response &res) {
    if (s.apiKey.empty() || req.path == "/health" || req.path == "/v1/models" ||
        req.path == "/models")
      return httplib::Server::HandlerResponse::Unhandled;
    bool given = req.has_header("Authorization");
    if (given && authorized(req.get_header_value("Authorization"), s.apiKey))
      return httplib::Server::HandlerResponse::Unhandled;
    ++s.unauthorized;
    res.set_header("WWW-Authenticate", "Bearer");
    sendError(res, unauthorizedError(given));
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_logger([&s](const httplib::Request &req, const httplib::Response &res) {
    s.log("%s %s %d", req.method.c_str(), req.path.c_str(), res.status);
  });
  for (const char *prefix : {"/v1", ""}) {
    std::string p = prefix;
    http.Post(p + "/completions", [&s](const httplib::Request &req, httplib::Response &res) {
      s.complete(req, res, false);
    });
    http.Post(p + "/chat/completions", [&s](const httplib::Request &req, httplib::Response &res) {
      s.complete(req, res, true);
    });
    http.Post(p + "/embeddings", [&s](const httplib::Request &req, httplib::Response &res) {
      s.embed(req, res);
    });
    http.Get(p + "/models", [&s](const httplib::Request &, httplib::Response &res) {
      res.set_content(modelsJson(s.name, s.created), "application/json");
    });
    for (const char *post : {"/completions", "/chat/completions", "/embeddings"})
      http.Get(p + post, [](const httplib::Request &req, httplib::Response &res) {
        res.set_header("Allow", "POST");
        sendError(res, {405, "Method Not Allowed: " + req.path + " takes POST requests.",
                        "invalid_request_error", "", "method_not_allowed"});
      });
  }
  http.Post("/tokenize", [&s](const httplib::Request &req, httplib::Response &res) {
    s.tokenize(req, res);
  });
  http.Post("/detokenize", [&s](const httplib::Request &req, httplib::Response &res) {
    s.detokenize(req, res);
  });
  http.Get("/health", [&s](const httplib::Request &, httplib::Response &res) {
    Scheduler::Load load = s.scheduler->load();
    char body[160];
    snprintf(body, sizeof body,
             "{\"status\":\"ok\",\"slots_idle\":%zu,\"slots_processing\":%zu,"
             "\"requests_waiting\":%zu}",
             load.slots - load.busy, load.busy, load.waiting);
    res.set_content(body, "application/json");
  });

  http.Get("/metrics", [&s](const httplib::Request &, httplib::Response &res) {
    HttpCounters counters{s.refusedBusy.load(), s.unauthorized.load(), heapInUse()};
    res.set_content(metricsText(s.scheduler->metrics(), counters),
                    "text/plain; version=0.0.4; charset=utf-8");
  });

  int port = static_cast<int>(c->port);
  if (port == 0)
    port = http.bind_to_any_port(c->host);
  else if (!http.bind_to_port(c->host, port))
    port = -1;
  if (port <= 0) {
    fprintf(stderr, "%s: error: cannot listen on %s:%lld: %s\n", program, c->host, c->port,
            strerror(errno));
    return 1;
  }
  printf("listening on http://%s:%d (%s; %lld session%s of %lld positions, %lld may wait)\n",
         c->host, port, s.name.c_str(), c->parallel, c->parallel == 1 ? "" : "s",
         static_cast<long long>(s.context), c->queue);
  fflush(stdout);

  std::thread stopper([&] {
    int signal = 0;
    sigwait(&stopSignals, &signal);
    s.log("%s: stopping", strsignal(signal));
    s.scheduler->stop(); // every request in flight ends with an error
    http.stop();
  });
  bool served = http.listen_after_bind();
  if (!served) {
    // listen failed rather than stopped: wake the stopper.
    pthread_kill(stopper.native_handle(), SIGTERM);
  }
  stopper.join();
  s.scheduler.reset();
  return served ? 0 : 1;
}
