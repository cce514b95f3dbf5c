// metrics_text.h - GET /metrics: the scheduler's counters in Prometheus' text format, under
// llama-server's metric names (so its dashboards and alerts work unchanged), plus tern's own.
#ifndef TERN_SERVER_METRICS_TEXT_H
#define TERN_SERVER_METRICS_TEXT_H

#include "scheduler.h"

#include <cstdint>
#include <string>

namespace tern::server {

/// Counted by the HTTP layer (the scheduler never sees these requests).
struct HttpCounters {
  uint64_t refusedBusy = 0;   // 503 server_busy: every session busy and the queue full
  uint64_t unauthorized = 0;  // 401: no or a wrong API key
};

/// The exposition text (version 0.0.4): # HELP and # TYPE before each metric.
std::string metricsText(const Scheduler::Metrics &m, const HttpCounters &http);

} // namespace tern::server

#endif
