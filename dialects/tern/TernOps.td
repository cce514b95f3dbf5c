//===- TernOps.td - tern operations ------------------------------------------------------------===//
//
// One definition per operation: summary, an example, the assembly format and the verifier hook.
// Shapes follow the Hugging Face modules: activations are [T, features] with T tokens, weights are
// [out, in] (N x K) like torch.nn.Linear.weight.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_OPS_TD
#define TERN_OPS_TD

include "dialects/tern/TernTypes.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===------------------------------------------------------------------------------------------===//
// Type constraints
//===------------------------------------------------------------------------------------------===//

def Tern_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Tern_F32Tensor : RankedTensorOf<[F32]>;
def Tern_I8Tensor : RankedTensorOf<[I8]>;
def Tern_IndexTensor : RankedTensorOf<[I32, I64]>;
def Tern_FloatOrI8Tensor : RankedTensorOf<[AnyFloat, I8]>;
def Tern_TernaryWeight : Type<
    CPred<"::llvm::isa<::mlir::tern::TernaryWeightTypeInterface>($_self)">,
    "ternary weight (!tern.ternary or !tern.packed)",
    "::mlir::tern::TernaryWeightTypeInterface">;
def Tern_KVCache : Type<CPred<"::llvm::isa<::mlir::tern::KVCacheType>($_self)">,
    "!tern.kv_cache", "::mlir::tern::KVCacheType">;
def Tern_WeightValue : AnyTypeOf<[AnyRankedTensor, Tern_TernaryWeight]>;

//===------------------------------------------------------------------------------------------===//
// Weights
//===------------------------------------------------------------------------------------------===//

def Tern_WeightOp : Tern_Op<"weight", [Pure]> {
  let summary = "a tensor of the model's weight store, referred to by name";
  let description = [{
    Yields the weight-store tensor called `name` with the given type: a static-shaped tensor
    (embeddings, norm weights, scales, an output head) or a ternary weight matrix. The values are
    not in the IR; the compiler reads them from the store (the checkpoint, or the blob that the
    packing pass writes) when it needs them. The store converts the stored dtype to the declared
    element type only where that is exact (e.g. BF16 -> F32); importers declare the stored dtype.

    Example:

    ```mlir
    %g  = tern.weight "model.layers.0.input_layernorm.weight" : tensor<2560xbf16>
    %w  = tern.weight "model.layers.0.self_attn.q_proj.weight" : !tern.ternary<2560x2560>
    %ws = tern.weight "model.layers.0.self_attn.q_proj.weight_scale" : tensor<1xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Tern_WeightValue:$result);
  let assemblyFormat = "$name attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Tern_TernaryConstantOp : Tern_Op<"ternary_constant", [Pure]> {
  let summary = "a small ternary weight given inline (for tests)";
  let description = [{
    A ternary weight whose N x K values (each -1, 0 or +1) are written in the IR as an i8
    `dense` attribute. Meant for tests and hand-written examples: real models use `tern.weight`.

    Example:

    ```mlir
    %w = tern.ternary_constant dense<[[1, 0, -1], [0, 1, 1]]> : tensor<2x3xi8> -> !tern.ternary<2x3>
    ```
  }];
  let arguments = (ins SignlessIntElementsAttr<8>:$value);
  let results = (outs Tern_TernaryType:$result);
  let assemblyFormat = "$value attr-dict `->` qualified(type($result))";
  let hasVerifier = 1;
}

//===------------------------------------------------------------------------------------------===//
// Embedding, normalization, quantization
//===------------------------------------------------------------------------------------------===//

def Tern_EmbeddingOp : Tern_Op<"embedding", [Pure]> {
  let summary = "rows of an embedding table selected by token ids";
  let description = [{
    `result[t, :] = float(table[tokens[t], :])` for a [V, H] table and T token ids. A token id
    outside [0, V) is an error reported by the runtime, never an out-of-bounds read.

    Example:

    ```mlir
    %h = tern.embedding %table[%tokens]
           : tensor<128256x2560xbf16>, tensor<?xi32> -> tensor<?x2560xf32>
    ```
  }];
  let arguments = (ins Tern_FloatTensor:$table, Tern_IndexTensor:$tokens);
  let results = (outs Tern_F32Tensor:$result);
  let assemblyFormat = [{
    $table `[` $tokens `]` attr-dict `:` type($table) `,` type($tokens) `->` type($result)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$table, "::mlir::Value":$tokens)>];
  let hasVerifier = 1;
}

def Tern_RMSNormOp : Tern_Op<"rms_norm", [Pure]> {
  let summary = "RMS normalization over the last dimension (or each group of it), times a learned weight";
  let description = [{
    `result = input * rsqrt(mean(input^2, last dim) + eps) * weight`, computed in f32 as in the
    Hugging Face `LlamaRMSNorm` / `BitNetRMSNorm` modules. With `group_size`, every contiguous
    group of that many elements of the last dimension is normalized alone, with the same
    `group_size` weights: Qwen3's `q_norm` / `k_norm`, an RMSNorm of each head of the
    [T, heads * head_dim] projection over its head_dim.

    Example:

    ```mlir
    %n = tern.rms_norm %x, %g {eps = 1.0e-05 : f32}
           : tensor<?x2560xf32>, tensor<2560xbf16> -> tensor<?x2560xf32>
    %qn = tern.rms_norm %q, %qg {eps = 1.0e-06 : f32, group_size = 128 : i64}
           : tensor<?x2048xf32>, tensor<128xbf16> -> tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins Tern_F32Tensor:$input, Tern_FloatTensor:$weight, F32Attr:$eps,
                       OptionalAttr<I64Attr>:$group_size);
  let results = (outs Tern_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                                 "float":$eps, CArg<"int64_t", "0">:$group_size)>];
  let hasVerifier = 1;
}

def Tern_ActQuantOp : Tern_Op<"act_quant", [Pure]> {
  let summary = "per-token absmax quantization of activations to `bits`-bit integers";
  let description = [{
    For every token t (row of the [T, K] input), with `qmax = 2^(bits-1) - 1`:

    ```
    scale[t] = qmax / max(max_k |input[t, k]|, 1e-5)
    q[t, k]  = clamp(round_half_to_even(input[t, k] * scale[t]), -(qmax + 1), qmax)
    ```

    so that `input ~= q / scale`. `bits` is 8 for BitNet b1.58; smaller widths (stored in i8) are
    for 4-bit activation research.

    Example:

    ```mlir
    %q, %s = tern.act_quant %n : tensor<?x2560xf32> -> tensor<?x2560xi8>, tensor<?xf32>
    %q4, %s4 = tern.act_quant %n {bits = 4 : i64} : tensor<?x2560xf32> -> tensor<?x2560xi8>, tensor<?xf32>
    ```
  }];
  let arguments = (ins Tern_F32Tensor:$input, DefaultValuedAttr<I64Attr, "8">:$bits);
  let results = (outs Tern_I8Tensor:$quantized, Tern_F32Tensor:$scale);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($quantized) `,` type($scale)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$input, CArg<"int64_t", "8">:$bits)>];
  let hasVerifier = 1;
}

def Tern_QuantInputOp : Tern_Op<"quant_input", [Pure, AttrSizedOperandSegments]> {
  let summary = "a bitlinear's input, fused: gated activation, RMSNorm and quantization";
  let description = [{
    What the fusion passes make of the ops between a residual stream (or a feed-forward's gate
    and up projections) and the next `tern.bitlinear`, one kernel instead of three to five:

    ```
    x        = input                          glu = none (no `up`)
             = relu(input)^2 * up             glu = relu2
             = silu(input) * up               glu = silu
    y        = tern.rms_norm(x, norm_weight, eps)    when `norm` is given, else x
    q, scale = tern.act_quant(y, bits)
    ```

    with exactly the arithmetic of the unfused ops (the runtime's kernel is checked against their
    composition).

    Example:

    ```mlir
    %q, %s = tern.quant_input %h norm(%g : tensor<2560xbf16>) {eps = 1.0e-05 : f32}
               : tensor<?x2560xf32> -> tensor<?x2560xi8>, tensor<?xf32>
    %q2, %s2 = tern.quant_input %gate up(%up : tensor<?x6912xf32>) norm(%g2 : tensor<6912xbf16>)
                 {glu = #tern.glu<relu2>, eps = 1.0e-05 : f32}
               : tensor<?x6912xf32> -> tensor<?x6912xi8>, tensor<?xf32>
    ```
  }];
  let arguments = (ins Tern_F32Tensor:$input, Optional<Tern_F32Tensor>:$up,
                       Optional<Tern_FloatTensor>:$norm_weight,
                       DefaultValuedAttr<Tern_GluAttr, "::mlir::tern::Glu::none">:$glu,
                       OptionalAttr<F32Attr>:$eps,
                       DefaultValuedAttr<I64Attr, "8">:$bits);
  let results = (outs Tern_I8Tensor:$quantized, Tern_F32Tensor:$scale);
  let assemblyFormat = [{
    $input (`up` `(` $up^ `:` type($up) `)`)?
    (`norm` `(` $norm_weight^ `:` type($norm_weight) `)`)? attr-dict `:` type($input) `->`
    type($quantized) `,` type($scale)
  }];
  let hasVerifier = 1;
}

//===------------------------------------------------------------------------------------------===//
// Linear layers
//===------------------------------------------------------------------------------------------===//

def Tern_ConcatRowsOp : Tern_Op<"concat_rows", [Pure]> {
  let summary = "weights of several projections stacked row-wise (fused projections)";
  let description = [{
    Stacks the rows of its inputs: ternary weights (`!tern.ternary<N_i x K>` with one K) into one
    `!tern.ternary<(sum N_i) x K>`, or float tensors whose first dimension is `rows[i]` (or 1, a
    per-tensor value broadcast to `rows[i]` rows) into one tensor of `sum rows[i]` rows. The
    projection-fusion pass uses it for Q/K/V and gate/up weights and their scales: three
    per-tensor scales become one per-row scale. No bytes move in the IR; the packing pass
    writes the stacked weight.

    Example:

    ```mlir
    %w = tern.concat_rows %wq, %wk, %wv {rows = array<i64: 2560, 640, 640>}
           : !tern.ternary<2560x2560>, !tern.ternary<640x2560>, !tern.ternary<640x2560>
             -> !tern.ternary<3840x2560>
    %s = tern.concat_rows %sq, %sk, %sv {rows = array<i64: 2560, 640, 640>}
           : tensor<1xbf16>, tensor<1xbf16>, tensor<1xbf16> -> tensor<3840xbf16>
    ```
  }];
  let arguments = (ins Variadic<AnyTypeOf<[Tern_TernaryType, Tern_FloatTensor]>>:$inputs,
                       DenseI64ArrayAttr:$rows);
  let results = (outs AnyTypeOf<[Tern_TernaryType, Tern_FloatTensor]>:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` qualified(type($inputs)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Tern_SplitColsOp : Tern_Op<"split_cols", [Pure]> {
  let summary = "consecutive column ranges of a fused projection's output";
  let description = [{
    Splits a [T, sum W_i] tensor into [T, W_i] tensors, in order: the outputs of the projections
    a fused `tern.bitlinear` computed together.

    Example:

    ```mlir
    %q, %k, %v = tern.split_cols %qkv
                   : tensor<?x3840xf32> -> tensor<?x2560xf32>, tensor<?x640xf32>, tensor<?x640xf32>
    ```
  }];
  let arguments = (ins Tern_F32Tensor:$input);
  let results = (outs Variadic<Tern_F32Tensor>:$outputs);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($outputs)";
  let hasVerifier = 1;
}

def Tern_BitLinearOp : Tern_Op<"bitlinear", [Pure]> {
  let summary = "ternary-weight linear layer on quantized activations";
  let description = [{
    With quantized activations `x_q` [T, K] and their per-token scales `x_scale` [T] (from
    `tern.act_quant`), a ternary weight W [N, K] and its scale `weight_scale` ([1] or [N]):

    ```
    acc[t, n]    = sum_k x_q[t, k] * W[n, k]                      (exact, int32)
    result[t, n] = (acc[t, n] / x_scale[t]) * weight_scale[n]     scale_mode = multiply
    result[t, n] = (acc[t, n] / x_scale[t]) / weight_scale[n]     scale_mode = divide
    ```

    `multiply` is the released BitNet b1.58 2B4T convention (`linear_class: autobitlinear`);
    `divide` is the older `bitlinear` class and the latent-weight formula (`weight_scale` is then
    `1 / max(mean|W|, 1e-5)`). A per-tensor scale has shape [1] and applies to every row.

    A group-wise scale has shape [N, K / G] with G = 64, 128 or 256 (Ternary-Bonsai's and
    llama.cpp's Q2_0 form): row n's weights in columns [g G, (g + 1) G) have scale
    `weight_scale[n, g]`, so the sum splits by group:

    ```
    result[t, n] = sum_g (acc_g[t, n] * weight_scale[n, g]) / x_scale[t]    (multiply)
    ```

    with `acc_g` the exact int32 sum over group g (`/ weight_scale[n, g]` for divide).

    Example:

    ```mlir
    %q = tern.bitlinear %xq, %xs, %w, %ws
           : tensor<?x2560xi8>, tensor<?xf32>, !tern.ternary<2560x2560>, tensor<1xbf16>
             -> tensor<?x2560xf32>
    %o = tern.bitlinear %xq, %xs, %w, %ws {scale_mode = #tern.scale_mode<divide>}
           : tensor<?x2560xi8>, tensor<?xf32>, !tern.ternary<640x2560>, tensor<1xf32>
             -> tensor<?x640xf32>
    ```
  }];
  let arguments = (ins Tern_I8Tensor:$x_q, Tern_F32Tensor:$x_scale,
                       Tern_TernaryWeight:$weight, Tern_FloatTensor:$weight_scale,
                       DefaultValuedAttr<Tern_ScaleModeAttr,
                                         "::mlir::tern::ScaleMode::multiply">:$scale_mode);
  let results = (outs Tern_F32Tensor:$result);
  let assemblyFormat = [{
    $x_q `,` $x_scale `,` $weight `,` $weight_scale attr-dict `:` type($x_q) `,` type($x_scale)
    `,` qualified(type($weight)) `,` type($weight_scale) `->` type($result)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$x_q, "::mlir::Value":$x_scale,
                                 "::mlir::Value":$weight, "::mlir::Value":$weight_scale,
                                 CArg<"::mlir::tern::ScaleMode",
                                      "::mlir::tern::ScaleMode::multiply">:$scale_mode)>];
  let extraClassDeclaration = [{
    /// G of a group-wise weight_scale [N, K / G]; 0 for a per-tensor or per-row one.
    int64_t getScaleGroup();
  }];
  let hasVerifier = 1;
}

def Tern_MatMulOp : Tern_Op<"matmul", [Pure, AttrSizedOperandSegments]> {
  let summary = "dense linear layer (float, or int8 with scales), e.g. the output head";
  let description = [{
    `result[t, n] = sum_k input[t, k] * weight[n, k]` for a float input and float weight. With
    an int8 input (scales `input_scale` [T] from `tern.act_quant`) and an int8 weight (row
    scales `weight_scale` [N] or [1], so that `weight ~= weight_q * weight_scale`):

    ```
    result[t, n] = (sum_k input[t, k] * weight[n, k]) / input_scale[t] * weight_scale[n]
    ```

    Example:

    ```mlir
    %logits = tern.matmul %x, %emb : tensor<?x2560xf32>, tensor<128256x2560xbf16>
                -> tensor<?x128256xf32>
    %l8 = tern.matmul %xq, %w8 scales(%xs, %w8s)
            : tensor<?x2560xi8>, tensor<128256x2560xi8>, tensor<?xf32>, tensor<128256xf32>
              -> tensor<?x128256xf32>
    ```
  }];
  let arguments = (ins Tern_FloatOrI8Tensor:$input, Tern_FloatOrI8Tensor:$weight,
                       Optional<Tern_F32Tensor>:$input_scale,
                       Optional<Tern_FloatTensor>:$weight_scale);
  let results = (outs Tern_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`scales` `(` $input_scale^ `,` $weight_scale `)`)? attr-dict `:`
    type($input) `,` type($weight) (`,` type($input_scale)^ `,` type($weight_scale))?
    `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight)>,
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight,
                   "::mlir::Value":$input_scale, "::mlir::Value":$weight_scale)>];
  let hasVerifier = 1;
}

//===------------------------------------------------------------------------------------------===//
// Attention
//===------------------------------------------------------------------------------------------===//

def Tern_RoPEOp : Tern_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "rotary position embedding of every head at the given positions";
  let description = [{
    Rotates each `head_dim`-sized head of the [T, heads * head_dim] input by the angles
    `positions[t] * theta^(-2i / head_dim) / freq_factors[i]` for i in [0, head_dim / 2)
    (without `freq_factors`, a factor of 1). `rotate_half` (the HF Llama / BitNet convention)
    pairs dimension i with i + head_dim / 2; `interleaved` (Meta's original, GPT-J) pairs 2i with
    2i + 1. `freq_factors` is how a scaled RoPE reaches the op, whatever the checkpoint calls it
    (HF's rope_scaling of type `linear`: every factor the same; `llama3`: 1 for the high
    frequencies, the factor for the low ones, a smooth blend between; llama.cpp's
    `rope_freqs.weight` is this array).

    Example:

    ```mlir
    %qr = tern.rope %q, %pos {head_dim = 128 : i64, theta = 5.0e+05 : f32}
            : tensor<?x2560xf32>, tensor<?xi32>
    %kr = tern.rope %k, %pos {head_dim = 64 : i64, theta = 1.0e+04 : f32,
                              style = #tern.rope_style<interleaved>}
            : tensor<?x1024xf32>, tensor<?xi32>
    %sr = tern.rope %q, %pos {head_dim = 8 : i64, theta = 1.0e+04 : f32,
                              freq_factors = array<f32: 1.0, 1.0, 2.5, 4.0>}
            : tensor<?x64xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins Tern_F32Tensor:$input, Tern_IndexTensor:$positions, I64Attr:$head_dim,
                       F32Attr:$theta,
                       DefaultValuedAttr<Tern_RopeStyleAttr,
                                         "::mlir::tern::RopeStyle::rotate_half">:$style,
                       OptionalAttr<DenseF32ArrayAttr>:$freq_factors);
  let results = (outs Tern_F32Tensor:$result);
  let assemblyFormat = "$input `,` $positions attr-dict `:` type($input) `,` type($positions)";
  let builders = [OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$positions,
                                 "int64_t":$head_dim, "float":$theta,
                                 CArg<"::mlir::tern::RopeStyle",
                                      "::mlir::tern::RopeStyle::rotate_half">:$style,
                                 CArg<"::llvm::ArrayRef<float>", "{}">:$freq_factors)>];
  let hasVerifier = 1;
}

def Tern_AttentionOp : Tern_Op<"attention", [Pure, AllTypesMatch<["cache", "new_cache"]>]> {
  let summary = "causal grouped-query attention that appends to and reads a KV cache";
  let description = [{
    Writes the keys and values of the T new tokens into layer `layer` of the cache at their
    `positions`, then, for every query head h and token t, attends over the cached positions
    p <= positions[t] (all cached positions up to the newest one when `causal` is absent) using
    KV head `h / (heads / kv_heads)`:

    ```
    out[t, h] = sum_p softmax_p(scale * q[t, h] . k[p, g]) * v[p, g]
    ```

    `scale` defaults to `1 / sqrt(head_dim)`. The number of query heads is the query width
    divided by the cache's `head_dim`, and must be a multiple of its `kv_heads`. Returns the
    attention output [T, heads * head_dim] and the updated cache.

    Example:

    ```mlir
    %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %pos {causal}
                 : tensor<?x2560xf32>, tensor<?x640xf32>, tensor<?x640xf32>,
                   !tern.kv_cache<layers = 30, kv_heads = 5, head_dim = 128, context = 4096, f32>,
                   tensor<?xi32> -> tensor<?x2560xf32>
    ```
  }];
  let arguments = (ins Tern_F32Tensor:$query, Tern_F32Tensor:$key, Tern_F32Tensor:$value,
                       Tern_KVCache:$cache, Tern_IndexTensor:$positions,
                       I64Attr:$layer, UnitAttr:$causal, OptionalAttr<F32Attr>:$scale);
  let results = (outs Tern_F32Tensor:$output, Tern_KVCache:$new_cache);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $cache `[` $layer `]` `at` $positions attr-dict `:`
    type($query) `,` type($key) `,` type($value) `,` qualified(type($cache)) `,` type($positions)
    `->` type($output)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$query, "::mlir::Value":$key,
                                 "::mlir::Value":$value, "::mlir::Value":$cache,
                                 "::mlir::Value":$positions, "int64_t":$layer,
                                 CArg<"bool", "true">:$causal)>];
  let extraClassDeclaration = [{
    ::mlir::tern::KVCacheType getCacheType() {
      return ::llvm::cast<::mlir::tern::KVCacheType>(getCache().getType());
    }
    /// Number of query heads: the query width over the cache's head_dim.
    int64_t getNumHeads();
    /// The softmax scale: the `scale` attribute, or 1 / sqrt(head_dim).
    float getScaleOrDefault();
  }];
  let hasVerifier = 1;
}

//===------------------------------------------------------------------------------------------===//
// Elementwise
//===------------------------------------------------------------------------------------------===//

class Tern_UnaryElementwiseOp<string mnemonic, string formula> : Tern_Op<mnemonic,
    [Pure, Elementwise, SameOperandsAndResultType]> {
  let summary = "elementwise " # formula;
  let arguments = (ins Tern_F32Tensor:$input);
  let results = (outs Tern_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tern_Relu2Op : Tern_UnaryElementwiseOp<"relu2", "square of ReLU: max(x, 0)^2"> {
  let description = [{
    The BitNet b1.58 2B4T feed-forward activation (`hidden_act: relu2`).

    Example:

    ```mlir
    %a = tern.relu2 %gate : tensor<?x6912xf32>
    ```
  }];
}

def Tern_SiLUOp : Tern_UnaryElementwiseOp<"silu", "SiLU: x * sigmoid(x)"> {
  let description = [{
    The Llama feed-forward activation (`hidden_act: silu`).

    Example:

    ```mlir
    %a = tern.silu %gate : tensor<?x5460xf32>
    ```
  }];
}

class Tern_BinaryElementwiseOp<string mnemonic, string formula> : Tern_Op<mnemonic,
    [Pure, Elementwise, SameOperandsAndResultType]> {
  let summary = "elementwise " # formula # " of two tensors of the same type";
  let arguments = (ins Tern_F32Tensor:$lhs, Tern_F32Tensor:$rhs);
  let results = (outs Tern_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Tern_MulOp : Tern_BinaryElementwiseOp<"mul", "product"> {
  let description = [{
    The gated feed-forward product `act(gate) * up`.

    Example:

    ```mlir
    %m = tern.mul %a, %up : tensor<?x6912xf32>
    ```
  }];
}

def Tern_AddOp : Tern_BinaryElementwiseOp<"add", "sum"> {
  let description = [{
    The residual connections of a decoder layer.

    Example:

    ```mlir
    %h = tern.add %x, %attn_out : tensor<?x2560xf32>
    ```
  }];
}

#endif // TERN_OPS_TD
