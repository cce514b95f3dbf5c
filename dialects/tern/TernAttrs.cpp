//===- TernAttrs.cpp - tern enums and attributes ----------------------------------------------===//
#include "dialects/tern/TernDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

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
