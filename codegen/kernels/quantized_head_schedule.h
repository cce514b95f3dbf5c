//===- quantized_head_schedule.h - what the quantized heads' generators share ----------------===//
//
// head_q8_generator.cpp and head_q6_generator.cpp read heads laid out in tiles of 16 rows
// (tern/head_q8.h, tern/head_q6.h) and split the rows the same way: four tiles (64 rows) per
// parallel task, each tile's float sum a vector of 16 rows accumulated block by block.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_CODEGEN_KERNELS_QUANTIZED_HEAD_SCHEDULE_H
#define TERN_CODEGEN_KERNELS_QUANTIZED_HEAD_SCHEDULE_H

#include "Halide.h"

namespace tern::kernels {

/// A (record, kb, nt) input of per-tile records of `record` elements, tile (nt, kb) at
/// (nt * KB + kb) * record.
template <typename Buffer> void setTiled(Buffer &b, int record) {
  b.dim(0).set_bounds(0, record).set_stride(1);
  b.dim(1).set_min(0).set_stride(record);
  b.dim(2).set_min(0).set_stride(b.dim(1).extent() * record);
}

/// out(r: 16, nt) = facc(r, nt), facc's update reducing over the blocks `rb`: four row tiles
/// (64 rows) per task, so four independent accumulator chains, the rows of a tile one vector.
inline void scheduleRowTasks(Halide::Func out, Halide::Func facc, Halide::Var r, Halide::Var nt,
                             Halide::RVar rb) {
  using namespace Halide;
  out.output_buffer().dim(0).set_bounds(0, 16).set_stride(1);
  out.output_buffer().dim(1).set_min(0).set_stride(16);
  Var nto("nto"), nti("nti");
  out.split(nt, nto, nti, 4, TailStrategy::RoundUp).vectorize(r).unroll(nti).parallel(nto);
  facc.compute_at(out, nto).vectorize(r).unroll(nt);
  facc.update().reorder(r, nt, rb).vectorize(r).unroll(nt);
}

} // namespace tern::kernels

#endif // TERN_CODEGEN_KERNELS_QUANTIZED_HEAD_SCHEDULE_H
