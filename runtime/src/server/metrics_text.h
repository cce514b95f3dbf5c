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
  // The C heap's bytes in use (glibc's mallinfo2: arenas and mapped blocks), what a leak grows;
  // the resident size also grows as each HTTP thread first runs (its stack, its arena's pages).
  uint64_t heapInUse = 0;
};

/// The exposition text (version 0.0.4): # HELP and # TYPE before each metric.
std::string metricsText(const Scheduler::Metrics &m, const HttpCounters &http);

} // namespace tern::server

#endif
