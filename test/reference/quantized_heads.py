"""The quantized output heads of ternc --head, in numpy (part of the independent reference).

Each format is computed from its definition, not from tern's packed bytes:
  q8_0  GGUF's Q8_0: per row and block of 32, d = max|w| / 127 (stored as IEEE half),
        q = roundf(w / d) with the float d; activations the same per token (float d).
  q6_k  GGUF's Q6_K numbers: per row and super-block of 256, d (IEEE half) and a signed 8-bit
        sub-scale sc per 16, w ~= d * sc * q with q in [-32, 31]. tern's quantizer, reproduced
        operation for operation in float32 (and the scale search's sums in double, in element
        order): for each 16 weights, the weight of largest magnitude m (the first on a tie) is
        mapped to -(31 + c / 8) steps for c = 0..16, q = clamp(roundf(w * step_inverse)), the
        scale refit by least squares s = sum(w q) / sum(q q), the smallest sum (w - s q)^2 kept
        (the first on a tie); then d = half(max |s| / 127), sc = clamp(roundf(s / d), -127, 127),
        q = clamp(roundf(w / (d * sc))). Activations per token and block of 256, d = max|x| / 127.
Logits are the exact integer dot products of each block times the scales, in float64.
"""

import numpy as np


def roundf(v):
    """C's roundf (halves away from zero) on float32, exactly (floor(|v| + 0.5) is not: adding
    0.5 to 0.49999997 rounds up)."""
    v = np.asarray(v, dtype=np.float32)
    a = np.abs(v)
    r = np.floor(a)
    r = r + ((a - r) >= np.float32(0.5))
    return (np.sign(v) * r).astype(np.float32)


def blocks_of(x, size):
    """Rows of x zero-padded to whole blocks: [rows, blocks, size] float32."""
    x = np.asarray(x, dtype=np.float32)
    rows, k = x.shape
    count = (k + size - 1) // size
    padded = np.zeros((rows, count * size), dtype=np.float32)
    padded[:, :k] = x
    return padded.reshape(rows, count, size)


def absmax_blocks(x, size):
    """int8 quantization per block (Q8_0's, and Q8_K's range): d = max|x| / 127 in float32,
    q = roundf(x * (1 / d)). Returns (q [rows, blocks, size] float64, d [rows, blocks] float32)."""
    b = blocks_of(x, size)
    d = (np.abs(b).max(axis=2) / np.float32(127)).astype(np.float32)
    inv = np.zeros_like(d)
    np.divide(np.float32(1), d, out=inv, where=d != 0)
    q = roundf(b * inv[:, :, None])
    return q.astype(np.float64), d


def q8_0_dequantized(head):
    """The head as ternc --head=q8_0 stores it, dequantized: [n, k] float32."""
    q, d = absmax_blocks(head, 32)
    d = d.astype(np.float16).astype(np.float32)
    w = (q.astype(np.float32) * d[:, :, None]).astype(np.float32)
    return w.reshape(w.shape[0], -1)[:, :np.shape(head)[1]]


def head_q8_0(x, head):
    qw, dw = absmax_blocks(head, 32)
    dw = dw.astype(np.float16).astype(np.float64)
    qx, dx = absmax_blocks(x, 32)
    dots = np.einsum("tbi,nbi->tnb", qx, qw)  # exact integers
    return np.einsum("tnb,tb,nb->tn", dots, dx.astype(np.float64), dw)


def _clamp_q6(v):
    return np.clip(roundf(v), -32, 31).astype(np.float32)


def _sub_block_scales(w):
    """The least-squares scale of each 16 weights: w [..., 16] float32 -> [...] float32."""
    a = np.abs(w)
    m = np.take_along_axis(w, np.argmax(a, axis=-1)[..., None], axis=-1)[..., 0]
    best = np.zeros(w.shape[:-1], dtype=np.float32)
    best_error = np.full(w.shape[:-1], np.inf)
    nonzero = m != 0
    safe_m = np.where(nonzero, m, np.float32(1))
    for c in range(17):
        inverse = (np.float32(-(31.0 + 0.125 * c)) / safe_m).astype(np.float32)
        q = _clamp_q6(w * inverse[..., None]).astype(np.float64)
        wq = np.zeros(w.shape[:-1])
        qq = np.zeros(w.shape[:-1])
        for i in range(16):  # in element order, as the C loop adds
            wq = wq + w[..., i].astype(np.float64) * q[..., i]
            qq = qq + q[..., i] * q[..., i]
        valid = nonzero & (qq != 0)
        s = np.where(valid, wq / np.where(qq != 0, qq, 1.0), 0.0)
        error = np.zeros(w.shape[:-1])
        for i in range(16):
            e = w[..., i].astype(np.float64) - s * q[..., i]
            error = error + e * e
        better = valid & (error < best_error)
        best_error = np.where(better, error, best_error)
        best = np.where(better, s.astype(np.float32), best)
    return best


def q6_k_numbers(head):
    """(step [n, blocks, 16] float32 = d * sc, q [n, blocks, 256] float32) of the head."""
    w = blocks_of(head, 256).reshape(np.shape(head)[0], -1, 16, 16)
    s = _sub_block_scales(w)
    smax = np.abs(s).max(axis=-1)
    d = (smax / np.float32(127)).astype(np.float32).astype(np.float16).astype(np.float32)
    safe_d = np.where(d != 0, d, np.float32(1))
    sc = np.where(d[..., None] != 0, np.clip(roundf(s / safe_d[..., None]), -127, 127), 0)
    step = (d[..., None] * sc.astype(np.float32)).astype(np.float32)
    safe_step = np.where(step != 0, step, np.float32(1))
    q = np.where(step[..., None] != 0, _clamp_q6(w / safe_step[..., None]), 0).astype(np.float32)
    return step, q.reshape(q.shape[0], q.shape[1], 256)


def q6_k_dequantized(head):
    """The head as ternc --head=q6_k stores it, dequantized: [n, k] float32."""
    step, q = q6_k_numbers(head)
    w = (np.repeat(step, 16, axis=-1) * q).astype(np.float32)
    return w.reshape(w.shape[0], -1)[:, :np.shape(head)[1]]


def head_q6_k(x, head):
    step, q = q6_k_numbers(head)
    # d * sc * q in float64 is exact (11 + 8 + 6 significant bits), so each block's dot product
    # with the integer activations is too.
    wv = np.repeat(step.astype(np.float64), 16, axis=-1) * q
    qx, dx = absmax_blocks(x, 256)
    return np.einsum("tbi,nbi,tb->tn", qx, wv, dx.astype(np.float64))


HEADS = {"q8_0": (head_q8_0, q8_0_dequantized), "q6_k": (head_q6_k, q6_k_dequantized)}
