//===- Passes.td - tern passes -----------------------------------------------------------------===//
//
// One definition per pass, with a before/after example. The flag is `tern-<verb>-<object>`; the
// lit test of a pass is test/passes/<flag>.mlir.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_PASSES_TD
#define TERN_PASSES_TD

include "mlir/Pass/PassBase.td"

def TernSetContextLengthPass : Pass<"tern-set-context-length", "::mlir::ModuleOp"> {
  let summary = "Fix the context length of every !tern.kv_cache";
  let description = [{
    Importers leave the context length of the KV cache open (`context = ?`) because it is a
    deployment choice, not a property of the model; the driver's `--context=N` runs this pass to
    fix it. Every `!tern.kv_cache` in the module (function signatures, operations, block
    arguments) gets `context = <length>`. A cache that already has a different static length is
    an error unless `overwrite` is set.

    Before (`--tern-set-context-length=length=4096`):

    ```mlir
    func.func @forward(%kv: !tern.kv_cache<layers = 30, kv_heads = 5, head_dim = 128, context = ?, f32>)
    ```

    After:

    ```mlir
    func.func @forward(%kv: !tern.kv_cache<layers = 30, kv_heads = 5, head_dim = 128, context = 4096, f32>)
    ```
  }];
  let options = [
    Option<"length", "length", "int64_t", /*default=*/"0",
           "Context length (positions) of every KV cache; must be positive">,
    Option<"overwrite", "overwrite", "bool", /*default=*/"false",
           "Also replace context lengths that are already static">,
  ];
}

#endif // TERN_PASSES_TD
