/* bitlinear_generic.c - scalar kernels of the ternary linear layer: the fallback and the oracle. */
#include "tern/kernels.h"

#include <math.h>
#include <string.h>

void tern_gemm_ternary_reference(const int8_t *w, int64_t n, int64_t k, const int8_t *x,
                                 int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  for (int64_t i = 0; i < t; ++i)
    for (int64_t row = 0; row < n; ++row) {
      int32_t sum = 0;
      for (int64_t col = 0; col < k; ++col)
        sum += (int32_t)w[row * k + col] * (int32_t)x[i * x_stride + col];
      acc[i * acc_stride + row] = sum;
    }
}

int tern_gemm_i2_generic(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                         int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  int64_t n_tiles = tern_round_up(n, 16) / 16, k_tiles = tern_round_up(k, 16) / 16;
  for (int64_t i = 0; i < t; ++i) {
    const int8_t *xi = x + i * x_stride;
    for (int64_t nt = 0; nt < n_tiles; ++nt) {
      int32_t sums[16] = {0};
      for (int64_t kt = 0; kt < k_tiles; ++kt) {
        const uint8_t *tile = w + (nt * k_tiles + kt) * TERN_I2_TILE_BYTES;
        const int8_t *xk = xi + kt * 16;
        for (int j = 0; j < 64; ++j)
          for (int s = 0; s < 4; ++s) {
            int code = (tile[j] >> (2 * s)) & 3;
            sums[j / 4] += (code - 1) * (int32_t)xk[4 * s + j % 4];
          }
      }
      for (int r = 0; r < 16 && nt * 16 + r < n; ++r)
        acc[i * acc_stride + nt * 16 + r] = sums[r];
    }
  }
  return 0;
}

void tern_bitlinear_epilogue(const int32_t *acc, int64_t acc_stride, int64_t t, int64_t n,
                             const float *x_scale, const float *w_mul, int per_row, float *y,
                             int64_t y_stride) {
  for (int64_t i = 0; i < t; ++i)
    for (int64_t row = 0; row < n; ++row)
      y[i * y_stride + row] =
          (float)acc[i * acc_stride + row] / x_scale[i] * w_mul[per_row ? row : 0];
}

void tern_act_quant_generic(const float *x, int64_t x_stride, int64_t t, int64_t k, int bits,
                            int8_t *q, int64_t q_stride, float *scale) {
  const float qmax = (float)((1 << (bits - 1)) - 1);
  int64_t k_pad = tern_round_up(k, 16);
  for (int64_t i = 0; i < t; ++i) {
    const float *xi = x + i * x_stride;
    float amax = 0.0f;
    for (int64_t c = 0; c < k; ++c)
      amax = fmaxf(amax, fabsf(xi[c]));
    float s = qmax / fmaxf(amax, 1e-5f);
    scale[i] = s;
    int8_t *qi = q + i * q_stride;
    for (int64_t c = 0; c < k; ++c) {
      /* rintf rounds half to even in the default rounding mode, like torch.round. */
      float v = rintf(xi[c] * s);
      v = fminf(fmaxf(v, -qmax - 1.0f), qmax);
      qi[c] = (int8_t)v;
    }
    memset(qi + k, 0, (size_t)(k_pad - k));
  }
}
