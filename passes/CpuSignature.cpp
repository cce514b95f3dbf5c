//===- CpuSignature.cpp - which CPU a tuning database was measured on -------------------------===//
#include "passes/CpuSignature.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

using namespace mlir::tern;

namespace {

/// The features any of tern's kernels (library or generated) may use.
const char *const kFeatures[] = {"avx2",       "fma",        "f16c",      "avx512f",
                                 "avx512bw",   "avx512vl",   "avx512dq",  "avx512vnni",
                                 "avx512vbmi", "avx512bf16", "avxvnni",   "neon",
                                 "dotprod",    "i8mm",       "sve",       "sve2"};

/// "key : value" lines of /proc/cpuinfo, first occurrence of each key.
llvm::StringMap<std::string> cpuinfo() {
  llvm::StringMap<std::string> fields;
  auto file = llvm::MemoryBuffer::getFileAsStream("/proc/cpuinfo");
  if (!file)
    return fields;
  llvm::SmallVector<llvm::StringRef> lines;
  (*file)->getBuffer().split(lines, '\n');
  for (llvm::StringRef line : lines) {
    auto [key, value] = line.split(':');
    key = key.trim();
    if (!key.empty() && !fields.count(key))
      fields[key] = value.trim().str();
  }
  return fields;
}

int64_t number(llvm::StringRef text) {
  int64_t v = -1;
  if (text.starts_with_insensitive("0x") ? text.drop_front(2).getAsInteger(16, v)
                                         : text.getAsInteger(10, v))
    return -1;
  return v;
}

/// Data and unified cache sizes by level, from CPUID's deterministic cache parameters (Intel
/// leaf 4, AMD leaf 0x8000001D; the same format) or Linux's sysfs.
void caches(CpuSignature &s) {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  unsigned leaf = s.vendor == "AuthenticAMD" ? 0x8000001D : 4;
  for (unsigned i = 0; i < 8; ++i) {
    if (!__get_cpuid_count(leaf, i, &a, &b, &c, &d))
      break;
    unsigned type = a & 31, level = (a >> 5) & 7;
    if (type == 0)
      break;
    if (type == 2) // instruction cache
      continue;
    int64_t size = int64_t((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) *
                   (int64_t(c) + 1);
    (level == 1 ? s.l1d : level == 2 ? s.l2 : s.l3) = size;
  }
  // AMD's older leaves where a hypervisor hides the deterministic ones: L1d KB in
  // 0x80000005 ECX[31:24], L2 KB in 0x80000006 ECX[31:16], L3 in 512 KB units in EDX[31:18].
  if (s.l1d + s.l2 + s.l3 == 0 && s.vendor == "AuthenticAMD") {
    if (__get_cpuid(0x80000005, &a, &b, &c, &d))
      s.l1d = int64_t(c >> 24) * 1024;
    if (__get_cpuid(0x80000006, &a, &b, &c, &d)) {
      s.l2 = int64_t(c >> 16) * 1024;
      s.l3 = int64_t(d >> 18) * 512 * 1024;
    }
  }
#endif
  for (unsigned i = 0; i < 8 && s.l1d + s.l2 + s.l3 == 0; ++i) {
    std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    auto level = llvm::MemoryBuffer::getFileAsStream(dir + "level");
    auto type = llvm::MemoryBuffer::getFileAsStream(dir + "type");
    auto size = llvm::MemoryBuffer::getFileAsStream(dir + "size");
    if (!level || !type || !size)
      break;
    if ((*type)->getBuffer().trim() == "Instruction")
      continue;
    llvm::StringRef text = (*size)->getBuffer().trim();
    int64_t kb = number(text.drop_back(text.ends_with("K") ? 1 : 0));
    int64_t l = number((*level)->getBuffer().trim());
    if (kb > 0)
      (l == 1 ? s.l1d : l == 2 ? s.l2 : s.l3) = kb * 1024;
  }
}

std::string kilobytes(int64_t bytes) { return std::to_string(bytes / 1024) + "K"; }

} // namespace

CpuSignature CpuSignature::host() {
  CpuSignature s;
  llvm::StringMap<std::string> info = cpuinfo();
  if (info.count("vendor_id")) {
    s.vendor = info["vendor_id"];
    s.family = number(info["cpu family"]);
    s.model = number(info["model"]);
    s.name = info["model name"];
  } else {
    s.vendor = info.count("CPU implementer") ? "arm-implementer-" + info["CPU implementer"]
                                             : "unknown";
    s.family = number(info["CPU architecture"]);
    s.model = number(info["CPU part"]);
    s.name = llvm::sys::getHostCPUName().str();
  }
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  for (const char *f : kFeatures)
    if (features.lookup(f))
      s.features.push_back(f);
  std::sort(s.features.begin(), s.features.end());
  caches(s);
  return s;
}

std::string CpuSignature::key() const {
  return llvm::formatv("{0} family {1} model {2} [{3}] L1d {4} L2 {5} L3 {6}", vendor, family,
                       model, llvm::join(features, " "), kilobytes(l1d), kilobytes(l2),
                       kilobytes(l3))
      .str();
}

llvm::json::Value CpuSignature::toJSON() const {
  llvm::json::Array fs;
  for (const std::string &f : features)
    fs.push_back(f);
  return llvm::json::Object{{"signature", key()},
                            {"vendor", vendor},
                            {"name", name},
                            {"family", family},
                            {"model", model},
                            {"features", std::move(fs)},
                            {"caches", llvm::json::Object{{"l1d", l1d}, {"l2", l2}, {"l3", l3}}}};
}

llvm::Expected<CpuSignature> CpuSignature::fromJSON(const llvm::json::Value &value) {
  auto fail = [](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "cpu: " + message);
  };
  const llvm::json::Object *o = value.getAsObject();
  if (!o)
    return fail("expected an object (vendor, family, model, features, caches)");
  CpuSignature s;
  std::optional<llvm::StringRef> vendor = o->getString("vendor");
  std::optional<int64_t> family = o->getInteger("family"), model = o->getInteger("model");
  const llvm::json::Array *features = o->getArray("features");
  if (!vendor || !family || !model || !features)
    return fail("needs \"vendor\" (a string), \"family\" and \"model\" (integers) and "
                "\"features\" (an array of strings)");
  s.vendor = vendor->str(), s.family = *family, s.model = *model;
  if (std::optional<llvm::StringRef> name = o->getString("name"))
    s.name = name->str();
  for (const llvm::json::Value &f : *features) {
    std::optional<llvm::StringRef> text = f.getAsString();
    if (!text)
      return fail("features must be strings");
    s.features.push_back(text->str());
  }
  std::sort(s.features.begin(), s.features.end());
  if (const llvm::json::Object *c = o->getObject("caches")) {
    s.l1d = c->getInteger("l1d").value_or(0);
    s.l2 = c->getInteger("l2").value_or(0);
    s.l3 = c->getInteger("l3").value_or(0);
  }
  return s;
}
