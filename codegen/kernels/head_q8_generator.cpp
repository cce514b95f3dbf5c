//===- head_q8_generator.cpp - Halide generator of the 8-bit output head's GEMV ---------------===//
//
// out(r, nt) = sum_kb d_w(r, kb, nt) * d_x(kb) * (sum_i code(i, r, kb, nt) * q_x(32 kb + i)
//                                                 - 128 * sum_x(kb))
//
// for one token against a head in tern/head_q8.h's layout: codes are q + 128 (uint8) in
// 512-byte tiles of 16 rows x 32 columns, byte kk + 4 r + 64 s of a tile being row r, column
// 4 s + kk. Per tile the integer block sums of 16 rows are 8 steps of 16 rows x 4 columns (one
// AVX-512 VNNI vpdpbusd each, unsigned codes against 4 broadcast signed activations); then
// each row's block sum is corrected, converted and multiply-added into the row's float sum in
// block order, as the scalar kernel does (runtime/kernels/generic/head_q8_generic.c).
//
// With signed_codes (aarch64 dotprod, whose sdot multiplies signed by signed), the codes are
// turned back into q = code - 128 before the products and the correction is dropped: the same
// integers.
//
// The runtime passes the row tiles as a multiple of 4 (64 rows, one parallel task) and finishes
// the rest with the scalar kernel.
//
//===------------------------------------------------------------------------------------------===//
#include "Halide.h"
#include "quantized_head_schedule.h"

using namespace Halide;

namespace {

class HeadQ8 : public Generator<HeadQ8> {
public:
  Input<Buffer<uint8_t, 3>> w{"w"};      // (j: 512, kb, nt) codes
  Input<Buffer<uint16_t, 3>> ws{"ws"};   // (r: 16, kb, nt) IEEE half scales
  Input<Buffer<int8_t, 1>> xq{"xq"};     // (c: 32 KB) quantized activations
  Input<Buffer<float, 1>> xd{"xd"};      // (kb) activation scales
  Input<Buffer<int32_t, 1>> xs{"xs"};    // (kb) sums of the quantized activations
  Output<Buffer<float, 2>> out{"out"};   // (r: 16, nt)
  GeneratorParam<bool> signed_codes{"signed_codes", false};

  void generate() {
    Expr blocks = w.dim(1).extent();
    RDom red(0, 4, 0, 8, "red");
    Expr kk = red.x, s = red.y;
    isum(r, kb, nt) = 0;
    Expr code = w(kk + 4 * r + 64 * s, kb, nt);
    // code - 128 as int8: the uint8 sum wraps, the cast reinterprets.
    Expr weight = signed_codes ? cast<int32_t>(cast<int8_t>(code + cast<uint8_t>(128)))
                               : cast<int32_t>(code);
    isum(r, kb, nt) += weight * cast<int32_t>(xq(kb * 32 + s * 4 + kk));
    RDom rb(0, blocks, "rb");
    Expr scale = cast<float>(reinterpret<float16_t>(ws(r, rb, nt))) * xd(rb);
    facc(r, nt) = 0.0f;
    Expr exact = signed_codes ? isum(r, rb, nt) : isum(r, rb, nt) - 128 * xs(rb);
    facc(r, nt) += cast<float>(exact) * scale;
    out(r, nt) = facc(r, nt);
    redDom = red;
    rbDom = rb;
  }

  void schedule() {
    tern::kernels::setTiled(w, 512);
    tern::kernels::setTiled(ws, 16);
    xq.dim(0).set_min(0).set_stride(1);
    xd.dim(0).set_min(0).set_stride(1);
    xs.dim(0).set_min(0).set_stride(1);
    tern::kernels::scheduleRowTasks(out, facc, r, nt, rbDom.x);
    // One block of the four tiles at a time, its integer sums in registers.
    isum.compute_at(facc, rbDom.x).vectorize(r).unroll(nt).unroll(kb);
    isum.update()
        .atomic()
        .reorder(redDom.x, r, redDom.y, kb, nt)
        .vectorize(redDom.x)
        .vectorize(r)
        .unroll(redDom.y)
        .unroll(kb)
        .unroll(nt);
  }

private:
  Var r{"r"}, kb{"kb"}, nt{"nt"};
  Func isum{"isum"}, facc{"facc"};
  RDom redDom, rbDom;
};

} // namespace

HALIDE_REGISTER_GENERATOR(HeadQ8, head_q8)
