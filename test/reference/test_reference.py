#!/usr/bin/python3
"""Tests of the numpy reference: the published weight layouts, the quantization and rounding
rules, RoPE, causality, and that all three checkpoint formats run.

Needs TERN_GEN_CHECKPOINT (the tern-gen-checkpoint binary) in the environment.
"""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bitnet_reference as ref  # noqa: E402
import quantized_heads as qh  # noqa: E402

GEN = os.environ.get("TERN_GEN_CHECKPOINT", "tern-gen-checkpoint")
FORMATS = ["bitnet-2b4t", "1bitllm", "llama-bitnet", "falcon3", "bonsai"]
PROJECTIONS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def generate(directory, *args):
    subprocess.run([GEN, "--quiet", "-o", directory, *args], check=True)
    return directory


class ReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.random = {f: generate(os.path.join(cls.tmp.name, f), "--format=" + f, "--seed=7")
                      for f in FORMATS}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_ramp_weights_decode_to_the_published_layout(self):
        # --values=ramp writes W[n, k] = ((n + 2k) mod 3) - 1; decoding the files by the published
        # rule (packed) or ternarizing them (latent) must give exactly that matrix.
        for f in FORMATS:
            model = ref.Model(generate(os.path.join(self.tmp.name, "ramp-" + f),
                                       "--format=" + f, "--values=ramp"))
            for layer in range(model.config["num_hidden_layers"]):
                for proj in PROJECTIONS:
                    wt, _, _ = model.linear_weights("model.layers.%d.%s" % (layer, proj))
                    n, k = np.indices(wt.shape)
                    expected = (n + 2 * k) % 3 - 1
                    np.testing.assert_array_equal(wt, expected, err_msg="%s %s" % (f, proj))

    def test_unpack_rejects_code_3(self):
        with self.assertRaises(ValueError):
            ref.unpack_ternary(np.array([[0b11000000]], dtype=np.uint8))

    def test_unpack_is_blockwise_along_rows(self):
        # One byte, four rows: row b holds bits 2b..2b+1.
        packed = np.array([[0b10_01_00_10]], dtype=np.uint8)
        np.testing.assert_array_equal(ref.unpack_ternary(packed).ravel(), [1, -1, 0, 1])

    def test_act_quant_rounds_half_to_even_and_clamps(self):
        q, s = ref.act_quant(np.array([[0.5, 1.5, 2.5, -2.5, 127.0]]))
        self.assertEqual(float(s[0, 0]), 1.0)
        np.testing.assert_array_equal(q, [[0, 2, 2, -2, 127]])
        q, _ = ref.act_quant(np.array([[0.0, 0.0]]))  # all zero: the 1e-5 floor, no NaN
        np.testing.assert_array_equal(q, [[0, 0]])

    def test_roundf_is_c_roundf(self):
        # Halves away from zero; the largest float below 0.5 rounds to 0 (floor(x + 0.5) would
        # give 1), and 2^23 + 1 stays itself.
        below_half = np.nextafter(np.float32(0.5), np.float32(0))
        v = np.array([0.5, -0.5, 1.5, -2.5, below_half, -below_half, 8388609.0], np.float32)
        np.testing.assert_array_equal(qh.roundf(v), [1, -1, 2, -3, 0, -0, 8388609])

    def test_q6_k_numbers(self):
        rng = np.random.default_rng(3)
        head = rng.normal(0, 0.02, (5, 300)).astype(np.float32)
        head[1, :256] = 0  # an all-zero super-block
        step, q = qh.q6_k_numbers(head)
        self.assertEqual(step.shape, (5, 2, 16))
        self.assertTrue(np.all((q >= -32) & (q <= 31)))
        self.assertTrue(np.all(step[1, 0] == 0) and np.all(q[1, 0] == 0))
        # Each super-block's largest sub-scale is +-127 steps of its half d.
        d = np.abs(step).max(axis=-1) / 127
        sc = step / np.where(d > 0, d, 1)[..., None]
        np.testing.assert_array_equal(sc, np.round(sc))
        self.assertTrue(np.all(np.abs(sc).max(axis=-1)[d > 0] == 127))
        # The dequantized weights are within half a step where not clamped, and the padding is 0.
        w = qh.q6_k_dequantized(head)
        self.assertEqual(w.shape, head.shape)
        steps = np.repeat(step, 16, axis=-1).reshape(5, -1)[:, :300]
        inside = np.abs(head) < 31 * np.abs(steps)
        self.assertTrue(np.all(np.abs(w - head)[inside] <= 0.5 * np.abs(steps)[inside] * 1.0001))
        self.assertTrue(np.all(q.reshape(5, -1)[:, 300:] == 0))

    def test_q8_0_dequantized_is_q_times_half_d(self):
        head = np.array([[0.0] * 31 + [1.27], [0.5] * 32], np.float32)
        w = qh.q8_0_dequantized(head)
        np.testing.assert_allclose(w[0, 31], 1.27, rtol=1e-3)
        self.assertEqual(w[0, 0], 0)
        self.assertEqual(w[1, 5], np.float32(127) * np.float32(np.float16(0.5 / 127)))

    def test_latent_ternarization(self):
        w = np.array([[0.3, -0.1, 0.0, 0.05]], dtype=np.float16)
        wt, sw = ref.ternarize_latent(w)
        mean = np.mean(np.abs(w.astype(np.float64)))
        self.assertAlmostEqual(sw, 1.0 / mean)
        np.testing.assert_array_equal(wt, [[1, -1, 0, 0]])  # 0.05 * 8.89 = 0.44 -> 0

    def test_ternary_floats_recover_codes_and_group_scales(self):
        # Two groups of 4 columns: -s, 0, +s with s = 0.5 and 0.25; a group of zeros has scale 0.
        w = np.array([[0.5, 0, -0.5, 0.5, 0.25, 0.25, 0, -0.25],
                      [0, 0, 0, 0, -1.0, 0, 0, 1.0]])
        wt, scale, multiply = ref.ternary_floats(w, 4)
        np.testing.assert_array_equal(wt, [[1, 0, -1, 1, 1, 1, 0, -1], [0, 0, 0, 0, -1, 0, 0, 1]])
        np.testing.assert_array_equal(scale, [[0.5, 0.25], [0, 1.0]])
        self.assertTrue(multiply)
        with self.assertRaises(ValueError):
            ref.ternary_floats(np.array([[0.5, 0.25, 0, 0]]), 4)

    def test_head_norm_normalizes_each_head_alone(self):
        model = ref.Model(self.random["bonsai"])
        x = np.random.default_rng(1).normal(size=(2, 4 * model.head_dim))
        x[:, :model.head_dim] *= 100  # a loud first head must not change the others
        y = model.head_norm(x, "model.layers.0.self_attn.q_norm")
        g = model.dense("model.layers.0.self_attn.q_norm.weight")
        for h in range(4):
            part = x[:, h * model.head_dim:(h + 1) * model.head_dim]
            np.testing.assert_allclose(y[:, h * model.head_dim:(h + 1) * model.head_dim],
                                       ref.rms_norm(part, g, model.eps))

    def test_rope_is_identity_at_position_zero_and_keeps_norms(self):
        x = np.random.default_rng(0).normal(size=(3, 32))
        y = ref.rope(x, np.array([0, 5, 1000]), 16, ref.rope_inv_freq(16, 500000.0, None))
        np.testing.assert_allclose(y[0], x[0])
        np.testing.assert_allclose(np.linalg.norm(y.reshape(3, 2, 16), axis=-1),
                                   np.linalg.norm(x.reshape(3, 2, 16), axis=-1))
        # rotate-half pairs dimension i with i + 8 of each head
        z = np.zeros((1, 16))
        z[0, 0] = 1.0
        r = ref.rope(z, np.array([1]), 16, ref.rope_inv_freq(16, 10000.0, None))
        self.assertAlmostEqual(r[0, 0], np.cos(1.0))
        self.assertAlmostEqual(r[0, 8], np.sin(1.0))

    def test_rope_scaling_as_transformers_computes_it(self):
        plain = ref.rope_inv_freq(16, 500000.0, None)
        linear = ref.rope_inv_freq(16, 500000.0, {"rope_type": "linear", "factor": 4.0})
        np.testing.assert_allclose(linear, plain / 4.0)
        # Llama 3.1's parameters: wavelengths below 8192 / 4 keep their frequency, those above
        # 8192 / 1 are divided by 8, those between blend (here pairs 0-3, 5-7 and 4).
        llama3 = ref.rope_inv_freq(16, 500000.0, {
            "type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192})
        wavelen = 2 * np.pi / plain
        np.testing.assert_array_equal(llama3[wavelen < 2048], plain[wavelen < 2048])
        np.testing.assert_allclose(llama3[wavelen > 8192], plain[wavelen > 8192] / 8.0)
        middle = (wavelen >= 2048) & (wavelen <= 8192)
        self.assertEqual(int(middle.sum()), 1)
        self.assertAlmostEqual(float(plain[middle][0] / llama3[middle][0]), 2.6945297, places=6)

    def test_scale_conventions(self):
        model = ref.Model(self.random["bitnet-2b4t"])
        self.assertTrue(model.multiply)
        x = np.random.default_rng(1).normal(size=(2, model.hidden))
        prefix = "model.layers.0.self_attn.q_proj"
        multiplied = model.bitlinear(x, prefix)
        wt, scale, _ = model.linear_weights(prefix)
        model._linear[prefix] = (wt, scale, False)
        divided = model.bitlinear(x, prefix)
        mask = divided != 0
        np.testing.assert_allclose(multiplied[mask] / divided[mask], scale * scale)
        llama = ref.Model(self.random["llama-bitnet"])
        self.assertFalse(llama.multiply)  # no linear_class: bitlinear, divide

    def test_causal(self):
        for f in FORMATS:
            model = ref.Model(self.random[f])
            a = model.forward([1, 2, 3, 4])
            b = model.forward([1, 2, 3, 9])
            np.testing.assert_allclose(a[:3], b[:3], rtol=0, atol=0, err_msg=f)
            self.assertFalse(np.allclose(a[3], b[3]))

    def test_all_formats_give_finite_logits(self):
        for f in FORMATS:
            model = ref.Model(self.random[f])
            logits = model.forward([5, 17, 300, 2])
            self.assertEqual(logits.shape, (4, model.config["vocab_size"]))
            self.assertTrue(np.isfinite(logits).all(), f)
            self.assertGreater(np.std(logits), 0.1, f)

    def test_sharded_checkpoint_reads_the_same_tensors(self):
        sharded = generate(os.path.join(self.tmp.name, "sharded"), "--format=bitnet-2b4t",
                           "--seed=7", "--shard-size=20KB")
        self.assertTrue(os.path.exists(os.path.join(sharded, "model.safetensors.index.json")))
        a = ref.Model(self.random["bitnet-2b4t"]).forward([3, 1, 4])
        b = ref.Model(sharded).forward([3, 1, 4])
        np.testing.assert_array_equal(a, b)


if __name__ == "__main__":
    unittest.main(verbosity=2)
