//===- head_q6_generator.cpp - Halide generator of the ~6.5-bit output head's GEMV ------------===//
//
// out(r, nt) = sum_kb float(sum_j sc(r, j, kb, nt) * (isum(r, j, kb, nt) - 32 * sum_x(j, kb)))
//                     * (d_w(r, kb, nt) * d_x(kb))
// isum(r, j, kb, nt) = sum of the 16 codes of sub-block j times their activations
//
// for one token against a head in tern/head_q6.h's layout (GGUF's Q6_K numbers; codes q + 32 as
// 4 + 2 bits in 3072-byte tiles of 16 rows x 256 columns). A sub-block's 16 columns are 4 groups
// of 16 rows x 4 columns: each group's 64 codes are put together from a nibble of the low-bits
// bytes and 2 bits of the high-bits byte (shifts and masks of 64 bytes), then multiplied with 4
// broadcast activations (one AVX-512 VNNI vpdpbusd). The 16 sub-block sums are scaled in int32;
// the super-block's sum is converted and multiply-added into the row's float sum in block order,
// as the scalar kernel does (runtime/kernels/generic/head_q6_generic.c).
//
// With signed_codes (aarch64 dotprod, whose sdot multiplies signed by signed), the codes are
// turned back into q = code - 32 before the products and the correction is dropped: the same
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

class HeadQ6 : public Generator<HeadQ6> {
public:
  Input<Buffer<uint8_t, 3>> w{"w"};    // (byte: 3072, kb, nt) codes
  Input<Buffer<int8_t, 3>> sc{"sc"};   // (16 j + r: 256, kb, nt) sub-scales
  Input<Buffer<uint16_t, 3>> wd{"wd"}; // (r: 16, kb, nt) IEEE half scales
  Input<Buffer<int8_t, 1>> xq{"xq"};   // (c: 256 KB) quantized activations
  Input<Buffer<float, 1>> xd{"xd"};    // (kb) activation scales
  Input<Buffer<int32_t, 1>> xs{"xs"};  // (16 kb + j) sums of 16 quantized activations
  Output<Buffer<float, 2>> out{"out"}; // (r: 16, nt)
  GeneratorParam<bool> signed_codes{"signed_codes", false};

  void generate() {
    Expr blocks = w.dim(1).extent();
    // kk: column in a group, s: group in the sub-block (unrolled, so every shift is constant).
    RDom red(0, 4, 0, 4, "red");
    Expr kk = red.x, s = red.y;
    Expr byte = kk + 4 * r, sub = 192 * j;
    Expr low = w(sub + 64 * (s / 2) + byte, kb, nt) >> cast<uint8_t>(4 * (s % 2));
    Expr high = w(sub + 128 + byte, kb, nt) >> cast<uint8_t>(2 * s);
    Expr code = (low & cast<uint8_t>(15)) | ((high & cast<uint8_t>(3)) << cast<uint8_t>(4));
    isum(r, j, kb, nt) = 0;
    Expr weight = signed_codes ? cast<int32_t>(cast<int8_t>(code) - cast<int8_t>(32))
                               : cast<int32_t>(code);
    isum(r, j, kb, nt) += weight * cast<int32_t>(xq(kb * 256 + 16 * j + 4 * s + kk));
    RDom rj(0, 16, "rj");
    iblk(r, kb, nt) = 0;
    Expr exact = signed_codes ? isum(r, rj, kb, nt) : isum(r, rj, kb, nt) - 32 * xs(16 * kb + rj);
    iblk(r, kb, nt) += cast<int32_t>(sc(16 * rj + r, kb, nt)) * exact;
    RDom rb(0, blocks, "rb");
    Expr scale = cast<float>(reinterpret<float16_t>(wd(r, rb, nt))) * xd(rb);
    facc(r, nt) = 0.0f;
    facc(r, nt) += cast<float>(iblk(r, rb, nt)) * scale;
    out(r, nt) = facc(r, nt);
    redDom = red;
    rjDom = rj;
    rbDom = rb;
  }

  void schedule() {
    tern::kernels::setTiled(w, 3072);
    tern::kernels::setTiled(sc, 256);
    tern::kernels::setTiled(wd, 16);
    xq.dim(0).set_min(0).set_stride(1);
    xd.dim(0).set_min(0).set_stride(1);
    xs.dim(0).set_min(0).set_stride(1);
    tern::kernels::scheduleRowTasks(out, facc, r, nt, rbDom.x);
    // One super-block of the four tiles at a time, a sub-block per step.
    iblk.compute_at(facc, rbDom.x).vectorize(r).unroll(nt).unroll(kb);
    iblk.update().reorder(r, nt, rjDom.x).vectorize(r).unroll(nt).unroll(kb);
    isum.compute_at(iblk, rjDom.x).vectorize(r).unroll(nt).unroll(j).unroll(kb);
    isum.update()
        .atomic()
        .reorder(redDom.x, r, redDom.y, j, kb, nt)
        .vectorize(redDom.x)
        .vectorize(r)
        .unroll(redDom.y)
        .unroll(j)
        .unroll(kb)
        .unroll(nt);
  }

private:
  Var r{"r"}, j{"j"}, kb{"kb"}, nt{"nt"};
  Func isum{"isum"}, iblk{"iblk"}, facc{"facc"};
  RDom redDom, rjDom, rbDom;
};

} // namespace

HALIDE_REGISTER_GENERATOR(HeadQ6, head_q6)
