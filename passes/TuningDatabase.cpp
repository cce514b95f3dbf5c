//===- TuningDatabase.cpp - tern-tune's results, read by tern-select-kernels ------------------===//
#include "passes/TuningDatabase.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::tern;

static const int64_t kBuckets[] = {1, 8, 32, 128, 512};

llvm::Expected<TuningDatabase> TuningDatabase::load(llvm::StringRef path) {
  auto fail = [&](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "tuning database " + path + ": " + message);
  };
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fail("cannot read: " + buffer.getError().message());
  llvm::Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return fail("not JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root || root->getString("format") != std::optional<llvm::StringRef>("tern-tuning"))
    return fail("not a tern tuning database (expected an object with \"format\": "
                "\"tern-tuning\"; tern-tune writes them)");
  std::optional<int64_t> version = root->getInteger("version");
  if (!version || *version != kVersion)
    return fail("version " + (version ? std::to_string(*version) : std::string("?")) +
                ", this ternc reads version " + std::to_string(kVersion) +
                " (re-run tern-tune)");
  TuningDatabase db;
  const llvm::json::Value *cpu = root->get("cpu");
  if (!cpu)
    return fail("no \"cpu\" (the signature of the CPU it was measured on)");
  llvm::Expected<CpuSignature> signature = CpuSignature::fromJSON(*cpu);
  if (!signature)
    return fail(llvm::toString(signature.takeError()));
  db.cpu = std::move(*signature);
  std::optional<llvm::StringRef> target = root->getString("target");
  if (!target)
    return fail("no \"target\" (the ternc --target it was tuned for)");
  db.target = target->str();
  const llvm::json::Array *kernels = root->getArray("kernels");
  if (!kernels)
    return fail("expected a \"kernels\" array");
  for (auto [i, value] : llvm::enumerate(*kernels)) {
    std::string where = "kernels[" + std::to_string(i) + "]";
    const llvm::json::Object *e = value.getAsObject();
    if (!e)
      return fail(where + " must be an object");
    TuningEntry entry;
    std::optional<llvm::StringRef> op = e->getString("op"), family = e->getString("family"),
                                   variant = e->getString("variant");
    if (!op || !family || !variant)
      return fail(where + " needs \"op\", \"family\" and \"variant\" (strings)");
    entry.op = op->str(), entry.family = family->str(), entry.variant = variant->str();
    for (auto [key, slot] : {std::pair<const char *, std::optional<int64_t> *>{"rows", &entry.rows},
                             {"cols", &entry.cols},
                             {"bucket", &entry.bucket},
                             {"candidates", &entry.candidates}}) {
      if (const llvm::json::Value *v = e->get(key)) {
        std::optional<int64_t> n = v->getAsInteger();
        if (!n || *n <= 0)
          return fail(where + "." + key + " must be a positive integer");
        *slot = *n;
      }
    }
    if (entry.bucket && !llvm::is_contained(kBuckets, *entry.bucket))
      return fail(where + ".bucket must be 1, 8, 32, 128 or 512, not " +
                  std::to_string(*entry.bucket));
    if (std::optional<llvm::StringRef> source = e->getString("source"))
      entry.source = source->str();
    if (entry.source != "generated" && entry.source != "library")
      return fail(where + ".source must be \"generated\" or \"library\", not \"" +
                  entry.source + "\"");
    if (entry.source == "generated" &&
        (!llvm::is_contained({"mad_i2", "lut_tl1", "lut_tl2"}, entry.family) || !entry.bucket))
      return fail(where + ": a generated kernel is a mad_i2, lut_tl1 or lut_tl2 kernel for one "
                          "bucket (a \"family\" of those and a \"bucket\")");
    if (const llvm::json::Value *p = e->get("params")) {
      const llvm::json::Object *params = p->getAsObject();
      if (!params)
        return fail(where + ".params must be an object");
      for (const auto &[key, v] : *params) {
        std::optional<int64_t> n = v.getAsInteger();
        if (!n)
          return fail(where + ".params." + llvm::StringRef(key) + " must be an integer");
        entry.params[key.str()] = *n;
      }
    }
    entry.timeUs = e->getNumber("time_us");
    entry.defaultUs = e->getNumber("default_us");
    db.kernels.push_back(std::move(entry));
  }
  return db;
}

llvm::Error TuningDatabase::save(llvm::StringRef path) const {
  llvm::json::Array entries;
  for (const TuningEntry &e : kernels) {
    llvm::json::Object o{{"op", e.op}, {"family", e.family}, {"variant", e.variant},
                         {"source", e.source}};
    if (e.rows)
      o["rows"] = *e.rows;
    if (e.cols)
      o["cols"] = *e.cols;
    if (e.bucket)
      o["bucket"] = *e.bucket;
    llvm::json::Object params;
    for (const auto &[k, v] : e.params)
      params[k] = v;
    o["params"] = std::move(params);
    if (e.timeUs)
      o["time_us"] = *e.timeUs;
    if (e.defaultUs)
      o["default_us"] = *e.defaultUs;
    if (e.candidates)
      o["candidates"] = *e.candidates;
    entries.push_back(std::move(o));
  }
  llvm::json::Object root{{"format", "tern-tuning"},
                          {"version", kVersion},
                          {"cpu", cpu.toJSON()},
                          {"target", target},
                          {"kernels", std::move(entries)}};
  std::string temp = (path + ".tmp").str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(temp, ec);
    if (ec)
      return llvm::createStringError(ec, "%s: %s", temp.c_str(), ec.message().c_str());
    out << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path))
    return llvm::createStringError(ec, "%s: %s", path.str().c_str(), ec.message().c_str());
  return llvm::Error::success();
}
