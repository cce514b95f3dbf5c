//===- GenericInterpreter.cpp - runs tern IR with the runtime's generic kernels ---------------===//
#include "test/e2e/GenericInterpreter.h"

#include "dialects/tern/TernDialect.h"

#include "tern/decoder_kernels.h"
#include "tern/kernels.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tern;
using ::tern::StoredTensor;
using ::tern::test::GenericInterpreter;

namespace {
/// A runtime value: float activations, or int8 activations with their per-token scales.
struct Value_ {
  int64_t rows = 0, cols = 0;
  std::vector<float> f;
  std::vector<int8_t> q; // [rows][round_up(cols, 16)]
  const void *weight = nullptr;
};

llvm::Error fail(Operation *op, const llvm::Twine &message) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << op->getName() << " at " << op->getLoc() << ": " << message;
  return llvm::createStringError(llvm::inconvertibleErrorCode(), s);
}
} // namespace

GenericInterpreter::GenericInterpreter(func::FuncOp forward, const WeightStore &store,
                                       int64_t context)
    : forward(forward), store(store), context(context) {
  auto cache = cast<KVCacheType>(forward.getArgumentTypes()[2]);
  layers = cache.getLayers();
  kvHeads = cache.getKvHeads();
  headDim = cache.getHeadDim();
  vocabSize = cast<RankedTensorType>(forward.getResultTypes()[0]).getDimSize(1);
  kCache.assign(size_t(layers) * tern_kv_cache_floats(kvHeads, context, headDim), 0.0f);
  vCache = kCache;
}

std::string GenericInterpreter::kernelVariants() const {
  return std::string("i2 ") + tern_gemm_i2_select(tern_cpu_features())->name + ", decoder " +
         tern_decoder_select(tern_cpu_features())->name;
}

llvm::Expected<const GenericInterpreter::Weight *>
GenericInterpreter::weight(llvm::StringRef name, bool ternary) {
  auto it = weights.find(name);
  if (it != weights.end())
    return &it->second;
  const StoredTensor *t = store.lookup(name);
  if (!t)
    return llvm::createStringError("no tensor '%s' in the weight store", name.str().c_str());
  Weight w;
  if (ternary) {
    w.rows = t->shape[0], w.cols = t->shape[1];
    w.ternary.resize(size_t(w.rows * w.cols));
    if (llvm::Error e = store.readTernary(name, w.ternary))
      return std::move(e);
    w.i2.resize(tern_i2_packed_size(w.rows, w.cols));
    if (tern_i2_pack(w.ternary.data(), w.rows, w.cols, w.i2.data()) != 0)
      return llvm::createStringError("tensor '%s' is not ternary", name.str().c_str());
  } else {
    int64_t n = t->numElements();
    w.rows = t->shape.empty() ? 1 : t->shape[0];
    w.cols = w.rows ? n / w.rows : 0;
    w.values.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i)
      w.values[size_t(i)] = ::tern::loadFloat(t->dtype, t->bytes.data(), i);
  }
  return &weights.try_emplace(name, std::move(w)).first->second;
}

llvm::Expected<std::vector<float>> GenericInterpreter::run(llvm::ArrayRef<int32_t> tokens,
                                                           llvm::ArrayRef<int32_t> positions) {
  const int64_t t = int64_t(tokens.size());
  llvm::DenseMap<mlir::Value, Value_> env;
  std::vector<float> logits;
  auto widthOf = [](mlir::Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(1); };
  // The dispatched decoder kernels (Halide where the CPU allows, like the i2 GEMMs below);
  // activation quantization stays scalar so no rounding tie can flip between runs.
  const tern_decoder_variant *kernels = tern_decoder_select(tern_cpu_features());

  for (Operation &op : forward.getBody().front()) {
    llvm::Error error = llvm::TypeSwitch<Operation *, llvm::Error>(&op)
        .Case([&](WeightOp w) -> llvm::Error {
          if (auto packed = dyn_cast<PackedType>(w.getType())) {
            // Bytes the packing pass wrote, read as the kernels will read them.
            if (packed.getLayout().getFormat() != WeightFormat::i2)
              return fail(&op, "only the i2 layout is supported by this interpreter");
            const StoredTensor *t = store.lookup(w.getName());
            if (!t)
              return fail(&op, "no packed tensor '" + w.getName() + "' in the store");
            Weight p;
            p.rows = packed.getRows(), p.cols = packed.getCols();
            p.i2.assign(t->bytes.begin(), t->bytes.end());
            derived.push_back(std::move(p));
            Value_ v;
            v.weight = &derived.back();
            env[w.getResult()] = std::move(v);
            return llvm::Error::success();
          }
          bool ternary = isa<TernaryWeightTypeInterface>(w.getType());
          auto loaded = weight(w.getName(), ternary);
          if (!loaded)
            return loaded.takeError();
          Value_ v;
          v.weight = *loaded;
          env[w.getResult()] = std::move(v);
          return llvm::Error::success();
        })
        .Case([&](EmbeddingOp e) -> llvm::Error {
          const Weight *table = static_cast<const Weight *>(env[e.getTable()].weight);
          Value_ out;
          out.rows = t, out.cols = widthOf(e.getResult());
          out.f.resize(size_t(t * out.cols));
          int64_t vocab = cast<RankedTensorType>(e.getTable().getType()).getDimSize(0);
          if (kernels->embedding(table->values.data(), TERN_DTYPE_F32, vocab, out.cols,
                                 tokens.data(), t, out.f.data()) != 0)
            return fail(&op, "token id outside the vocabulary");
          env[e.getResult()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](RMSNormOp n) -> llvm::Error {
          const Value_ &x = env[n.getInput()];
          const Weight *g = static_cast<const Weight *>(env[n.getWeight()].weight);
          Value_ out = x;
          // Per head (group_size): a row of cols is cols / group rows of group.
          int64_t group = n.getGroupSize().value_or(x.cols);
          tern_rms_norm_generic(x.f.data(), x.rows * (x.cols / group), group, g->values.data(),
                                n.getEps().convertToFloat(), out.f.data());
          env[n.getResult()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](ActQuantOp a) -> llvm::Error {
          const Value_ &x = env[a.getInput()];
          Value_ q, s;
          q.rows = x.rows, q.cols = x.cols;
          q.q.resize(size_t(x.rows * tern_round_up(x.cols, 16)));
          s.rows = x.rows, s.cols = 1;
          s.f.resize(size_t(x.rows));
          tern_act_quant_generic(x.f.data(), x.cols, x.rows, x.cols, int(a.getBits()), q.q.data(),
                                 tern_round_up(x.cols, 16), s.f.data());
          env[a.getQuantized()] = std::move(q);
          env[a.getScale()] = std::move(s);
          return llvm::Error::success();
        })
        .Case([&](QuantInputOp qi) -> llvm::Error {
          // The scalar composition, like tern.act_quant above (no rounding tie can move).
          const Value_ &x = env[qi.getInput()];
          const Value_ *up = qi.getUp() ? &env[qi.getUp()] : nullptr;
          const Weight *g =
              qi.getNormWeight()
                  ? static_cast<const Weight *>(env[qi.getNormWeight()].weight)
                  : nullptr;
          Value_ q, s;
          q.rows = x.rows, q.cols = x.cols;
          q.q.resize(size_t(x.rows * tern_round_up(x.cols, 16)));
          s.rows = x.rows, s.cols = 1;
          s.f.resize(size_t(x.rows));
          if (qi.getBits() != 8)
            return fail(&op, "only 8-bit quantization is supported by this interpreter");
          tern_glu_t glu = qi.getGlu() == Glu::relu2  ? TERN_GLU_RELU2
                           : qi.getGlu() == Glu::silu ? TERN_GLU_SILU
                                                      : TERN_GLU_NONE;
          float eps = qi.getEpsAttr() ? qi.getEpsAttr().getValueAsDouble() : 0.0f;
          if (tern_quant_input_generic(x.f.data(), up ? up->f.data() : nullptr, x.rows, x.cols,
                                       glu, g ? g->values.data() : nullptr, eps, q.q.data(),
                                       tern_round_up(x.cols, 16), s.f.data()) != 0)
            return fail(&op, "out of memory");
          env[qi.getQuantized()] = std::move(q);
          env[qi.getScale()] = std::move(s);
          return llvm::Error::success();
        })
        .Case([&](ConcatRowsOp c) -> llvm::Error {
          Weight out;
          ArrayRef<int64_t> rows = c.getRows();
          for (auto [i, input] : llvm::enumerate(c.getInputs())) {
            const Weight *w = static_cast<const Weight *>(env[input].weight);
            if (!w)
              return fail(&op, "an input is not a weight");
            if (isa<TernaryType>(c.getResult().getType())) {
              out.ternary.insert(out.ternary.end(), w->ternary.begin(), w->ternary.end());
              out.cols = w->cols;
            } else {
              // Each input repeated up to rows[i] rows (a [1] scale broadcast to its rows).
              size_t per = size_t(w->cols);
              for (int64_t r = 0; r < rows[i]; ++r) {
                size_t from = w->rows == 1 ? 0 : size_t(r) * per;
                out.values.insert(out.values.end(), w->values.begin() + from,
                                  w->values.begin() + from + per);
              }
            }
            out.rows += rows[i];
          }
          if (isa<TernaryType>(c.getResult().getType())) {
            out.i2.resize(tern_i2_packed_size(out.rows, out.cols));
            tern_i2_pack(out.ternary.data(), out.rows, out.cols, out.i2.data());
          }
          derived.push_back(std::move(out));
          Value_ v;
          v.weight = &derived.back();
          env[c.getResult()] = std::move(v);
          return llvm::Error::success();
        })
        .Case([&](SplitColsOp sc) -> llvm::Error {
          const Value_ &x = env[sc.getInput()];
          int64_t offset = 0;
          for (Value output : sc.getOutputs()) {
            int64_t width = widthOf(output);
            Value_ part;
            part.rows = x.rows, part.cols = width;
            part.f.resize(size_t(x.rows * width));
            for (int64_t r = 0; r < x.rows; ++r)
              std::copy_n(x.f.begin() + r * x.cols + offset, width,
                          part.f.begin() + r * width);
            env[output] = std::move(part);
            offset += width;
          }
          return llvm::Error::success();
        })
        .Case([&](BitLinearOp b) -> llvm::Error {
          const Value_ &xq = env[b.getXQ()];
          const Value_ &xs = env[b.getXScale()];
          const Weight *w = static_cast<const Weight *>(env[b.getWeight()].weight);
          const Weight *ws = static_cast<const Weight *>(env[b.getWeightScale()].weight);
          int64_t accStride = tern_round_up(w->rows, TERN_I2_ROW_ALIGN);
          std::vector<int32_t> acc(size_t(xq.rows * accStride));
          const tern_gemm_variant *variant = tern_gemm_i2_select(tern_cpu_features());
          if (variant->fn(w->i2.data(), w->rows, w->cols, xq.q.data(), tern_round_up(w->cols, 16),
                          xq.rows, acc.data(), accStride) != 0)
            return fail(&op, "the multiply-add kernel failed");
          std::vector<float> mul(ws->values);
          if (b.getScaleMode() == ScaleMode::divide)
            for (float &m : mul)
              m = 1.0f / m;
          Value_ out;
          out.rows = xq.rows, out.cols = w->rows;
          out.f.resize(size_t(out.rows * out.cols));
          tern_bitlinear_epilogue(acc.data(), accStride, out.rows, out.cols, xs.f.data(),
                                  mul.data(), mul.size() > 1, out.f.data(), out.cols);
          env[b.getResult()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](RoPEOp r) -> llvm::Error {
          Value_ out = env[r.getInput()];
          int64_t d = int64_t(r.getHeadDim());
          std::optional<ArrayRef<float>> factors = r.getFreqFactors();
          std::vector<float> invFreq(size_t(d / 2));
          tern_rope_frequencies(r.getTheta().convertToFloat(), factors ? factors->data() : nullptr,
                                d, invFreq.data());
          if (kernels->rope(out.f.data(), out.rows, out.cols / d, d, positions.data(),
                            invFreq.data(), r.getStyle() == RopeStyle::interleaved) != 0)
            return fail(&op, "the RoPE kernel failed");
          env[r.getResult()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](AttentionOp a) -> llvm::Error {
          const Value_ &q = env[a.getQuery()];
          int64_t heads = q.cols / headDim;
          size_t layerSize = tern_kv_cache_floats(kvHeads, context, headDim);
          Value_ out;
          out.rows = q.rows, out.cols = q.cols;
          out.f.resize(q.f.size());
          if (kernels->attention(q.f.data(), env[a.getKey()].f.data(),
                                 env[a.getValue()].f.data(), q.rows, heads, kvHeads, headDim,
                                 positions.data(), kCache.data() + a.getLayer() * layerSize,
                                 vCache.data() + a.getLayer() * layerSize, context,
                                 a.getScaleOrDefault(), a.getCausal(), out.f.data()) != 0)
            return fail(&op, "a position is outside the context");
          env[a.getOutput()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](Relu2Op r) -> llvm::Error {
          Value_ out = env[r.getInput()];
          tern_relu2_generic(out.f.data(), int64_t(out.f.size()), out.f.data());
          env[r.getResult()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](SiLUOp s) -> llvm::Error {
          Value_ out = env[s.getInput()];
          tern_silu_generic(out.f.data(), int64_t(out.f.size()), out.f.data());
          env[s.getResult()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](MulOp m) -> llvm::Error {
          Value_ out = env[m.getLhs()];
          tern_mul_generic(out.f.data(), env[m.getRhs()].f.data(), int64_t(out.f.size()),
                           out.f.data());
          env[m.getResult()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](AddOp m) -> llvm::Error {
          Value_ out = env[m.getLhs()];
          tern_add_generic(out.f.data(), env[m.getRhs()].f.data(), int64_t(out.f.size()),
                           out.f.data());
          env[m.getResult()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](MatMulOp m) -> llvm::Error {
          const Value_ &x = env[m.getInput()];
          const Weight *w = static_cast<const Weight *>(env[m.getWeight()].weight);
          if (!w)
            return fail(&op, "an int8 head is not supported by this interpreter");
          int64_t n = widthOf(m.getResult());
          Value_ out;
          out.rows = x.rows, out.cols = n;
          out.f.resize(size_t(x.rows * n));
          if (kernels->head_matmul(x.f.data(), x.rows, x.cols, w->values.data(), TERN_DTYPE_F32, n,
                                out.f.data()))
            return fail(&op, "the head kernel rejected its buffers");
          env[m.getResult()] = std::move(out);
          return llvm::Error::success();
        })
        .Case([&](func::ReturnOp r) -> llvm::Error {
          logits = env[r.getOperand(0)].f;
          return llvm::Error::success();
        })
        .Default([&](Operation *other) { return fail(other, "is not supported"); });
    if (error)
      return std::move(error);
  }
  return logits;
}
