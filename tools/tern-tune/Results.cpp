//===- Results.cpp - what a tuning run measured, and what it decides --------------------------===//
#include "tools/tern-tune/Results.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>

using namespace tern::tune;
using mlir::tern::MadSchedule;
using mlir::tern::TuningEntry;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static llvm::json::Object scheduleJSON(const Candidate &c) {
  llvm::json::Object o;
  for (const auto &[k, v] : scheduleParams(c))
    o[k] = v;
  return o;
}

llvm::Error tern::tune::appendJournal(llvm::StringRef path, llvm::StringRef cpuKey,
                                      llvm::StringRef target, const GroupResult &g) {
  llvm::json::Array candidates;
  for (const Candidate &c : g.candidates) {
    llvm::json::Object o{{"name", c.name},       {"family", c.family}, {"source", c.source},
                         {"variant", c.variant}, {"us", c.us},         {"rounds", c.rounds},
                         {"default", c.isDefault}};
    if (c.source == "generated")
      o["params"] = scheduleJSON(c);
    candidates.push_back(std::move(o));
  }
  llvm::json::Object line{{"cpu", cpuKey},       {"target", target},
                          {"rows", g.rows},      {"cols", g.cols},
                          {"bucket", g.bucket},  {"default_us", g.defaultUs},
                          {"candidates", std::move(candidates)}};
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_Append);
  if (ec)
    return fail(path + ": " + ec.message());
  out << llvm::json::Value(std::move(line)) << "\n";
  return llvm::Error::success();
}

llvm::Expected<std::vector<GroupResult>>
tern::tune::readJournal(llvm::StringRef path, llvm::StringRef cpuKey, llvm::StringRef target) {
  std::vector<GroupResult> groups;
  auto text = llvm::MemoryBuffer::getFile(path);
  if (!text)
    return groups; // nothing measured yet
  llvm::SmallVector<llvm::StringRef> lines;
  (*text)->getBuffer().split(lines, '\n', -1, false);
  for (size_t i = 0; i < lines.size(); ++i) {
    llvm::StringRef line = lines[i];
    auto bad = [&](const llvm::Twine &why) {
      return fail(path + ":" + llvm::Twine(i + 1) + ": " + why +
                  " (delete the journal or pass --fresh to start over)");
    };
    llvm::Expected<llvm::json::Value> value = llvm::json::parse(line);
    if (!value)
      return bad("not JSON (" + llvm::toString(value.takeError()) + ")");
    const llvm::json::Object *o = value->getAsObject();
    if (!o)
      return bad("expected an object");
    if (o->getString("cpu") != std::optional<llvm::StringRef>(cpuKey) ||
        o->getString("target") != std::optional<llvm::StringRef>(target))
      continue;
    GroupResult g;
    std::optional<int64_t> rows = o->getInteger("rows"), cols = o->getInteger("cols"),
                           bucket = o->getInteger("bucket");
    const llvm::json::Array *candidates = o->getArray("candidates");
    if (!rows || !cols || !bucket || !candidates || candidates->empty())
      return bad("needs rows, cols, bucket and candidates");
    g.rows = *rows, g.cols = *cols, g.bucket = *bucket;
    g.defaultUs = o->getNumber("default_us").value_or(0);
    for (const llvm::json::Value &v : *candidates) {
      const llvm::json::Object *c = v.getAsObject();
      if (!c)
        return bad("a candidate is not an object");
      Candidate cand;
      cand.name = c->getString("name").value_or("").str();
      cand.family = c->getString("family").value_or("").str();
      cand.source = c->getString("source").value_or("").str();
      cand.variant = c->getString("variant").value_or("").str();
      cand.us = c->getNumber("us").value_or(0);
      cand.rounds = int(c->getInteger("rounds").value_or(0));
      cand.isDefault = c->getBoolean("default").value_or(false);
      if (const llvm::json::Object *p = c->getObject("params")) {
        std::map<std::string, int64_t> params;
        for (const auto &[k, v] : *p)
          if (std::optional<int64_t> i = v.getAsInteger())
            params[k.str()] = *i;
        setScheduleParams(cand, params);
      }
      if (cand.name.empty() || cand.family.empty() || cand.us <= 0)
        return bad("a candidate needs a name, a family and a positive time");
      g.candidates.push_back(std::move(cand));
    }
    // A group measured twice (a resumed run that re-measured it): the later line wins.
    llvm::erase_if(groups, [&](const GroupResult &old) {
      return old.rows == g.rows && old.cols == g.cols && old.bucket == g.bucket;
    });
    groups.push_back(std::move(g));
  }
  return groups;
}

std::vector<TuningEntry> tern::tune::decide(const std::vector<GroupResult> &groups) {
  std::vector<TuningEntry> entries;
  std::map<std::pair<int64_t, int64_t>, std::vector<const GroupResult *>> byShape;
  for (const GroupResult &g : groups)
    byShape[{g.rows, g.cols}].push_back(&g);
  for (auto &entry : byShape) {
    const std::vector<const GroupResult *> &list = entry.second;
    // A weight has one packing for every bucket: the family (and, within mad_i2, generated or
    // library) is the decode bucket's winner's (the first bucket's without decode). Only the
    // final round's winner is compared: the other candidates' times are from earlier, shorter
    // rounds and do not compare with it.
    const GroupResult *lead = list.front();
    for (const GroupResult *g : list)
      if (g->bucket == 1)
        lead = g;
    const Candidate &chosen = lead->best();
    auto base = [&](const GroupResult *g) {
      TuningEntry e;
      e.op = "tern.bitlinear";
      e.rows = g->rows, e.cols = g->cols;
      e.family = chosen.family, e.variant = chosen.variant, e.source = chosen.source;
      e.defaultUs = g->defaultUs;
      e.candidates = int64_t(g->candidates.size());
      return e;
    };
    if (chosen.source != "generated") {
      // One library kernel for every bucket.
      TuningEntry e = base(lead);
      e.timeUs = chosen.us;
      entries.push_back(std::move(e));
      continue;
    }
    for (const GroupResult *g : list) {
      // Each bucket's winner if it is generated; else (a library kernel won this bucket) the
      // default schedule, which the final round measured against it.
      // Only schedules of the chosen family: the weight is packed once, for it.
      const Candidate &winner = g->best();
      const Candidate *best = winner.source == "generated" && winner.family == chosen.family
                                  ? &winner
                                  : nullptr;
      for (const Candidate &c : g->candidates)
        if (!best && c.isDefault && c.source == "generated" && c.family == chosen.family)
          best = &c;
      if (!best)
        continue; // no generated schedule measured: the heuristics fill this bucket
      TuningEntry e = base(g);
      e.bucket = g->bucket;
      e.variant = best->variant;
      e.params = scheduleParams(*best);
      e.timeUs = best->us;
      entries.push_back(std::move(e));
    }
  }
  return entries;
}

/// The candidate's label in the reports.
static std::string label(const Candidate &c) {
  if (c.source == "library")
    return c.family + " library (" + c.variant + ")";
  if (c.family != "mad_i2")
    return llvm::formatv("generated {0}: row_blocks {1}, blocks {2}, group {3}", c.family,
                         c.lut.rowBlocks, c.lut.blocksPerTask, c.lut.tokenGroup)
        .str();
  const MadSchedule &s = c.schedule;
  return llvm::formatv("generated: row_tiles {0}, blocks {1}, group {2}, unroll {3}, "
                       "prefetch {4}",
                       s.rowTiles, s.blocksPerTask, s.tokenGroup, s.unroll, s.prefetch)
      .str();
}

llvm::Error tern::tune::writeReports(llvm::StringRef dbPath,
                                     const std::vector<GroupResult> &groups,
                                     const std::vector<TuningEntry> &entries,
                                     llvm::StringRef cpuKey, llvm::StringRef target) {
  std::string stem = dbPath.ends_with(".json") ? dbPath.drop_back(5).str() : dbPath.str();
  std::vector<const GroupResult *> sorted;
  for (const GroupResult &g : groups)
    sorted.push_back(&g);
  std::sort(sorted.begin(), sorted.end(), [](const GroupResult *a, const GroupResult *b) {
    return std::tie(a->rows, a->cols, a->bucket) < std::tie(b->rows, b->cols, b->bucket);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream md(stem + ".report.md", ec);
    if (ec)
      return fail(stem + ".report.md: " + ec.message());
    md << "# Tuning report\n\nCPU: " << cpuKey << "  \ntarget: " << target << "\n\n"
       << "Per weight shape (rows x cols) and batch bucket (tokens per call): the default's "
          "time per call (what ternc uses without a database), the best candidate's, and the "
          "best one. Times are medians measured in the same process.\n\n"
       << "| shape | bucket | candidates | default µs | best µs | speedup | best |\n"
       << "| --- | ---: | ---: | ---: | ---: | ---: | --- |\n";
    for (const GroupResult *g : sorted)
      md << llvm::formatv("| {0}x{1} | {2} | {3} | {4:f2} | {5:f2} | {6:f2}x | {7} |\n",
                          g->rows, g->cols, g->bucket, g->candidates.size(), g->defaultUs,
                          g->best().us, g->defaultUs / g->best().us, label(g->best()));
    md << "\nChosen (the database's entries):\n\n| shape | bucket | kernel |\n| --- | ---: | --- "
          "|\n";
    for (const TuningEntry &e : entries) {
      std::string params;
      for (const auto &[k, v] : e.params)
        params += (params.empty() ? "" : ", ") + k + " " + std::to_string(v);
      md << llvm::formatv("| {0}x{1} | {2} | {3} {4} {5}{6} |\n", *e.rows, *e.cols,
                          e.bucket ? std::to_string(*e.bucket) : std::string("all"), e.family,
                          e.source, e.variant, params.empty() ? "" : ": " + params);
    }
  }
  // Every candidate's time over the default's, one column per (shape, bucket); log scale.
  std::error_code ec;
  llvm::raw_fd_ostream svg(stem + ".svg", ec);
  if (ec)
    return fail(stem + ".svg: " + ec.message());
  const int left = 70, top = 40, plotH = 320, colW = 46;
  int width = left + colW * int(sorted.size()) + 30, height = top + plotH + 130;
  double lo = 0.25, hi = 4.0; // ratio range shown (log2 -2 .. 2)
  auto y = [&](double ratio) {
    double r = std::clamp(ratio, lo, hi);
    return top + plotH * (std::log2(hi) - std::log2(r)) / (std::log2(hi) - std::log2(lo));
  };
  svg << llvm::formatv("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                       "font-family=\"sans-serif\" font-size=\"11\">\n",
                       width, height);
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << llvm::formatv("<text x=\"{0}\" y=\"20\" font-size=\"13\">tern-tune: every candidate's "
                       "time / the default's (lower is faster), per shape and bucket</text>\n",
                       left);
  for (double r : {0.25, 0.5, 1.0, 2.0, 4.0}) {
    svg << llvm::formatv("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:f1}\" y2=\"{2:f1}\" stroke=\"{3}\"/>"
                         "<text x=\"{4}\" y=\"{5:f1}\" text-anchor=\"end\">{6}x</text>\n",
                         left, width - 20, y(r), r == 1.0 ? "#444" : "#ddd", left - 6,
                         y(r) + 4, r);
  }
  for (auto [i, g] : llvm::enumerate(sorted)) {
    double x = left + colW * (double(i) + 0.5);
    for (const Candidate &c : g->candidates) {
      const char *color = c.source == "library"
                              ? (c.family == "mad_i2" ? "#d62728" : "#ff7f0e")
                              : (c.family == "mad_i2" ? "#1f77b4" : "#2ca02c");
      svg << llvm::formatv("<circle cx=\"{0:f1}\" cy=\"{1:f1}\" r=\"2.5\" fill=\"{2}\" "
                           "fill-opacity=\"0.6\"><title>{3}: {4:f2} us</title></circle>\n",
                           x + (double(std::hash<std::string>{}(c.name) % 17) - 8.0), y(c.us / g->defaultUs),
                           color, label(c), c.us);
    }
    svg << llvm::formatv("<text transform=\"translate({0:f1},{1}) rotate(60)\">{2}x{3} "
                         "t{4}</text>\n",
                         x - 4, top + plotH + 8, g->rows, g->cols, g->bucket);
  }
  svg << llvm::formatv("<text x=\"{0}\" y=\"{1}\"><tspan fill=\"#1f77b4\">● generated "
                       "mad_i2</tspan>  <tspan fill=\"#2ca02c\">● generated lookup-table</tspan>  "
                       "<tspan fill=\"#d62728\">● mad_i2 library</tspan>  "
                       "<tspan fill=\"#ff7f0e\">● lookup-table library</tspan></text>\n",
                       left, height - 10);
  svg << "</svg>\n";
  return llvm::Error::success();
}
