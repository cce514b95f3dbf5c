#!/usr/bin/python3
"""Independent numpy reference of BitNet-family models (the oracle of tern's end-to-end tests).

Reads a Hugging Face checkpoint folder with its own safetensors reader and computes the logits of
given token ids from the model definition, in float64. It shares no code with tern's C++ side.

Model definition (Hugging Face BitNet / Llama code):
  activation quantization, per token:  s = qmax / max(max|x|, 1e-5)
                                       q = clamp(round_half_to_even(x * s), -qmax - 1, qmax)
                                       qmax = 2^(input_bits - 1) - 1 (127: input_bits is 8
                                       unless config.json says otherwise)
  packed weights (U8 [N/4, K]):        row r of block b = r // (N/4) is bits 2b..2b+1 of packed
                                       row r % (N/4), holding w + 1
  group-wise weight_scale [N, K/G]:    y = sum_g (q_g . Wt_g^T) * weight_scale[:, g] / s
                                       (or / weight_scale[:, g] for bitlinear)
  linear_class autobitlinear:          y = (q . Wt^T) / s * weight_scale
  linear_class bitlinear or absent:    y = (q . Wt^T) / s / weight_scale
  latent weights:                      sw = 1 / max(mean|W|, 1e-5),
                                       Wt = clamp(round_half_to_even(W * sw), -1, 1),
                                       y = (q . Wt^T) / s / sw
  ternary floats (Qwen3ForCausalLM without a quantization_config, Ternary-Bonsai):
                                       per row and 128 columns sg = max|W_g|, Wt_g = W_g / sg
                                       (each exactly -1, 0 or +1), y = sum_g (q_g . Wt_g^T) sg / s
  decoder layer:   h   = x + o_proj(attn_sub_norm(attention(rope(q), rope(k), v)))
                   out = h + down_proj(ffn_sub_norm(act(gate_proj(n)) * up_proj(n)))
                   with q, k, v from input_layernorm(x), n = post_attention_layernorm(h);
                   sub-norms only where the checkpoint has them; act = relu^2 or silu.
                   Qwen3: q and k are RMSNormed per head (q_norm, k_norm over head_dim)
                   before RoPE.

Embedding models (Qwen3Model): the final norm's hidden states are the output; a text's vector
is them pooled as sentence-transformers' 1_Pooling/config.json says (the last token without
it), normalized to unit length when modules.json has a Normalize module.

Usage:
  bitnet_reference.py MODEL_DIR --tokens 1,2,3 [--out logits.npy]
  bitnet_reference.py MODEL_DIR --tokens 1,2,3 --embed [--out vector.npy]
  bitnet_reference.py MODEL_DIR --tokens 1,2,3 --generate 32   # greedy generation
  bitnet_reference.py MODEL_DIR --tokens 1,2,3,... --perplexity 64   # llama-perplexity's
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

from quantized_heads import HEADS

# ----------------------------------------------------------------------------------------------
# safetensors


_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}


def read_safetensors(path):
    """Returns {name: (dtype_name, array)}; BF16 arrives as float32."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        begin, end = info["data_offsets"]
        raw = np.frombuffer(data, dtype=_DTYPES[dtype], count=(end - begin) // np.dtype(
            _DTYPES[dtype]).itemsize, offset=base + begin)
        if dtype == "BF16":
            raw = (raw.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = (dtype, raw.reshape(info["shape"]))
    return tensors


def load_tensors(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for name in files:
        tensors.update(read_safetensors(os.path.join(model_dir, name)))
    return tensors


# ----------------------------------------------------------------------------------------------
# ternary weights


def unpack_ternary(packed):
    """U8 [N/4, K] -> int8 [N, K] in {-1, 0, 1} (block-wise along the output dim)."""
    blocks = [((packed >> (2 * b)) & 3).astype(np.int8) for b in range(4)]
    codes = np.concatenate(blocks, axis=0)
    if (codes == 3).any():
        raise ValueError("invalid ternary code 3")
    return codes - 1


def ternarize_latent(w):
    """float master weights -> (int8 ternary matrix, sw) with sw = 1 / max(mean|W|, 1e-5)."""
    w = w.astype(np.float64)
    sw = 1.0 / max(np.mean(np.abs(w)), 1e-5)
    return np.clip(np.round(w * sw), -1, 1).astype(np.int8), sw


# ----------------------------------------------------------------------------------------------
# the model


def ternary_floats(w, group):
    """(Wt, scales [N, K / group], multiply) of float weights that are ternary per group."""
    n, k = w.shape
    g = w.reshape(n, k // group, group)
    scale = np.abs(g).max(axis=-1)
    wt = np.divide(g, scale[..., None], out=np.zeros_like(g), where=scale[..., None] > 0)
    if not np.all(np.isin(wt, (-1.0, 0.0, 1.0))):
        raise ValueError("weights are not ternary per group")
    return wt.reshape(n, k), scale, True


def act_quant(x, bits=8):
    """Per-token absmax quantization to `bits` bits (config.json's input_bits; 8 for BitNet
    b1.58): (q as float64, s) with x ~= q / s, qmax = 2^(bits-1) - 1."""
    qmax = float(2 ** (bits - 1) - 1)
    s = qmax / np.maximum(np.max(np.abs(x), axis=-1, keepdims=True), 1e-5)
    return np.clip(np.round(x * s), -qmax - 1, qmax), s


def rms_norm(x, g, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * g


def rope_inv_freq(head_dim, theta, scaling):
    """RoPE's inverse frequencies, scaled as transformers' modeling_rope_utils does for
    rope_scaling / rope_parameters of rope_type "linear" and "llama3" (None: unscaled)."""
    inv_freq = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    kind = (scaling or {}).get("rope_type", (scaling or {}).get("type", "default"))
    if kind == "default":
        return inv_freq
    if kind == "linear":
        return inv_freq / scaling["factor"]
    assert kind == "llama3", kind
    factor, low = scaling["factor"], scaling["low_freq_factor"]
    high, old = scaling["high_freq_factor"], scaling["original_max_position_embeddings"]
    low_freq_wavelen, high_freq_wavelen = old / low, old / high
    wavelen = 2 * math.pi / inv_freq
    llama = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * llama / factor + smooth * llama
    medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return np.where(medium, smoothed, llama)


def rope(x, positions, head_dim, inv_freq):
    """Rotate-half RoPE of [T, heads * head_dim]."""
    t = x.shape[0]
    angles = positions.astype(np.float64)[:, None] * inv_freq[None, :]
    cos = np.concatenate([np.cos(angles)] * 2, axis=-1)[:, None, :]
    sin = np.concatenate([np.sin(angles)] * 2, axis=-1)[:, None, :]
    h = x.reshape(t, -1, head_dim)
    half = head_dim // 2
    rotated = np.concatenate([-h[..., half:], h[..., :half]], axis=-1)
    return (h * cos + rotated * sin).reshape(t, -1)


def attention(q, k, v, heads, kv_heads, head_dim):
    """Causal grouped-query attention over the T given tokens (positions 0..T-1)."""
    t = q.shape[0]
    q = q.reshape(t, heads, head_dim).transpose(1, 0, 2)
    k = k.reshape(t, kv_heads, head_dim).transpose(1, 0, 2)
    v = v.reshape(t, kv_heads, head_dim).transpose(1, 0, 2)
    group = heads // kv_heads
    k = np.repeat(k, group, axis=0)
    v = np.repeat(v, group, axis=0)
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(head_dim)
    scores = np.where(np.tril(np.ones((t, t), dtype=bool)), scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    return (p @ v).transpose(1, 0, 2).reshape(t, heads * head_dim)


class Model:
    def __init__(self, model_dir, head_format="exact", embedding="shared"):
        self.head_format = head_format
        self.embedding = embedding
        self.ties = np.inf  # per position after forward(): see bitlinear
        with open(os.path.join(model_dir, "config.json")) as f:
            self.config = c = json.load(f)
        self.tensors = load_tensors(model_dir)
        self.arch = c["architectures"][0]
        quant = c.get("quantization_config") or {}
        self.packed = bool(quant) and quant.get("quantization_mode", "offline") == "offline"
        qwen = self.arch in ("Qwen3ForCausalLM", "Qwen3Model")
        # A Qwen3Model saved alone (an embedding model) names its tensors without "model.".
        self.prefix = "model."
        if "model.embed_tokens.weight" not in self.tensors and "embed_tokens.weight" in \
                self.tensors:
            self.prefix = ""
        # BitNet embedding models: an RMSNorm of its own inside every projection, float master
        # weights ternarized per tensor.
        self.proj_norms = qwen and (self.prefix + "layers.0.self_attn.q_proj.norm.weight"
                                    in self.tensors)
        # Qwen3 without a quantization_config: float weights that are ternary per group.
        self.ternary_floats = qwen and not quant and not self.proj_norms
        self.qk_norm = qwen
        self.embedding_model = self.arch == "Qwen3Model"
        self.model_dir = model_dir
        self.multiply = quant.get("linear_class") == "autobitlinear"
        self.hidden = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads", self.heads)
        self.head_dim = c.get("head_dim") or self.hidden // self.heads
        self.eps = c["rms_norm_eps"]
        scaling = c.get("rope_parameters") or c.get("rope_scaling")
        self.theta = c.get("rope_theta", (c.get("rope_parameters") or {}).get("rope_theta",
                                                                          10000.0))
        self.inv_freq = rope_inv_freq(self.head_dim, self.theta, scaling)
        self.act = c["hidden_act"]
        if self.arch == "BitNetForCausalLM":
            self.sub_norms = ("self_attn.attn_sub_norm", "mlp.ffn_sub_norm")
        elif self.arch == "BitnetForCausalLM":
            self.sub_norms = ("self_attn.inner_attn_ln", "mlp.ffn_layernorm")
        else:
            self.sub_norms = None
        self._linear = {}

    def dense(self, name):
        return self.tensors[name][1].astype(np.float64)

    def linear_weights(self, prefix):
        """(Wt as float64 [N, K], scale, multiply?) of a projection."""
        if prefix not in self._linear:
            dtype, w = self.tensors[prefix + ".weight"]
            if self.ternary_floats:
                self._linear[prefix] = ternary_floats(w.astype(np.float64), 128)
            elif self.packed:
                assert dtype == "U8", prefix
                wt = unpack_ternary(w)
                scale = self.dense(prefix + ".weight_scale")
                # [1] per tensor, [N] per row, or [N, K / G] group-wise along K.
                scale = scale.astype(np.float64) if scale.ndim == 2 else float(
                    scale.reshape(-1)[0])
                self._linear[prefix] = (wt.astype(np.float64), scale, self.multiply)
            else:
                wt, sw = ternarize_latent(w)
                self._linear[prefix] = (wt.astype(np.float64), sw, False)
        return self._linear[prefix]

    def bitlinear(self, x, prefix):
        if self.proj_norms:
            x = self.norm(x, prefix + ".norm")
        wt, scale, multiply = self.linear_weights(prefix)
        q, s = act_quant(x, self.config.get("input_bits", 8))
        # How close each token's x * s came to a .5 tie (where a float32 implementation may
        # round the other way): the smallest distance over every quantized activation.
        v = np.abs(x * s)
        self.ties = np.minimum(self.ties, np.abs(v - np.floor(v) - 0.5).min(axis=-1))
        if isinstance(scale, np.ndarray):  # group-wise: each group of columns its own scale
            groups = scale.shape[1]
            g = wt.shape[1] // groups
            y = np.zeros((q.shape[0], wt.shape[0]))
            for j in range(groups):
                acc = q[:, j * g:(j + 1) * g] @ wt[:, j * g:(j + 1) * g].T
                y += acc * scale[:, j] if multiply else acc / scale[:, j]
            return y / s
        y = (q @ wt.T) / s
        return y * scale if multiply else y / scale

    def norm(self, x, name):
        return rms_norm(x, self.dense(name + ".weight"), self.eps)

    def head_norm(self, x, name):
        """RMSNorm of each head_dim-sized head of [T, heads * head_dim] (Qwen3's q/k norm)."""
        t = x.shape[0]
        h = x.reshape(t, -1, self.head_dim)
        return rms_norm(h, self.dense(name + ".weight"), self.eps).reshape(t, -1)

    def forward(self, tokens):
        tokens = np.asarray(tokens, dtype=np.int64)
        positions = np.arange(len(tokens))
        self.ties = np.full(len(tokens), np.inf)
        embed = self.dense(self.prefix + "embed_tokens.weight")
        x = embed[tokens]
        if (self.head_format != "exact" and self.embedding == "shared" and
                "lm_head.weight" not in self.tensors):
            # A tied table is stored once, quantized: the lookup reads the quantized rows.
            # Quantization is per row, so the looked-up rows alone give the same numbers.
            x = HEADS[self.head_format][1](x).astype(np.float64)
        for layer in range(self.config["num_hidden_layers"]):
            p = self.prefix + "layers.%d." % layer
            n = self.norm(x, p + "input_layernorm")
            q = self.bitlinear(n, p + "self_attn.q_proj")
            k = self.bitlinear(n, p + "self_attn.k_proj")
            if self.qk_norm:
                q = self.head_norm(q, p + "self_attn.q_norm")
                k = self.head_norm(k, p + "self_attn.k_norm")
            q = rope(q, positions, self.head_dim, self.inv_freq)
            k = rope(k, positions, self.head_dim, self.inv_freq)
            v = self.bitlinear(n, p + "self_attn.v_proj")
            a = attention(q, k, v, self.heads, self.kv_heads, self.head_dim)
            if self.sub_norms:
                a = self.norm(a, p + self.sub_norms[0])
            h = x + self.bitlinear(a, p + "self_attn.o_proj")
            n = self.norm(h, p + "post_attention_layernorm")
            gate = self.bitlinear(n, p + "mlp.gate_proj")
            up = self.bitlinear(n, p + "mlp.up_proj")
            if self.act == "relu2":
                gate = np.maximum(gate, 0.0) ** 2
            else:
                gate = gate / (1.0 + np.exp(-gate))
            m = gate * up
            if self.sub_norms:
                m = self.norm(m, p + self.sub_norms[1])
            x = h + self.bitlinear(m, p + "mlp.down_proj")
        x = self.norm(x, self.prefix + "norm")
        if self.embedding_model:  # the hidden states; embed() pools them
            return x
        head = self.dense("lm_head.weight") if "lm_head.weight" in self.tensors else embed
        if self.head_format != "exact":
            return HEADS[self.head_format][0](x, head)
        return x @ head.T


def pooling_of(model_dir):
    """(mode, normalize) from sentence-transformers' modules.json and the Pooling module's
    config.json; without them the last token, normalized (Qwen3-Embedding's pooling)."""
    modules_path = os.path.join(model_dir, "modules.json")
    if not os.path.exists(modules_path):
        return "last", True
    with open(modules_path) as f:
        modules = json.load(f)
    normalize = any(m["type"].endswith(".Normalize") for m in modules)
    pooling = next(m for m in modules if m["type"].endswith(".Pooling"))
    with open(os.path.join(model_dir, pooling["path"], "config.json")) as f:
        c = json.load(f)
    modes = [mode for key, mode in (("pooling_mode_lasttoken", "last"),
                                    ("pooling_mode_mean_tokens", "mean"),
                                    ("pooling_mode_cls_token", "cls")) if c.get(key)]
    assert len(modes) == 1, modes
    return modes[0], normalize


def embed(model, tokens):
    """An embedding model's vector of the tokens: the hidden states pooled, then normalized."""
    mode, normalize = pooling_of(model.model_dir)
    h = model.forward(tokens)
    v = {"last": h[-1], "mean": h.mean(axis=0), "cls": h[0]}[mode]
    if normalize:
        v = v / max(np.linalg.norm(v), 1e-12)
    return v


def log_softmax(logits):
    """Log probabilities of rows of logits, in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    m = logits.max(axis=-1, keepdims=True)
    return logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))


def perplexity(model, tokens, n_ctx, bos):
    """llama-perplexity's estimate from this reference's own logits: the tokens in chunks of
    n_ctx (the rest dropped), each run from position 0 with its first token replaced by the BOS
    (when the model has one), scored on tokens n_ctx/2 + 1 .. n_ctx - 1. Returns the running
    estimate after each chunk, the final perplexity and its standard error."""
    nll = []
    running = []
    for c in range(len(tokens) // n_ctx):
        chunk = list(tokens[c * n_ctx:(c + 1) * n_ctx])
        if bos is not None:
            chunk[0] = bos
        lp = log_softmax(model.forward(chunk))
        first = n_ctx // 2
        for j in range(first, n_ctx - 1):
            nll.append(-lp[j, chunk[j + 1]])
        running.append(math.exp(np.mean(nll)))
    nll = np.array(nll)
    ppl = math.exp(nll.mean())
    error = ppl * math.sqrt(max(nll.var(), 0.0) / (len(nll) - 1)) if len(nll) > 1 else 0.0
    return running, ppl, error


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("--tokens", required=True, help="comma-separated token ids")
    parser.add_argument("--out", help="write the float64 logits [T, V] here (.npy)")
    parser.add_argument("--ties", help="write, per position, the smallest distance of a "
                        "quantized activation x * s to a .5 tie here (.npy)")
    parser.add_argument("--head", default="exact", choices=["exact"] + sorted(HEADS),
                        help="the output head as ternc --head stores it")
    parser.add_argument("--embedding", default="shared", choices=["shared", "exact"],
                        help="with a quantized --head and tied weights, the lookup's table as "
                             "ternc --embedding chooses it")
    parser.add_argument("--embed", action="store_true",
                        help="an embedding model: the pooled vector of the tokens (to --out, "
                             "else printed)")
    parser.add_argument("--perplexity", type=int, metavar="N_CTX",
                        help="llama-perplexity's estimate over the tokens in chunks of N_CTX "
                             "(see perplexity())")
    parser.add_argument("--bos", type=int,
                        help="with --perplexity: the BOS each chunk starts with (default: "
                             "config.json's bos_token_id; -1: none)")
    parser.add_argument("--generate", type=int, default=0,
                        help="greedy generation of N tokens after the prompt: prints the ids "
                             "and, per step, the margin between the best two logits")
    args = parser.parse_args(argv)
    tokens = [int(t) for t in args.tokens.split(",") if t]
    model = Model(args.model_dir, args.head, args.embedding)
    if args.embed:
        v = embed(model, tokens)
        if args.out:
            np.save(args.out, v)
        else:
            print(" ".join("%.9g" % x for x in v))
        return 0
    if args.perplexity:
        bos = args.bos if args.bos is not None else model.config.get("bos_token_id")
        running, ppl, error = perplexity(model, tokens, args.perplexity,
                                         None if bos is None or bos < 0 else bos)
        print("chunks: " + " ".join("%.9g" % r for r in running))
        print("ppl: %.12g" % ppl)
        print("error: %.12g" % error)
        return 0
    if args.generate:
        generated, margins = [], []
        for _ in range(args.generate):
            row = model.forward(tokens + generated)[-1]
            top2 = np.sort(row)[-2:]
            generated.append(int(np.argmax(row)))
            margins.append(float(top2[1] - top2[0]))
        print("generated: " + " ".join(map(str, generated)))
        print("margins: " + " ".join("%.6g" % m for m in margins))
        return 0
    logits = model.forward(tokens)
    if args.out:
        np.save(args.out, logits)
    if args.ties:
        np.save(args.ties, model.ties)
    for t, row in enumerate(logits):
        print("position %d: argmax %d, max %.6f, mean %.6f" % (t, int(np.argmax(row)),
                                                               float(np.max(row)),
                                                               float(np.mean(row))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
