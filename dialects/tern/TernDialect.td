//===- TernDialect.td - the tern dialect -------------------------------------------------------===//
//
// The dialect definition and the base class of its operations. Types, attributes and operations
// live in TernTypes.td, TernAttrs.td and TernOps.td.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_DIALECT_TD
#define TERN_DIALECT_TD

include "mlir/IR/OpBase.td"

def Tern_Dialect : Dialect {
  let name = "tern";
  let cppNamespace = "::mlir::tern";
  let summary = "Ternary-weight (BitNet b1.58) language models, from import to kernel selection";
  let description = [{
    The `tern` dialect describes decoder-only language models whose linear layers have ternary
    weights (every weight is -1, 0 or +1, with a floating-point scale) and int8 activations, as in
    BitNet b1.58. A model is a `func.func` from token ids, positions and a KV cache to logits and
    the updated KV cache, built of the operations below.

    Weights are never stored in the IR: `tern.weight` refers by name to a tensor of the model's
    weight store (the checkpoint's safetensors, or a packed blob written by the compiler). Only
    tests use small inline constants (`tern.ternary_constant`, `arith.constant`).

    A linear layer's ternary weight has the logical type `!tern.ternary<N x K>` after import. The
    packing pass rewrites it into `!tern.packed<N x K, #tern.layout<...>>`, the byte layout read
    by the kernel that kernel selection chose. Both implement `TernaryWeightTypeInterface`.
  }];
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    // Defined next to the storage classes, in TernAttrs.cpp and TernTypes.cpp.
    void registerAttributes();
    void registerTypes();
  }];
}

class Tern_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tern_Dialect, mnemonic, traits>;

#endif // TERN_DIALECT_TD
