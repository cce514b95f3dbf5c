//===- LowerToRuntime.cpp - the planned forward function as calls into the runtime -----------===//
//
// The compiler's side of runtime/include/tern/model_abi.h: every tern op of the planned forward
// becomes a call of its tern_op_* with constant offsets, shapes and the address of the kernel
// tern-select-kernels chose, followed by a status check; the model's description becomes the
// global tern_compiled_model.
//
//===------------------------------------------------------------------------------------------===//
#include "passes/GeneratedKernels.h"
#include "passes/Passes.h"
#include "passes/Targets.h"

#include "tern/cpu.h"
#include "tern/model_abi.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNLOWERTORUNTIMEPASS
#include "passes/Passes.h.inc"

namespace {

/// The runtime's code for a table's element type (f16, bf16 or f32; others have no kernel).
std::optional<int64_t> dtypeCode(Type element) {
  if (element.isF16())
    return TERN_DTYPE_F16;
  if (element.isBF16())
    return TERN_DTYPE_BF16;
  if (element.isF32())
    return TERN_DTYPE_F32;
  return std::nullopt;
}

/// The runtime's code for a table tensor: its element type's, or its quantized head encoding's.
std::optional<int64_t> tableDtype(RankedTensorType type) {
  auto layout = dyn_cast_or_null<LayoutAttr>(type.getEncoding());
  if (!layout)
    return dtypeCode(type.getElementType());
  switch (layout.getFormat()) {
  case WeightFormat::q8_0:
    return TERN_DTYPE_Q8_0;
  case WeightFormat::q6_k:
    return TERN_DTYPE_Q6_K;
  default:
    return std::nullopt;
  }
}

int64_t widthOf(Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(1); }

struct Lowering {
  ModuleOp module;
  func::FuncOp forward;
  OpBuilder b;
  Location loc;
  Value exec;
  Block *failBlock = nullptr;
  Type i32, i64, f32, ptr;
  /// The global of each distinct freq_factors array.
  llvm::DenseMap<Attribute, std::string> floatTables;

  Lowering(ModuleOp module, func::FuncOp forward)
      : module(module), forward(forward), b(module.getContext()), loc(forward.getLoc()) {
    MLIRContext *ctx = module.getContext();
    i32 = b.getI32Type(), i64 = b.getI64Type(), f32 = b.getF32Type();
    ptr = LLVM::LLVMPointerType::get(ctx);
  }

  Value i64c(int64_t v) { return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v)); }
  Value i32c(int64_t v) { return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v)); }
  Value f32c(double v) { return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v))); }

  /// The arena offset of an activation (the planner's tern.arena on its defining op).
  FailureOr<int64_t> arena(Value v) {
    Operation *def = v.getDefiningOp();
    auto offsets = def ? def->getAttrOfType<DenseI64ArrayAttr>("tern.arena") : nullptr;
    if (!offsets)
      return emitError(v.getLoc()) << "tern-lower-to-runtime: an operand has no arena offset "
                                      "(run tern-plan-memory first)";
    return offsets[cast<OpResult>(v).getResultNumber()];
  }
  FailureOr<Value> arenaArg(Value v) {
    FailureOr<int64_t> off = arena(v);
    if (failed(off))
      return failure();
    return i64c(*off);
  }

  /// The weights-blob offset of a tern.weight operand, which must be `element`-typed when given.
  FailureOr<Value> weightArg(Value v, Operation *user, StringRef what,
                             std::optional<Type> element = std::nullopt) {
    auto w = v.getDefiningOp<WeightOp>();
    if (!w)
      return user->emitOpError() << "tern-lower-to-runtime: the " << what
                                 << " must be a tern.weight";
    auto offset = w->getAttrOfType<IntegerAttr>("tern.offset");
    if (!offset)
      return w.emitOpError() << "'" << w.getName()
                             << "' has no tern.offset: write the weights blob first (ternc does)";
    if (element) {
      auto type = dyn_cast<RankedTensorType>(w.getType());
      if (!type || type.getElementType() != *element)
        return user->emitOpError() << "tern-lower-to-runtime: the " << what << " '"
                                   << w.getName() << "' must be stored as f32 (tern-pack-weights "
                                   << "converts the tensors kernels read as floats)";
    }
    return i64c(offset.getInt());
  }

  /// The address of runtime kernel `symbol`, declared once.
  Value kernel(StringRef symbol) {
    if (!module.lookupSymbol(symbol)) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(module.getBody());
      auto fn = LLVM::LLVMFuncOp::create(b, loc, symbol,
                                         LLVM::LLVMFunctionType::get(i32, {}, /*isVarArg=*/true));
      // Only its address is taken; the signature is the runtime's (tern/kernels.h, ...).
      fn.setLinkage(LLVM::Linkage::External);
    }
    return LLVM::AddressOfOp::create(b, loc, ptr, symbol);
  }

  /// The address of a constant float array (a tern.rope's freq_factors), one global per
  /// distinct array; null for none.
  Value floatTable(DenseF32ArrayAttr values) {
    if (!values)
      return LLVM::ZeroOp::create(b, loc, ptr);
    // Attributes are uniqued: equal arrays are one attribute, and share one global.
    std::string &name = floatTables[Attribute(values)];
    if (name.empty()) {
      name = "tern_rope_freq_factors_" + std::to_string(floatTables.size() - 1);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(module.getBody());
      auto type = LLVM::LLVMArrayType::get(b.getF32Type(), values.size());
      auto data = DenseElementsAttr::get(
          RankedTensorType::get({int64_t(values.size())}, b.getF32Type()), values.asArrayRef());
      LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true, LLVM::Linkage::Private, name,
                             data);
    }
    return LLVM::AddressOfOp::create(b, loc, ptr, name);
  }

  /// The target's description (tern-select-kernels recorded its name on the module).
  const TargetInfo *targetInfo() {
    auto target = module->getAttrOfType<StringAttr>("tern.target");
    return target ? lookupTarget(target.getValue()) : nullptr;
  }

  /// The address of a constant table of tern_gemm_bucket for a generated bitlinear, one global
  /// per distinct table.
  Value bucketTable(ArrayRef<GeneratedBucket> buckets) {
    std::string name = "tern_gemm_buckets";
    for (const GeneratedBucket &bucket : buckets)
      name += "_" + bucket.kernel.symbol.substr(bucket.kernel.symbol.rfind('_') + 1);
    if (!module.lookupSymbol(name)) {
      OpBuilder::InsertionGuard guard(b);
      MLIRContext *ctx = module.getContext();
      auto entry = LLVM::LLVMStructType::getLiteral(ctx, {i64, i64, ptr});
      auto type = LLVM::LLVMArrayType::get(entry, buckets.size());
      b.setInsertionPointToEnd(module.getBody());
      auto global = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                                           LLVM::Linkage::Private, name, Attribute());
      Block *init = b.createBlock(&global.getInitializerRegion());
      b.setInsertionPointToStart(init);
      Value table = LLVM::PoisonOp::create(b, loc, type);
      for (auto [i, bucket] : llvm::enumerate(buckets)) {
        Value fn = kernel(bucket.kernel.symbol);
        auto constant = [&](int64_t v) {
          return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v)).getResult();
        };
        int64_t index = int64_t(i);
        table = LLVM::InsertValueOp::create(b, loc, table, constant(bucket.maxTokens),
                                            ArrayRef<int64_t>{index, 0});
        table = LLVM::InsertValueOp::create(b, loc, table, constant(bucket.tokenGroup),
                                            ArrayRef<int64_t>{index, 1});
        table = LLVM::InsertValueOp::create(b, loc, table, fn, ArrayRef<int64_t>{index, 2});
      }
      LLVM::ReturnOp::create(b, loc, table);
    }
    return LLVM::AddressOfOp::create(b, loc, ptr, name);
  }

  /// The decoder kernel `name` (quant_input, attention, ...) of the op's tern.kernel.
  FailureOr<Value> decoderKernel(Operation *op, StringRef name) {
    auto k = op->getAttrOfType<KernelAttr>("tern.kernel");
    if (!k)
      return op->emitOpError() << "has no tern.kernel (run tern-select-kernels first)";
    StringRef variant = k.getVariant().getValue();
    if (k.getFamily().getValue() == "generic" || variant == "generic")
      return kernel(name == "rope" ? "tern_rope_variant_generic"
                                   : b.getStringAttr("tern_" + name + "_generic").getValue());
    return kernel(b.getStringAttr("tern_" + name + "_" + variant).getValue());
  }

  /// A call of tern_op_<name>(exec, args...) and the branch to the failure block on non-zero.
  void call(StringRef name, ArrayRef<Value> args) {
    std::string symbol = ("tern_op_" + name).str();
    SmallVector<Value> operands{exec};
    operands.append(args.begin(), args.end());
    if (!module.lookupSymbol(symbol)) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(module.getBody());
      auto decl = func::FuncOp::create(b, loc, symbol,
                                       b.getFunctionType(ValueRange(operands).getTypes(), {i32}));
      decl.setPrivate();
    }
    auto status = func::CallOp::create(b, loc, symbol, TypeRange{i32}, operands).getResult(0);
    Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, status, i32c(0));
    Block *next = b.getBlock()->splitBlock(b.getInsertionPoint());
    cf::CondBranchOp::create(b, loc, ok, next, ValueRange{}, failBlock, ValueRange{status});
    b.setInsertionPointToStart(next);
  }

  LogicalResult lowerOp(Operation &op) {
    auto fail = [&](const Twine &message) { return op.emitOpError() << message; };
#define TRY(VAR, EXPR)                                                                             \
  auto VAR##OrErr = (EXPR);                                                                        \
  if (failed(VAR##OrErr))                                                                          \
    return failure();                                                                              \
  Value VAR = *VAR##OrErr;
    auto tokensArg = forward.getArgument(0), positionsArg = forward.getArgument(1);
    return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
        .Case([&](WeightOp) { return success(); })
        .Case([&](EmbeddingOp e) -> LogicalResult {
          if (e.getTokens() != tokensArg)
            return fail("tern-lower-to-runtime: must index with the forward's tokens argument");
          TRY(fn, decoderKernel(&op, "embedding"))
          TRY(table, weightArg(e.getTable(), &op, "table"))
          TRY(out, arenaArg(e.getResult()))
          auto type = cast<RankedTensorType>(e.getTable().getType());
          std::optional<int64_t> dtype = tableDtype(type);
          if (!dtype)
            return fail("tern-lower-to-runtime: the table must be f16, bf16, f32 or a quantized "
                        "head's (q8_0, q6_k)");
          call("embedding", {fn, table, i32c(*dtype),
                             i64c(type.getDimSize(0)), i64c(type.getDimSize(1)), out});
          return success();
        })
        .Case([&](RMSNormOp n) -> LogicalResult {
          TRY(in, arenaArg(n.getInput()))
          TRY(gamma, weightArg(n.getWeight(), &op, "norm weight", f32))
          TRY(out, arenaArg(n.getResult()))
          int64_t width = widthOf(n.getInput());
          int64_t group = n.getGroupSize().value_or(width);
          call("rms_norm", {in, i64c(group), i64c(width / group), gamma,
                            f32c(n.getEps().convertToDouble()), out});
          return success();
        })
        .Case([&](ActQuantOp a) -> LogicalResult {
          TRY(in, arenaArg(a.getInput()))
          TRY(q, arenaArg(a.getQuantized()))
          TRY(s, arenaArg(a.getScale()))
          call("act_quant", {in, i64c(widthOf(a.getInput())), i32c(a.getBits()), q, s});
          return success();
        })
        .Case([&](QuantInputOp qi) -> LogicalResult {
          const TargetInfo *target = targetInfo();
          std::optional<GeneratedKernel> generated =
              target ? quantInputKernel(qi, *target) : std::nullopt;
          if (qi.getBits() != 8 && !generated)
            return fail("tern-lower-to-runtime: a quant_input of " + Twine(qi.getBits()) +
                        " bits needs a generated kernel, and the module has no known "
                        "tern.target (run tern-select-kernels first)");
          Value fn;
          if (generated) {
            fn = kernel(generated->symbol);
          } else {
            TRY(library, decoderKernel(&op, "quant_input"))
            fn = library;
          }
          TRY(a, arenaArg(qi.getInput()))
          Value up, gamma;
          if (qi.getUp()) {
            TRY(u, arenaArg(qi.getUp()))
            up = u;
          } else {
            up = i64c(-1);
          }
          if (qi.getNormWeight()) {
            TRY(g, weightArg(qi.getNormWeight(), &op, "norm weight", f32))
            gamma = g;
          } else {
            gamma = i64c(-1);
          }
          TRY(q, arenaArg(qi.getQuantized()))
          TRY(s, arenaArg(qi.getScale()))
          int64_t glu = qi.getGlu() == Glu::relu2  ? TERN_GLU_RELU2
                        : qi.getGlu() == Glu::silu ? TERN_GLU_SILU
                                                   : TERN_GLU_NONE;
          double eps = qi.getEpsAttr() ? qi.getEpsAttr().getValueAsDouble() : 0.0;
          call(generated ? "quant_input_generated" : "quant_input",
               {fn, a, up, i64c(widthOf(qi.getInput())), i32c(glu), gamma, f32c(eps), q, s});
          return success();
        })
        .Case([&](BitLinearOp l) -> LogicalResult {
          auto packed = dyn_cast<PackedType>(l.getWeight().getType());
          if (!packed)
            return fail("tern-lower-to-runtime: the weight must be packed (run "
                        "tern-pack-weights first)");
          if (l.getScaleMode() != ScaleMode::multiply)
            return fail("tern-lower-to-runtime: expected scale_mode multiply (tern-pack-weights "
                        "stores the reciprocals of divide scales)");
          auto k = op.getAttrOfType<KernelAttr>("tern.kernel");
          std::optional<WeightFormat> format = k ? k.getWeightFormat() : std::nullopt;
          if (!format || *format != packed.getLayout().getFormat())
            return fail("tern-lower-to-runtime: the tern.kernel does not read the weight's "
                        "layout");
          StringRef family = *format == WeightFormat::i2    ? "i2"
                             : *format == WeightFormat::tl1 ? "tl1"
                                                            : "tl2";
          const TargetInfo *target = targetInfo();
          std::vector<GeneratedBucket> buckets =
              target ? bitlinearBuckets(l, *target) : std::vector<GeneratedBucket>{};
          if (buckets.empty() && !k.getParams().empty() &&
              isa<DictionaryAttr>(k.getParams().begin()->getValue()))
            return fail("tern-lower-to-runtime: generated kernels need a known tern.target "
                        "(run tern-select-kernels first)");
          // Generated kernels are the target's: an op that names another variant (an edit that
          // kept the schedules) would silently not run what it says.
          if (!buckets.empty()) {
            StringRef expected = *format == WeightFormat::i2 ? target->madVariant
                                                             : target->decoderVariant;
            if (k.getVariant().getValue() != expected)
              return fail("tern-lower-to-runtime: generated " + k.getFamily().getValue().str() +
                          " kernels run the target's variant '" + expected.str() + "', not '" +
                          k.getVariant().getValue().str() +
                          "' (drop the bucket schedules to run a library variant)");
          }
          // A generated kernel's op takes its bucket table and the table's length.
          SmallVector<Value> kernelArgs;
          if (!buckets.empty())
            kernelArgs = {bucketTable(buckets), i64c(int64_t(buckets.size()))};
          else
            kernelArgs = {kernel(b.getStringAttr("tern_gemm_" + family + "_" +
                                                 k.getVariant().getValue())
                                     .getValue())};
          TRY(w, weightArg(l.getWeight(), &op, "weight"))
          TRY(ws, weightArg(l.getWeightScale(), &op, "weight scale", f32))
          TRY(q, arenaArg(l.getXQ()))
          TRY(s, arenaArg(l.getXScale()))
          TRY(out, arenaArg(l.getResult()))
          auto scratch = op.getAttrOfType<IntegerAttr>("tern.scratch");
          if (!scratch)
            return fail("tern-lower-to-runtime: has no tern.scratch (run tern-plan-memory)");
          auto scaleType = cast<RankedTensorType>(l.getWeightScale().getType());
          SmallVector<Value> args = kernelArgs;
          if (int64_t group = l.getScaleGroup()) {
            // Group-wise scales: the weight is packed per group (tern-pack-weights), each group
            // runs through the kernel and the epilogue sums the scaled groups.
            args.append({w, i64c(packed.getRows()), i64c(packed.getCols()), i64c(group), q, s,
                         ws, i64c(scratch.getInt()), out});
            call(buckets.empty() ? "bitlinear_grouped" : "bitlinear_generated_grouped", args);
            return success();
          }
          // Generated lookup-table pipelines take the tl1 / tl2 blob as packed, and its layout.
          bool lut = !buckets.empty() && *format != WeightFormat::i2;
          if (lut)
            args.push_back(i32c(*format == WeightFormat::tl1 ? 1 : 2));
          args.append({w, i64c(packed.getRows()), i64c(packed.getCols()), q, s, ws,
                       i32c(scaleType.getNumElements() > 1), i64c(scratch.getInt()), out});
          call(lut ? "bitlinear_lut_generated"
                   : buckets.empty() ? "bitlinear" : "bitlinear_generated",
               args);
          return success();
        })
        .Case([&](SplitColsOp sc) -> LogicalResult {
          TRY(in, arenaArg(sc.getInput()))
          int64_t from = 0;
          for (Value part : sc.getOutputs()) {
            TRY(out, arenaArg(part))
            call("split_cols",
                 {in, i64c(widthOf(sc.getInput())), i64c(from), i64c(widthOf(part)), out});
            from += widthOf(part);
          }
          return success();
        })
        .Case([&](RoPEOp r) -> LogicalResult {
          if (r.getPositions() != positionsArg)
            return fail("tern-lower-to-runtime: must rotate by the forward's positions argument");
          TRY(fn, decoderKernel(&op, "rope"))
          TRY(in, arenaArg(r.getInput()))
          TRY(out, arenaArg(r.getResult()))
          call("rope", {fn, in, i64c(widthOf(r.getInput())), i64c(int64_t(r.getHeadDim())),
                        f32c(r.getTheta().convertToDouble()),
                        i32c(r.getStyle() == RopeStyle::interleaved),
                        floatTable(r.getFreqFactorsAttr()), out});
          return success();
        })
        .Case([&](AttentionOp a) -> LogicalResult {
          if (a.getPositions() != positionsArg)
            return fail("tern-lower-to-runtime: must attend at the forward's positions argument");
          auto cache = cast<KVCacheType>(a.getCache().getType());
          if (!cache.getElementType().isF32())
            return fail("tern-lower-to-runtime: the runtime's KV cache is f32");
          TRY(fn, decoderKernel(&op, "attention"))
          TRY(q, arenaArg(a.getQuery()))
          TRY(k, arenaArg(a.getKey()))
          TRY(v, arenaArg(a.getValue()))
          TRY(out, arenaArg(a.getOutput()))
          int64_t headDim = cache.getHeadDim();
          call("attention", {fn, q, k, v, i64c(widthOf(a.getQuery()) / headDim),
                             i64c(cache.getKvHeads()), i64c(headDim), i64c(a.getLayer()),
                             f32c(a.getScaleOrDefault()), i32c(a.getCausal()), out});
          return success();
        })
        .Case([&](MatMulOp m) -> LogicalResult {
          if (m.getInputScale() || m.getWeightScale() ||
              !cast<RankedTensorType>(m.getInput().getType()).getElementType().isF32())
            return fail("tern-lower-to-runtime: only a float tern.matmul (the 16/32-bit output "
                        "head) is lowered; the int8 head is not implemented yet");
          TRY(fn, decoderKernel(&op, "head_matmul"))
          TRY(in, arenaArg(m.getInput()))
          TRY(w, weightArg(m.getWeight(), &op, "weight"))
          TRY(out, arenaArg(m.getResult()))
          auto type = cast<RankedTensorType>(m.getWeight().getType());
          std::optional<int64_t> dtype = tableDtype(type);
          if (!dtype)
            return fail("tern-lower-to-runtime: the weight must be f16, bf16, f32 or in a "
                        "quantized head format (q8_0, q6_k)");
          bool isLogits = llvm::any_of(m.getResult().getUsers(), [](Operation *user) {
            return isa<func::ReturnOp>(user);
          });
          call("matmul", {fn, in, i64c(type.getDimSize(1)), w, i32c(*dtype),
                          i64c(type.getDimSize(0)), i32c(isLogits), out});
          return success();
        })
        .Case<Relu2Op, SiLUOp, MulOp, AddOp>([&](Operation *e) -> LogicalResult {
          int64_t kind = isa<Relu2Op>(e)  ? TERN_ELEMENTWISE_RELU2
                         : isa<SiLUOp>(e) ? TERN_ELEMENTWISE_SILU
                         : isa<MulOp>(e)  ? TERN_ELEMENTWISE_MUL
                                          : TERN_ELEMENTWISE_ADD;
          TRY(a, arenaArg(e->getOperand(0)))
          Value rhs;
          if (e->getNumOperands() > 1) {
            TRY(r, arenaArg(e->getOperand(1)))
            rhs = r;
          } else {
            rhs = i64c(-1);
          }
          TRY(out, arenaArg(e->getResult(0)))
          call("elementwise", {i32c(kind), a, rhs, i64c(widthOf(e->getResult(0))), out});
          return success();
        })
        .Case([&](func::ReturnOp) { return success(); })
        .Default([&](Operation *other) {
          return other->emitOpError()
                 << "tern-lower-to-runtime: no runtime op for it (fold or pack it first)";
        });
#undef TRY
  }

  /// A private NUL-terminated string global and its address.
  Value string(StringRef name, StringRef value) {
    // createGlobalString stores exactly the bytes it is given: the C string needs its NUL.
    return LLVM::createGlobalString(loc, b, name, (value + Twine('\0')).str(),
                                    LLVM::Linkage::Private);
  }

  /// The weight bytes one decoded token reads: every weight an op streams (an embedding table
  /// only as far as the lookup; a tied table counts once, as the head that streams it).
  int64_t bytesPerToken() {
    llvm::DenseSet<Operation *> read;
    for (Operation &op : forward.getBody().front())
      if (!isa<EmbeddingOp, WeightOp>(op))
        for (Value operand : op.getOperands())
          if (auto w = operand.getDefiningOp<WeightOp>())
            read.insert(w);
    int64_t bytes = 0;
    for (Operation *op : read) {
      auto w = cast<WeightOp>(op);
      if (auto packed = w->getAttrOfType<IntegerAttr>("tern.bytes"))
        bytes += packed.getInt();
      else if (auto type = dyn_cast<RankedTensorType>(w.getType()))
        bytes += type.getNumElements() * type.getElementTypeBitWidth() / 8;
    }
    return bytes;
  }

  /// tern_compiled_model, laid out as tern_model_desc.
  LogicalResult describe(int64_t logitsOffset) {
    auto intAttr = [&](Operation *on, StringRef name) -> std::optional<int64_t> {
      auto a = on->getAttrOfType<IntegerAttr>(name);
      return a ? std::optional<int64_t>(a.getInt()) : std::nullopt;
    };
    auto target = module->getAttrOfType<StringAttr>("tern.target");
    const TargetInfo *info = target ? lookupTarget(target.getValue()) : nullptr;
    if (!info)
      return module.emitError() << "tern-lower-to-runtime: the module has no known tern.target "
                                   "(run tern-select-kernels first)";
    std::optional<int64_t> arenaBytes = intAttr(forward, "tern.arena_bytes");
    std::optional<int64_t> maxTokens = intAttr(forward, "tern.max_tokens");
    std::optional<int64_t> weightsSize = intAttr(module, "tern.weights_size");
    std::optional<int64_t> weightsChecksum = intAttr(module, "tern.weights_checksum");
    if (!arenaBytes || !maxTokens)
      return forward.emitOpError() << "tern-lower-to-runtime: no memory plan (run "
                                      "tern-plan-memory first)";
    if (!weightsSize || !weightsChecksum)
      return module.emitError() << "tern-lower-to-runtime: the module names no weights blob "
                                   "(tern.weights_size / tern.weights_checksum; ternc sets them "
                                   "when it writes the blob)";
    auto cache = cast<KVCacheType>(forward.getArgumentTypes()[2]);
    auto family = module->getAttrOfType<StringAttr>("tern.family");
    // The forward's rows: logits of the vocabulary, or an embedding model's hidden states.
    int64_t width = cast<RankedTensorType>(forward.getResultTypes()[0]).getDimSize(1);
    int64_t vocab = width;
    forward.walk([&](EmbeddingOp e) { vocab = e.getTable().getType().getDimSize(0); });
    int64_t pooling = TERN_POOLING_NONE;
    if (auto mode = module->getAttrOfType<StringAttr>("tern.pooling")) {
      pooling = llvm::StringSwitch<int64_t>(mode.getValue())
                    .Case("last", TERN_POOLING_LAST)
                    .Case("mean", TERN_POOLING_MEAN)
                    .Case("cls", TERN_POOLING_CLS)
                    .Default(-1);
      if (pooling < 0)
        return module.emitError() << "tern-lower-to-runtime: tern.pooling " << mode
                                  << " is not last, mean or cls";
    }
    auto normalize = module->getAttrOfType<BoolAttr>("tern.normalize");
    // A language model's rows are logits over its vocabulary: the sampler and the batched
    // calls' strides read them so.
    if (pooling == TERN_POOLING_NONE && width != vocab)
      return forward.emitOpError() << "tern-lower-to-runtime: the forward gives " << width
                                   << " logits per token but the vocabulary has " << vocab
                                   << " tokens (an embedding model needs tern.pooling)";
    int64_t bos = intAttr(module, "tern.bos_token_id").value_or(-1);
    int64_t eos = intAttr(module, "tern.eos_token_id").value_or(-1);

    MLIRContext *ctx = module.getContext();
    SmallVector<Type> fields{i64, ptr, ptr};
    fields.append(17, i64);
    auto type = LLVM::LLVMStructType::getLiteral(ctx, fields);
    b.setInsertionPointToEnd(module.getBody());
    auto global = LLVM::GlobalOp::create(b, loc, type, /*isConstant=*/true,
                                         LLVM::Linkage::External, "tern_compiled_model",
                                         Attribute());
    Block *init = b.createBlock(&global.getInitializerRegion());
    b.setInsertionPointToStart(init);
    Value desc = LLVM::PoisonOp::create(b, loc, type);
    auto set = [&](int64_t index, Value v) {
      desc = LLVM::InsertValueOp::create(b, loc, desc, v, index);
    };
    auto constant = [&](int64_t v) {
      return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v)).getResult();
    };
    // createGlobalString puts the string globals at module level and their addresses here.
    set(0, constant(TERN_MODEL_ABI_VERSION));
    set(1, string("tern_model_family", family ? family.getValue() : "unknown"));
    set(2, string("tern_model_target", target.getValue()));
    int64_t values[] = {int64_t(info->features),   *arenaBytes,   *maxTokens,
                        cache.getLayers(),    cache.getKvHeads(), cache.getHeadDim(),
                        cache.getContextLength(), vocab,         logitsOffset,
                        bos,                  eos,           *weightsSize,
                        *weightsChecksum,     bytesPerToken(),   width,
                        pooling,              normalize && normalize.getValue() ? 1 : 0};
    for (auto [i, v] : llvm::enumerate(values))
      set(int64_t(i) + 3, constant(v));
    LLVM::ReturnOp::create(b, loc, desc);
    return success();
  }

  LogicalResult run() {
    b.setInsertionPoint(forward);
    auto fn = func::FuncOp::create(b, loc, "tern_model_forward", b.getFunctionType({ptr}, {i32}));
    Block *entry = fn.addEntryBlock();
    exec = entry->getArgument(0);
    failBlock = b.createBlock(&fn.getBody(), fn.getBody().end(), {i32}, {loc});
    func::ReturnOp::create(b, loc, failBlock->getArgument(0));
    b.setInsertionPointToStart(entry);
    for (Operation &op : forward.getBody().front()) {
      loc = op.getLoc();
      if (failed(lowerOp(op)))
        return failure();
    }
    loc = forward.getLoc();
    func::ReturnOp::create(b, loc, i32c(0));
    auto ret = cast<func::ReturnOp>(forward.getBody().front().getTerminator());
    FailureOr<int64_t> logits = arena(ret.getOperand(0));
    if (failed(logits))
      return failure();
    if (failed(describe(*logits)))
      return failure();
    forward.erase();
    return success();
  }
};

struct TernLowerToRuntimePass : impl::TernLowerToRuntimePassBase<TernLowerToRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      module.emitError() << "tern-lower-to-runtime: no func.func @forward to lower";
      return signalPassFailure();
    }
    if (forward.getNumArguments() != 3 || !isa<KVCacheType>(forward.getArgumentTypes()[2]) ||
        forward.getNumResults() < 1) {
      forward.emitOpError() << "tern-lower-to-runtime: expected @forward(tokens, positions, "
                               "kv_cache) -> (logits, kv_cache)";
      return signalPassFailure();
    }
    if (failed(Lowering(module, forward).run()))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::tern
