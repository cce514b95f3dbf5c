//===- TernOps.cpp - tern operations: verifiers and builders ----------------------------------===//
//
// Verifier messages say what was expected and what was found. Dimensions that are dynamic (`?`)
// are accepted wherever a static size is expected to match: they are checked at run time.
//
//===------------------------------------------------------------------------------------------===//
#include "dialects/tern/TernDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>
#include <string>

using namespace mlir;
using namespace mlir::tern;

#define GET_OP_CLASSES
#include "dialects/tern/TernOps.cpp.inc"

//===------------------------------------------------------------------------------------------===//
// Helpers
//===------------------------------------------------------------------------------------------===//

static bool dimsMatch(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

static RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Fails with "expects <what> of rank <rank>, found <type>" unless `v` has rank `rank`.
static LogicalResult expectRank(Operation *op, StringRef what, Value v, int64_t rank) {
  if (tensorType(v).getRank() == rank)
    return success();
  return op->emitOpError() << "expects " << what << " of rank " << rank << ", found "
                           << v.getType();
}

/// Fails unless `v` is a rank-1 tensor with one element per token (T = `tokens`).
static LogicalResult expectPerToken(Operation *op, StringRef what, Value v, int64_t tokens) {
  if (failed(expectRank(op, what, v, 1)))
    return failure();
  int64_t n = tensorType(v).getDimSize(0);
  if (!dimsMatch(n, tokens))
    return op->emitOpError() << "expects " << what << " with one element per token (" << dimStr(tokens)
                             << "), found " << dimStr(n);
  return success();
}

/// Fails unless the [T, N] result matches T tokens and N outputs.
static LogicalResult expectLinearResult(Operation *op, Value result, int64_t tokens,
                                        int64_t outputs) {
  if (failed(expectRank(op, "a [tokens, outputs] result", result, 2)))
    return failure();
  RankedTensorType type = tensorType(result);
  if (!dimsMatch(type.getDimSize(0), tokens))
    return op->emitOpError() << "result has " << dimStr(type.getDimSize(0))
                             << " rows; expected one per input token (" << dimStr(tokens) << ")";
  if (!dimsMatch(type.getDimSize(1), outputs))
    return op->emitOpError() << "result has " << dimStr(type.getDimSize(1))
                             << " columns; expected the weight's N = " << dimStr(outputs);
  return success();
}

/// Fails unless `scale` has shape [1] (per tensor) or [rows] (per row).
static LogicalResult expectWeightScale(Operation *op, Value scale, int64_t rows,
                                       int64_t cols = ShapedType::kDynamic) {
  // Group-wise along K: [N, K / G], one scale per G consecutive weights of a row.
  if (tensorType(scale).getRank() == 2 && cols != ShapedType::kDynamic) {
    RankedTensorType t = tensorType(scale);
    int64_t groups = t.getDimSize(1);
    int64_t group = groups > 0 && cols % groups == 0 ? cols / groups : 0;
    if (!dimsMatch(t.getDimSize(0), rows) || (group != 64 && group != 128 && group != 256))
      return op->emitOpError() << "expects a group-wise weight_scale [N, K / G] with N = "
                               << dimStr(rows) << " and G = 64, 128 or 256 dividing K = "
                               << cols << ", found [" << dimStr(t.getDimSize(0)) << ", "
                               << dimStr(groups) << "]";
    return success();
  }
  if (failed(expectRank(op, "a weight_scale", scale, 1)))
    return failure();
  int64_t n = tensorType(scale).getDimSize(0);
  if (n != 1 && !dimsMatch(n, rows))
    return op->emitOpError() << "expects a weight_scale of 1 element (per tensor) or N = "
                             << dimStr(rows) << " (per row), found " << dimStr(n);
  return success();
}

static RankedTensorType f32Matrix(MLIRContext *ctx, int64_t rows, int64_t cols) {
  return RankedTensorType::get({rows, cols}, Float32Type::get(ctx));
}

//===------------------------------------------------------------------------------------------===//
// WeightOp
//===------------------------------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError() << "needs a non-empty weight-store name";
  auto tensor = dyn_cast<RankedTensorType>(getType());
  if (!tensor)
    return success(); // a ternary weight: its type verified itself
  if (!tensor.hasStaticShape())
    return emitOpError() << "weight '" << getName() << "' must have a static shape, found "
                         << tensor;
  if (!tensor.getElementType().isIntOrFloat())
    return emitOpError() << "weight '" << getName()
                         << "' must have integer or floating-point elements, found "
                         << tensor.getElementType();
  if (Attribute encoding = tensor.getEncoding()) {
    auto layout = dyn_cast<LayoutAttr>(encoding);
    bool headFormat = layout && (layout.getFormat() == WeightFormat::q8_0 ||
                                 layout.getFormat() == WeightFormat::q6_k);
    if (!headFormat || tensor.getRank() != 2 || !isa<FloatType>(tensor.getElementType()))
      return emitOpError() << "weight '" << getName()
                           << "': the only tensor encodings are #tern.layout<q8_0, ...> and "
                              "#tern.layout<q6_k, ...> on a 2-D float weight (a quantized "
                              "head), found "
                           << tensor;
  }
  return success();
}

//===------------------------------------------------------------------------------------------===//
// TernaryConstantOp
//===------------------------------------------------------------------------------------------===//

LogicalResult TernaryConstantOp::verify() {
  auto valueType = cast<ShapedType>(getValue().getType());
  TernaryType type = getType();
  if (valueType.getRank() != 2 || valueType.getDimSize(0) != type.getRows() ||
      valueType.getDimSize(1) != type.getCols())
    return emitOpError() << "value of type " << valueType << " does not have the result's shape "
                         << type.getRows() << "x" << type.getCols();
  int64_t index = 0;
  for (APInt v : getValue().getValues<APInt>()) {
    int64_t x = v.getSExtValue();
    if (x < -1 || x > 1)
      return emitOpError() << "value at [" << index / type.getCols() << ", "
                           << index % type.getCols() << "] is " << x
                           << "; a ternary weight is -1, 0 or +1";
    ++index;
  }
  return success();
}

//===------------------------------------------------------------------------------------------===//
// EmbeddingOp
//===------------------------------------------------------------------------------------------===//

void EmbeddingOp::build(OpBuilder &builder, OperationState &state, Value table, Value tokens) {
  int64_t t = tensorType(tokens).getDimSize(0);
  int64_t h = tensorType(table).getDimSize(1);
  build(builder, state, f32Matrix(builder.getContext(), t, h), table, tokens);
}

LogicalResult EmbeddingOp::verify() {
  if (failed(expectRank(*this, "a [vocab, hidden] table", getTable(), 2)) ||
      failed(expectRank(*this, "1-D token ids", getTokens(), 1)) ||
      failed(expectRank(*this, "a [tokens, hidden] result", getResult(), 2)))
    return failure();
  int64_t tokens = getTokens().getType().getDimSize(0);
  RankedTensorType result = getResult().getType();
  if (!dimsMatch(result.getDimSize(0), tokens))
    return emitOpError() << "result has " << dimStr(result.getDimSize(0))
                         << " rows; expected one per token (" << dimStr(tokens) << ")";
  int64_t hidden = getTable().getType().getDimSize(1);
  if (!dimsMatch(result.getDimSize(1), hidden))
    return emitOpError() << "result width " << dimStr(result.getDimSize(1))
                         << " does not match the table's hidden size " << dimStr(hidden);
  return success();
}

//===------------------------------------------------------------------------------------------===//
// RMSNormOp
//===------------------------------------------------------------------------------------------===//

void RMSNormOp::build(OpBuilder &builder, OperationState &state, Value input, Value weight,
                      float eps, int64_t groupSize) {
  build(builder, state, input.getType(), input, weight, builder.getF32FloatAttr(eps),
        groupSize ? builder.getI64IntegerAttr(groupSize) : IntegerAttr());
}

LogicalResult RMSNormOp::verify() {
  float eps = getEps().convertToFloat();
  if (!(eps > 0.0f) || !std::isfinite(eps))
    return emitOpError() << "eps must be positive and finite, found " << eps;
  RankedTensorType input = getInput().getType();
  if (input.getRank() < 1)
    return emitOpError() << "expects an input of rank >= 1, found " << input;
  if (failed(expectRank(*this, "a 1-D weight", getWeight(), 1)))
    return failure();
  int64_t width = input.getDimSize(input.getRank() - 1);
  if (std::optional<int64_t> group = getGroupSize()) {
    if (*group <= 0)
      return emitOpError() << "group_size must be positive, found " << *group;
    if (!ShapedType::isDynamic(width) && width % *group != 0)
      return emitOpError() << "group_size " << *group << " does not divide the last dimension "
                           << width;
    width = *group;
  }
  int64_t weightSize = getWeight().getType().getDimSize(0);
  if (!dimsMatch(width, weightSize))
    return emitOpError() << "weight has " << dimStr(weightSize)
                         << " elements; expected the normalized size " << dimStr(width);
  if (getResult().getType() != input)
    return emitOpError() << "result type " << getResult().getType()
                         << " must equal the input type " << input;
  return success();
}

//===------------------------------------------------------------------------------------------===//
// ActQuantOp
//===------------------------------------------------------------------------------------------===//

void ActQuantOp::build(OpBuilder &builder, OperationState &state, Value input, int64_t bits) {
  RankedTensorType in = tensorType(input);
  auto quantized = RankedTensorType::get(in.getShape(), builder.getI8Type());
  int64_t tokens = in.getRank() > 0 ? in.getDimSize(0) : 1;
  auto scale = RankedTensorType::get({tokens}, builder.getF32Type());
  build(builder, state, quantized, scale, input, builder.getI64IntegerAttr(bits));
}

/// What every quantizing op (tern.act_quant, tern.quant_input) must satisfy: `bits` in [2, 8], a
/// [tokens, features] input, int8 values of the input's shape and one scale per token.
static LogicalResult verifyQuantization(Operation *op, int64_t bits, Value input,
                                        Value quantized, Value scale) {
  if (bits < 2 || bits > 8)
    return op->emitOpError() << "bits must be in [2, 8] (stored in i8), found " << bits;
  if (failed(expectRank(op, "a [tokens, features] input", input, 2)))
    return failure();
  RankedTensorType in = tensorType(input), q = tensorType(quantized);
  if (q.getShape() != in.getShape())
    return op->emitOpError() << "quantized result " << q
                             << " must have the input's shape, as in " << in;
  return expectPerToken(op, "a scale", scale, in.getDimSize(0));
}

LogicalResult ActQuantOp::verify() {
  return verifyQuantization(*this, getBits(), getInput(), getQuantized(), getScale());
}

//===------------------------------------------------------------------------------------------===//
// BitLinearOp
//===------------------------------------------------------------------------------------------===//

void BitLinearOp::build(OpBuilder &builder, OperationState &state, Value xQ, Value xScale,
                        Value weight, Value weightScale, ScaleMode scaleMode) {
  int64_t tokens = tensorType(xQ).getDimSize(0);
  int64_t rows = cast<TernaryWeightTypeInterface>(weight.getType()).getRows();
  build(builder, state, f32Matrix(builder.getContext(), tokens, rows), xQ, xScale, weight,
        weightScale, ScaleModeAttr::get(builder.getContext(), scaleMode));
}

LogicalResult BitLinearOp::verify() {
  if (failed(expectRank(*this, "a [tokens, K] x_q", getXQ(), 2)))
    return failure();
  RankedTensorType x = getXQ().getType();
  int64_t tokens = x.getDimSize(0);
  if (failed(expectPerToken(*this, "an x_scale", getXScale(), tokens)))
    return failure();
  TernaryWeightTypeInterface weight = getWeight().getType();
  if (!dimsMatch(x.getDimSize(1), weight.getCols()))
    return emitOpError() << "input has K = " << dimStr(x.getDimSize(1))
                         << " columns but the weight has K = " << weight.getCols();
  if (failed(expectWeightScale(*this, getWeightScale(), weight.getRows(), weight.getCols())))
    return failure();
  return expectLinearResult(*this, getResult(), tokens, weight.getRows());
}

int64_t BitLinearOp::getScaleGroup() {
  auto scale = cast<RankedTensorType>(getWeightScale().getType());
  if (scale.getRank() != 2)
    return 0;
  return getWeight().getType().getCols() / scale.getDimSize(1);
}

//===------------------------------------------------------------------------------------------===//
// MatMulOp
//===------------------------------------------------------------------------------------------===//

void MatMulOp::build(OpBuilder &builder, OperationState &state, Value input, Value weight) {
  build(builder, state, input, weight, Value(), Value());
}

void MatMulOp::build(OpBuilder &builder, OperationState &state, Value input, Value weight,
                     Value inputScale, Value weightScale) {
  int64_t tokens = tensorType(input).getDimSize(0);
  int64_t rows = tensorType(weight).getDimSize(0);
  build(builder, state, f32Matrix(builder.getContext(), tokens, rows), input, weight, inputScale,
        weightScale);
}

LogicalResult MatMulOp::verify() {
  if (failed(expectRank(*this, "a [tokens, K] input", getInput(), 2)) ||
      failed(expectRank(*this, "an [N, K] weight", getWeight(), 2)))
    return failure();
  RankedTensorType input = getInput().getType();
  RankedTensorType weight = getWeight().getType();
  if (!dimsMatch(input.getDimSize(1), weight.getDimSize(1)))
    return emitOpError() << "input has K = " << dimStr(input.getDimSize(1))
                         << " columns but the weight has K = " << dimStr(weight.getDimSize(1));
  bool intInput = input.getElementType().isInteger(8);
  bool intWeight = weight.getElementType().isInteger(8);
  bool hasScales = getInputScale() || getWeightScale();
  if (intInput != intWeight)
    return emitOpError() << "expects input and weight both float or both i8, found "
                         << input.getElementType() << " and " << weight.getElementType();
  if (!intInput && hasScales)
    return emitOpError() << "takes scales only for an i8 input and weight";
  if (intInput) {
    if (!getInputScale() || !getWeightScale())
      return emitOpError() << "with i8 operands needs both an input_scale and a weight_scale";
    if (failed(expectPerToken(*this, "an input_scale", getInputScale(), input.getDimSize(0))) ||
        failed(expectWeightScale(*this, getWeightScale(), weight.getDimSize(0))))
      return failure();
  }
  return expectLinearResult(*this, getResult(), input.getDimSize(0), weight.getDimSize(0));
}

//===------------------------------------------------------------------------------------------===//
// RoPEOp
//===------------------------------------------------------------------------------------------===//

void RoPEOp::build(OpBuilder &builder, OperationState &state, Value input, Value positions,
                   int64_t headDim, float theta, RopeStyle style, ArrayRef<float> freqFactors) {
  build(builder, state, input.getType(), input, positions, builder.getI64IntegerAttr(headDim),
        builder.getF32FloatAttr(theta), RopeStyleAttr::get(builder.getContext(), style),
        freqFactors.empty() ? DenseF32ArrayAttr() : builder.getDenseF32ArrayAttr(freqFactors));
}

LogicalResult RoPEOp::verify() {
  int64_t headDim = getHeadDim();
  if (headDim <= 0 || headDim % 2 != 0)
    return emitOpError() << "head_dim must be positive and even, found " << headDim;
  float theta = getTheta().convertToFloat();
  if (!(theta > 0.0f) || !std::isfinite(theta))
    return emitOpError() << "theta must be positive and finite, found " << theta;
  if (std::optional<ArrayRef<float>> factors = getFreqFactors()) {
    if (int64_t(factors->size()) != headDim / 2)
      return emitOpError() << "freq_factors has " << factors->size()
                           << " values; expected head_dim / 2 = " << headDim / 2;
    for (auto [i, f] : llvm::enumerate(*factors))
      if (!(f > 0.0f) || !std::isfinite(f))
        return emitOpError() << "freq_factors[" << i << "] must be positive and finite, found "
                             << f;
  }
  if (failed(expectRank(*this, "a [tokens, heads * head_dim] input", getInput(), 2)))
    return failure();
  RankedTensorType input = getInput().getType();
  int64_t width = input.getDimSize(1);
  if (!ShapedType::isDynamic(width) && width % headDim != 0)
    return emitOpError() << "input width " << width << " is not a multiple of head_dim "
                         << headDim;
  return expectPerToken(*this, "positions", getPositions(), input.getDimSize(0));
}

//===------------------------------------------------------------------------------------------===//
// AttentionOp
//===------------------------------------------------------------------------------------------===//

void AttentionOp::build(OpBuilder &builder, OperationState &state, Value query, Value key,
                        Value value, Value cache, Value positions, int64_t layer, bool causal) {
  build(builder, state, query.getType(), cache.getType(), query, key, value, cache, positions,
        builder.getI64IntegerAttr(layer), causal ? builder.getUnitAttr() : UnitAttr(),
        FloatAttr());
}

int64_t AttentionOp::getNumHeads() {
  int64_t width = getQuery().getType().getDimSize(1);
  return ShapedType::isDynamic(width) ? width : width / getCacheType().getHeadDim();
}

float AttentionOp::getScaleOrDefault() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToFloat();
  return 1.0f / std::sqrt(static_cast<float>(getCacheType().getHeadDim()));
}

LogicalResult AttentionOp::verify() {
  KVCacheType cache = getCacheType();
  int64_t layer = getLayer();
  if (layer < 0 || layer >= cache.getLayers())
    return emitOpError() << "layer " << layer << " is out of range for a cache of "
                         << cache.getLayers() << " layers";
  if (std::optional<APFloat> scale = getScale())
    if (!(scale->convertToFloat() > 0.0f))
      return emitOpError() << "scale must be positive, found " << scale->convertToFloat();
  if (failed(expectRank(*this, "a [tokens, heads * head_dim] query", getQuery(), 2)) ||
      failed(expectRank(*this, "a [tokens, kv_heads * head_dim] key", getKey(), 2)) ||
      failed(expectRank(*this, "a [tokens, kv_heads * head_dim] value", getValue(), 2)))
    return failure();
  RankedTensorType query = getQuery().getType();
  int64_t tokens = query.getDimSize(0);
  for (auto [name, operand] : {std::pair<StringRef, Value>{"key", getKey()}, {"value", getValue()}}) {
    RankedTensorType type = tensorType(operand);
    if (!dimsMatch(type.getDimSize(0), tokens))
      return emitOpError() << name << " has " << dimStr(type.getDimSize(0))
                           << " tokens but the query has " << dimStr(tokens);
    if (!dimsMatch(type.getDimSize(1), cache.getKVWidth()))
      return emitOpError() << name << " width " << dimStr(type.getDimSize(1))
                           << " does not match the cache's kv_heads * head_dim = "
                           << cache.getKVWidth();
  }
  int64_t width = query.getDimSize(1);
  if (!ShapedType::isDynamic(width)) {
    if (width % cache.getHeadDim() != 0)
      return emitOpError() << "query width " << width << " is not a multiple of the cache's head_dim "
                           << cache.getHeadDim();
    int64_t heads = width / cache.getHeadDim();
    if (heads % cache.getKvHeads() != 0)
      return emitOpError() << "query heads (" << heads << ") must be a multiple of the cache's kv_heads ("
                           << cache.getKvHeads() << ")";
  }
  if (getOutput().getType() != query)
    return emitOpError() << "output type " << getOutput().getType()
                         << " must equal the query type " << query;
  return expectPerToken(*this, "positions", getPositions(), tokens);
}

//===------------------------------------------------------------------------------------------===//
// QuantInputOp
//===------------------------------------------------------------------------------------------===//

LogicalResult QuantInputOp::verify() {
  if (failed(verifyQuantization(*this, getBits(), getInput(), getQuantized(), getScale())))
    return failure();
  RankedTensorType input = getInput().getType();
  bool gated = getGlu() != Glu::none;
  if (gated != bool(getUp()))
    return emitOpError() << (gated ? "a gated activation needs an `up` operand"
                                   : "an `up` operand needs glu = relu2 or silu");
  if (getUp() && getUp().getType() != input)
    return emitOpError() << "up has type " << getUp().getType() << "; expected the input type "
                         << input;
  if (bool(getNormWeight()) != bool(getEpsAttr()))
    return emitOpError() << "a norm weight and eps go together";
  if (Value weight = getNormWeight()) {
    if (failed(expectRank(*this, "a 1-D norm weight", weight, 1)))
      return failure();
    int64_t size = tensorType(weight).getDimSize(0);
    if (!dimsMatch(size, input.getDimSize(1)))
      return emitOpError() << "norm weight has " << dimStr(size)
                           << " elements; expected the input width " << dimStr(input.getDimSize(1));
    float eps = getEpsAttr().getValueAsDouble();
    if (!(eps > 0.0f) || !std::isfinite(eps))
      return emitOpError() << "eps must be positive and finite, found " << eps;
  }
  return success();
}

//===------------------------------------------------------------------------------------------===//
// ConcatRowsOp
//===------------------------------------------------------------------------------------------===//

LogicalResult ConcatRowsOp::verify() {
  ArrayRef<int64_t> rows = getRows();
  if (getInputs().size() < 2)
    return emitOpError() << "expects at least 2 inputs, found " << getInputs().size();
  if (rows.size() != getInputs().size())
    return emitOpError() << "has " << rows.size() << " row counts for " << getInputs().size()
                         << " inputs";
  int64_t total = 0;
  for (int64_t r : rows) {
    if (r <= 0)
      return emitOpError() << "row counts must be positive, found " << r;
    total += r;
  }
  if (auto result = dyn_cast<TernaryType>(getResult().getType())) {
    for (auto [i, v] : llvm::enumerate(getInputs())) {
      auto in = dyn_cast<TernaryType>(v.getType());
      if (!in)
        return emitOpError() << "input " << i << " is " << v.getType()
                             << "; expected a !tern.ternary like the result";
      if (in.getRows() != rows[i] || in.getCols() != result.getCols())
        return emitOpError() << "input " << i << " is " << in << "; expected " << rows[i] << "x"
                             << result.getCols() << " rows x columns";
    }
    if (result.getRows() != total)
      return emitOpError() << "result has " << result.getRows() << " rows; expected " << total;
    return success();
  }
  RankedTensorType result = tensorType(getResult());
  if (result.getRank() < 1 || result.getDimSize(0) != total)
    return emitOpError() << "result " << result << " must have " << total << " rows";
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    auto in = dyn_cast<RankedTensorType>(v.getType());
    if (!in)
      return emitOpError() << "input " << i << " is " << v.getType()
                           << "; expected a tensor like the result";
    if (in.getElementType() != result.getElementType() || in.getRank() != result.getRank() ||
        in.getShape().drop_front() != result.getShape().drop_front())
      return emitOpError() << "input " << i << " is " << in << "; expected "
                           << result.getElementType() << " with the result's trailing shape";
    if (in.getDimSize(0) != rows[i] && in.getDimSize(0) != 1)
      return emitOpError() << "input " << i << " has " << dimStr(in.getDimSize(0))
                           << " rows; expected " << rows[i] << " or 1 (broadcast)";
  }
  return success();
}

//===------------------------------------------------------------------------------------------===//
// SplitColsOp
//===------------------------------------------------------------------------------------------===//

LogicalResult SplitColsOp::verify() {
  if (failed(expectRank(*this, "a [tokens, features] input", getInput(), 2)))
    return failure();
  RankedTensorType input = getInput().getType();
  if (getOutputs().empty())
    return emitOpError() << "expects at least one output";
  int64_t total = 0;
  for (auto [i, v] : llvm::enumerate(getOutputs())) {
    RankedTensorType out = tensorType(v);
    if (out.getRank() != 2 || !dimsMatch(out.getDimSize(0), input.getDimSize(0)) ||
        ShapedType::isDynamic(out.getDimSize(1)))
      return emitOpError() << "output " << i << " is " << out
                           << "; expected [tokens, static width] with the input's tokens";
    total += out.getDimSize(1);
  }
  if (!dimsMatch(total, input.getDimSize(1)))
    return emitOpError() << "output widths sum to " << total << "; expected the input width "
                         << dimStr(input.getDimSize(1));
  return success();
}
