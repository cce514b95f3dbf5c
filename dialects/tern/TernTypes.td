//===- TernTypes.td - tern types ---------------------------------------------------------------===//
#ifndef TERN_TYPES_TD
#define TERN_TYPES_TD

include "dialects/tern/TernAttrs.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

//===------------------------------------------------------------------------------------------===//
// TernaryWeightTypeInterface
//===------------------------------------------------------------------------------------------===//

def Tern_TernaryWeightTypeInterface : TypeInterface<"TernaryWeightTypeInterface"> {
  let cppNamespace = "::mlir::tern";
  let description = [{
    A ternary weight matrix of N output rows and K input columns, whatever its storage: the
    logical `!tern.ternary` type or a `!tern.packed` layout. Lets `tern.bitlinear` and the passes
    treat both alike.
  }];
  let methods = [
    InterfaceMethod<"Number of output rows (N).", "int64_t", "getRows">,
    InterfaceMethod<"Number of input columns (K).", "int64_t", "getCols">,
  ];
}

class Tern_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Tern_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

//===------------------------------------------------------------------------------------------===//
// !tern.ternary
//===------------------------------------------------------------------------------------------===//

def Tern_TernaryType : Tern_Type<"Ternary", "ternary",
    [Tern_TernaryWeightTypeInterface]> {
  let summary = "logical ternary weight matrix: N x K values in {-1, 0, +1}";
  let description = [{
    The weight of a BitNet linear layer as the model defines it, before any packing: N output rows
    of K values each in {-1, 0, +1}, laid out as in the checkpoint (row n holds the weights that
    produce output n, like `torch.nn.Linear.weight`). The floating-point scale of the weight is a
    separate operand of `tern.bitlinear` (shape [1] per tensor or [N] per row): it is data from
    the weight store, and stays per row when fusion concatenates weights with different scales.

    Example:

    ```mlir
    %w = tern.weight "model.layers.0.self_attn.q_proj.weight" : !tern.ternary<2560x2560>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

//===------------------------------------------------------------------------------------------===//
// !tern.packed
//===------------------------------------------------------------------------------------------===//

def Tern_PackedType : Tern_Type<"Packed", "packed",
    [Tern_TernaryWeightTypeInterface]> {
  let summary = "ternary weight matrix packed in the byte layout of one kernel family";
  let description = [{
    The same N x K ternary matrix as `!tern.ternary`, stored in the packed layout that the
    selected kernel reads. Produced by the weight-packing pass; the bytes live in the output
    weight blob.

    Example:

    ```mlir
    %w = tern.weight "model.layers.0.mlp.down_proj.weight"
           : !tern.packed<2560x6912, #tern.layout<tl2, tile_n = 32, tile_k = 96>>
    ```
  }];
  let parameters = (ins "int64_t":$rows, "int64_t":$cols, Tern_LayoutAttr:$layout);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

//===------------------------------------------------------------------------------------------===//
// !tern.kv_cache
//===------------------------------------------------------------------------------------------===//

def Tern_KVCacheType : Tern_Type<"KVCache", "kv_cache"> {
  let summary = "key/value cache of every attention layer of a decoder";
  let description = [{
    Keys and values of `layers` attention layers, each with `kv_heads` heads of `head_dim`
    elements, for up to `context` positions. `context` may be `?` until the driver fixes the
    context length. Attention reads the cache and returns it updated with the new positions;
    the cache is threaded through the layers as an SSA value.

    Example:

    ```mlir
    !tern.kv_cache<layers = 30, kv_heads = 5, head_dim = 128, context = 4096, f16>
    ```
  }];
  let parameters = (ins "int64_t":$layers, "int64_t":$kvHeads, "int64_t":$headDim,
                        "int64_t":$contextLength, "::mlir::Type":$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    bool hasStaticContext() const { return !::mlir::ShapedType::isDynamic(getContextLength()); }
    /// Elements of keys (or of values) per position and layer: kv_heads * head_dim.
    int64_t getKVWidth() const { return getKvHeads() * getHeadDim(); }
  }];
}

#endif // TERN_TYPES_TD
