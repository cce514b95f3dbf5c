//===- embedding_generator.cpp - Halide generator of the embedding lookup ---------------------===//
//
// out(c, t) = table(c, tokens(t)) as float, the table passed as uint16 halves like the output
// head's (f16 and bf16 elements directly, f32 as (low, high) pairs) with the element type a
// runtime value (one specialized loop per type). The runtime checks the token ids first.
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"

using namespace Halide;

namespace {

class Embedding : public Generator<Embedding> {
public:
  Input<Buffer<uint16_t, 2>> table{"table"};  // (c: hidden or 2 hidden halves, row)
  Input<Buffer<int32_t, 1>> tokens{"tokens"}; // (t)
  Input<int32_t> dtype{"dtype"};              // tern_dtype_t: 0 f32, 1 f16, 2 bf16
  Output<Buffer<float, 2>> out{"out"};        // (c, t)

  void generate() {
    // Clamped only so bounds inference sees the table's rows: the runtime rejected bad ids.
    Expr row = clamp(tokens(t), 0, table.dim(1).extent() - 1);
    Expr f16 = cast<float>(reinterpret<float16_t>(table(c, row)));
    Expr bf16 = reinterpret<float>(cast<uint32_t>(table(c, row)) << 16);
    Expr f32 = reinterpret<float>(cast<uint32_t>(table(2 * c, row)) |
                                  (cast<uint32_t>(table(2 * c + 1, row)) << 16));
    out(c, t) = select(dtype == 1, f16, select(dtype == 2, bf16, f32));
  }

  void schedule() {
    table.dim(0).set_min(0).set_stride(1);
    out.dim(0).set_min(0).set_stride(1);
    const int vf = natural_vector_size<float>();
    out.vectorize(c, vf, TailStrategy::GuardWithIf);
    out.specialize(dtype == 1);
    out.specialize(dtype == 2);
  }

private:
  Var c{"c"}, t{"t"};
};

} // namespace

HALIDE_REGISTER_GENERATOR(Embedding, embedding)
