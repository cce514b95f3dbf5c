// metrics_text.cpp - see metrics_text.h.
#include "metrics_text.h"

#include <cstdio>

namespace tern::server {

namespace {

void metric(std::string &out, const char *name, const char *type, const char *help,
            double value) {
  char line[512];
  snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n%s %.10g\n", name, help, name, type,
           name, value);
  out += line;
}

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

} // namespace

std::string metricsText(const Scheduler::Metrics &m, const HttpCounters &http) {
  std::string out;
  auto d = [](auto v) { return static_cast<double>(v); };
  metric(out, "llamacpp:prompt_tokens_total", "counter", "Prompt tokens evaluated.",
         d(m.promptTokens));
  metric(out, "llamacpp:prompt_seconds_total", "counter",
         "Forward-call time spent on prompt tokens.", m.promptSeconds);
  metric(out, "llamacpp:tokens_predicted_total", "counter", "Tokens generated.",
         d(m.predictedTokens));
  metric(out, "llamacpp:tokens_predicted_seconds_total", "counter",
         "Forward-call time spent on generated tokens.", m.predictedSeconds);
  metric(out, "llamacpp:n_decode_total", "counter", "Forward calls.", d(m.decodeCalls));
  metric(out, "llamacpp:n_busy_slots_per_decode", "gauge",
         "Average sessions per forward call (continuous batching).",
         ratio(d(m.busySlotsInCalls), d(m.decodeCalls)));
  metric(out, "llamacpp:prompt_tokens_seconds", "gauge",
         "Average prompt throughput in tokens/s.", ratio(d(m.promptTokens), m.promptSeconds));
  metric(out, "llamacpp:predicted_tokens_seconds", "gauge",
         "Average generation throughput in tokens/s.",
         ratio(d(m.predictedTokens), m.predictedSeconds));
  metric(out, "llamacpp:kv_cache_usage_ratio", "gauge",
         "Share of the sessions' KV-cache positions in use (1 is full).",
         ratio(d(m.cachedPositions), d(m.capacityPositions)));
  metric(out, "llamacpp:kv_cache_tokens", "gauge", "KV-cache positions in use.",
         d(m.cachedPositions));
  metric(out, "llamacpp:requests_processing", "gauge", "Requests generating.",
         d(m.load.busy));
  metric(out, "llamacpp:requests_deferred", "gauge", "Requests waiting for a session.",
         d(m.load.waiting));
  metric(out, "tern_requests_served_total", "counter",
         "Requests that ended (answered, failed or cancelled).", d(m.requestsServed));
  metric(out, "tern_requests_refused_total", "counter",
         "Requests refused with 503 server_busy (every session busy, the queue full).",
         d(http.refusedBusy));
  metric(out, "tern_requests_unauthorized_total", "counter",
         "Requests refused with 401 (no or a wrong API key).", d(http.unauthorized));
  metric(out, "tern_heap_in_use_bytes", "gauge",
         "Bytes of the C heap in use (allocated and not freed).", d(http.heapInUse));
  metric(out, "tern_sessions", "gauge", "Sessions (--parallel).", d(m.load.slots));
  metric(out, "tern_queue_limit", "gauge", "Requests that may wait (--queue).", d(m.load.queue));
  return out;
}

} // namespace tern::server
