//===- WeightStore.cpp - the compiler's tensors outside the IR --------------------------------===//
#include "dialects/weights/WeightStore.h"

#include "dialects/weights/TernaryCodec.h"

#include <algorithm>

using namespace tern;

int64_t StoredTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

void WeightStore::retain(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  buffers.push_back(std::move(buffer));
}

llvm::Error WeightStore::add(StoredTensor tensor) {
  if (const StoredTensor *existing = lookup(tensor.name))
    return llvm::createStringError("tensor '%s' is defined twice (in %s and %s)",
                                   tensor.name.c_str(), existing->origin.c_str(),
                                   tensor.origin.c_str());
  order.push_back(tensor.name);
  std::string name = tensor.name;
  tensors.try_emplace(name, std::move(tensor));
  return llvm::Error::success();
}

llvm::Error WeightStore::addDerived(StoredTensor tensor, std::vector<uint8_t> bytes) {
  derived.push_back(std::move(bytes));
  tensor.bytes = derived.back();
  owned += derived.back().size();
  return add(std::move(tensor));
}

const StoredTensor *WeightStore::lookup(llvm::StringRef name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

llvm::Error WeightStore::readTernary(llvm::StringRef name, llvm::MutableArrayRef<int8_t> out) const {
  const StoredTensor *t = lookup(name);
  if (!t)
    return llvm::createStringError("no tensor '%s' in the weight store", name.str().c_str());
  if (!t->isTernary() || t->shape.size() != 2)
    return llvm::createStringError("tensor '%s' is not a ternary matrix", name.str().c_str());
  int64_t rows = t->shape[0], cols = t->shape[1];
  if (int64_t(out.size()) != rows * cols)
    return llvm::createStringError("tensor '%s' has %lld weights; the buffer holds %zu",
                                   name.str().c_str(), (long long)(rows * cols), out.size());
  if (t->encoding == TensorEncoding::TernaryHFPacked)
    decodeHFPacked(t->bytes.data(), rows, cols, out.data());
  else
    std::copy(t->bytes.begin(), t->bytes.end(), reinterpret_cast<uint8_t *>(out.data()));
  return llvm::Error::success();
}
