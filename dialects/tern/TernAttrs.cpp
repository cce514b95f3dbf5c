//===- TernAttrs.cpp - tern enums and attributes ----------------------------------------------===//
#include "dialects/tern/TernDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tern;

#include "dialects/tern/TernEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tern/TernAttrs.cpp.inc"

//===------------------------------------------------------------------------------------------===//
// LayoutAttr
//===------------------------------------------------------------------------------------------===//

static int64_t groupSizeOf(WeightFormat format) {
  switch (format) {
  case WeightFormat::i2:
    return 1;
  case WeightFormat::tl1:
    return 2;
  case WeightFormat::tl2:
    return 3;
  case WeightFormat::q8_0:
  case WeightFormat::q6_k:
    return 1;
  }
  llvm_unreachable("unknown WeightFormat");
}

int64_t LayoutAttr::getGroupSize() const { return groupSizeOf(getFormat()); }

double LayoutAttr::getBitsPerWeight() const {
  switch (getFormat()) {
  case WeightFormat::i2:
  case WeightFormat::tl1: // a 4-bit index per pair of weights
    return 2.0;
  case WeightFormat::tl2: // a 4-bit index and a sign bit per triple of weights
    return 5.0 / 3.0;
  case WeightFormat::q8_0: // an int8 per weight and a half per 32
    return 8.5;
  case WeightFormat::q6_k: // 6 bits per weight, an int8 per 16 and a half per 256
    return 6.0 + 8.0 / 16 + 16.0 / 256;
  }
  llvm_unreachable("unknown WeightFormat");
}

LogicalResult LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 WeightFormat format, int64_t tileN, int64_t tileK) {
  if (tileN <= 0)
    return emitError() << "tile_n of a #tern.layout must be positive, found " << tileN;
  if (tileK <= 0)
    return emitError() << "tile_k of a #tern.layout must be positive, found " << tileK;
  if (format == WeightFormat::q8_0 && (tileN != 16 || tileK != 32))
    return emitError() << "a q8_0 layout has tile_n = 16 and tile_k = 32, found tile_n = " << tileN
                       << ", tile_k = " << tileK;
  if (format == WeightFormat::q6_k && (tileN != 16 || tileK != 256))
    return emitError() << "a q6_k layout has tile_n = 16 and tile_k = 256, found tile_n = "
                       << tileN << ", tile_k = " << tileK;
  int64_t group = groupSizeOf(format);
  if (tileK % group != 0)
    return emitError() << "tile_k of a " << stringifyWeightFormat(format)
                       << " layout must be a multiple of its group size " << group << ", found "
                       << tileK;
  return success();
}

void TernDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/tern/TernAttrs.cpp.inc"
      >();
}

//===------------------------------------------------------------------------------------------===//
// KernelAttr
//===------------------------------------------------------------------------------------------===//

LogicalResult KernelAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringAttr family,
                                 StringAttr variant, DictionaryAttr params) {
  static const char *const kFamilies[] = {"mad_i2", "lut_tl1", "lut_tl2", "decoder", "generic"};
  if (!llvm::is_contained(kFamilies, family.getValue()))
    return emitError() << "unknown kernel family '" << family.getValue()
                       << "'; expected mad_i2, lut_tl1, lut_tl2, decoder or generic";
  if (variant.getValue().empty())
    return emitError() << "the kernel variant must not be empty";
  // Batch-bucket schedules of a generated kernel (docs/tuning.md): t1 (decode), t8, t32, t128,
  // t512, each with its generator's GeneratorParams in their ranges (gemm_i2 for mad_i2,
  // gemm_lut for the lookup-table families).
  struct Range {
    const char *key;
    int64_t lo, hi;
    bool powerOfTwo;
  };
  static const Range kMadRanges[] = {{"row_tiles", 1, 4, true},
                                     {"blocks_per_task", 1, 64, false},
                                     {"token_group", 1, 8, false},
                                     {"unroll", 1, 8, true},
                                     {"prefetch", 0, 64, false}};
  static const Range kLutRanges[] = {
      {"row_blocks", 1, 4, true}, {"blocks_per_task", 1, 64, false}, {"token_group", 1, 8, false}};
  bool mad = family.getValue() == "mad_i2", lut = family.getValue().starts_with("lut_");
  ArrayRef<Range> ranges = mad ? ArrayRef<Range>(kMadRanges) : ArrayRef<Range>(kLutRanges);
  const char *keys = mad ? "row_tiles, blocks_per_task, token_group, unroll or prefetch"
                         : "row_blocks, blocks_per_task or token_group";
  bool buckets = false, decode = false;
  for (NamedAttribute param : params) {
    StringRef name = param.getName().getValue();
    auto dict = dyn_cast<DictionaryAttr>(param.getValue());
    if (!dict)
      continue;
    static const char *const kBuckets[] = {"t1", "t8", "t32", "t128", "t512"};
    if ((!mad && !lut) || !llvm::is_contained(kBuckets, name))
      return emitError() << "kernel parameter '" << name
                         << "' is a schedule dictionary, which only generated mad_i2, lut_tl1 "
                            "and lut_tl2 kernels take, named t1, t8, t32, t128 or t512";
    buckets = true;
    decode |= name == "t1";
    for (NamedAttribute knob : dict) {
      StringRef key = knob.getName().getValue();
      auto value = dyn_cast<IntegerAttr>(knob.getValue());
      const Range *range = llvm::find_if(ranges, [&](const Range &r) { return key == r.key; });
      if (range == ranges.end())
        return emitError() << "unknown " << family.getValue() << " schedule parameter '" << key
                           << "' in " << name << "; expected " << keys;
      int64_t v = value ? value.getInt() : -1;
      if (!value || v < range->lo || v > range->hi ||
          (range->powerOfTwo && !llvm::isPowerOf2_64(uint64_t(v))))
        return emitError() << name << "." << key << " must be an integer in [" << range->lo
                           << ", " << range->hi << "]" << (range->powerOfTwo ? ", a power of 2" : "")
                           << ", found " << knob.getValue();
      if (name == "t1" && key == "token_group" && v != 1)
        return emitError() << "t1 is the decode schedule: its token_group must be 1, found " << v;
    }
  }
  if (buckets && !decode)
    return emitError() << "a generated " << family.getValue()
                       << " kernel needs the decode schedule t1 (calls of few tokens run it)";
  return success();
}

std::optional<WeightFormat> KernelAttr::getWeightFormat() const {
  StringRef family = getFamily().getValue();
  if (family == "mad_i2")
    return WeightFormat::i2;
  if (family == "lut_tl1")
    return WeightFormat::tl1;
  if (family == "lut_tl2")
    return WeightFormat::tl2;
  return std::nullopt;
}
