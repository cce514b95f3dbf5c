//===- TernaryScales.cpp - ternary matrices and the coarsest exact scale ----------------------===//
#include "frontends/common/TernaryScales.h"

#include "dialects/tern/TernDialect.h"
#include "dialects/weights/TernaryCodec.h"

#include "llvm/ADT/DenseMap.h"

#include <cstring>

using namespace tern;

std::optional<CoarsestScale>
tern::coarsestScale(const int8_t *values, int64_t n, int64_t k, int64_t blockCols,
                    llvm::function_ref<float(int64_t, int64_t)> scaleAt) {
  int64_t blocks = (k + blockCols - 1) / blockCols;
  std::vector<char> nonzero(size_t(n * blocks), 0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int8_t *p = values + r * k + blk * blockCols;
      int8_t any = 0;
      for (int64_t j = 0, len = std::min(blockCols, k - blk * blockCols); j < len; ++j)
        any |= p[j];
      nonzero[size_t(r * blocks + blk)] = any != 0;
    }
  // groupOf(r, blk) -> group index; the scales of a group's nonzero blocks must all be equal.
  auto uniform = [&](auto groupOf) {
    llvm::DenseMap<int64_t, float> seen;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        if (!nonzero[size_t(r * blocks + blk)])
          continue;
        auto [it, fresh] = seen.try_emplace(groupOf(r, blk), scaleAt(r, blk));
        if (!fresh && it->second != scaleAt(r, blk))
          return std::optional<llvm::DenseMap<int64_t, float>>();
      }
    return std::optional<llvm::DenseMap<int64_t, float>>(std::move(seen));
  };
  CoarsestScale out;
  if (auto all = uniform([](int64_t, int64_t) { return 0; })) {
    out.shape = {1};
    out.values = {all->count(0) ? (*all)[0] : 1.0f};
    return out;
  }
  if (auto rows = uniform([](int64_t r, int64_t) { return r; })) {
    out.shape = {n};
    for (int64_t r = 0; r < n; ++r)
      out.values.push_back(rows->count(r) ? (*rows)[r] : 1.0f);
    return out;
  }
  for (int64_t g : {256, 128, 64}) { // the coarsest first
    if (g % blockCols || k % g)
      continue;
    int64_t per = g / blockCols, groups = k / g;
    auto grouped = uniform([&](int64_t r, int64_t blk) { return r * groups + blk / per; });
    if (!grouped)
      continue;
    out.shape = {n, groups};
    for (int64_t i = 0; i < n * groups; ++i)
      out.values.push_back(grouped->count(i) ? (*grouped)[i] : 1.0f);
    return out;
  }
  return std::nullopt;
}

std::pair<StoredTensor, std::vector<uint8_t>>
tern::ternaryTensor(std::string name, std::string origin, const int8_t *values, int64_t n,
                    int64_t k) {
  StoredTensor t;
  t.name = std::move(name);
  t.shape = {n, k};
  t.origin = std::move(origin);
  std::vector<uint8_t> bytes;
  if (n % 4 == 0) {
    t.dtype = DType::U8;
    t.encoding = TensorEncoding::TernaryHFPacked;
    bytes.resize(size_t(n / 4 * k));
    encodeHFPacked(values, n, k, bytes.data());
  } else {
    t.dtype = DType::I8;
    t.encoding = TensorEncoding::TernaryI8;
    bytes.assign(values, values + n * k);
  }
  return {std::move(t), std::move(bytes)};
}

std::pair<StoredTensor, std::vector<uint8_t>>
tern::scaleTensor(std::string name, std::string origin, const CoarsestScale &scale) {
  bool bf16 = llvm::all_of(scale.values,
                           [](float f) { return bf16ToFloat(floatToBF16(f)) == f; });
  StoredTensor t;
  t.name = std::move(name);
  t.dtype = bf16 ? DType::BF16 : DType::F32;
  t.shape.assign(scale.shape.begin(), scale.shape.end());
  t.origin = std::move(origin);
  std::vector<uint8_t> bytes;
  for (float f : scale.values) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if (bf16)
      bits >>= 16;
    for (unsigned i = 0; i < (bf16 ? 2u : 4u); ++i)
      bytes.push_back(uint8_t(bits >> (8 * i)));
  }
  return {std::move(t), std::move(bytes)};
}

llvm::Expected<LinearWeights>
tern::ternaryLinear(mlir::OpBuilder &b, mlir::Location loc, WeightStore &store,
                    const std::string &ternaryName, const std::string &scaleName,
                    const std::string &origin, const int8_t *values, int64_t rows, int64_t cols,
                    const CoarsestScale &scale) {
  auto [tensor, bytes] =
      ternaryTensor(ternaryName, "the ternary codes of " + origin, values, rows, cols);
  auto [scaleStored, scaleBytes] = scaleTensor(scaleName, "the scales of " + origin, scale);
  mlir::Type scaleType =
      scaleStored.dtype == DType::BF16 ? mlir::Type(b.getBF16Type()) : b.getF32Type();
  if (llvm::Error e = store.addDerived(std::move(tensor), std::move(bytes)))
    return std::move(e);
  if (llvm::Error e = store.addDerived(std::move(scaleStored), std::move(scaleBytes)))
    return std::move(e);
  LinearWeights w;
  w.weight = mlir::tern::WeightOp::create(
      b, loc, mlir::tern::TernaryType::get(b.getContext(), rows, cols),
      b.getStringAttr(ternaryName));
  w.scale = mlir::tern::WeightOp::create(b, loc, mlir::RankedTensorType::get(scale.shape, scaleType),
                                         b.getStringAttr(scaleName));
  w.mode = mlir::tern::ScaleMode::multiply;
  return w;
}
