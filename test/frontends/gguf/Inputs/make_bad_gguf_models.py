#!/usr/bin/python3
"""Writes a corpus of broken GGUF files, one folder per defect, from good tiny ones.

  make_bad_gguf_models.py GOOD_TQ2_0 GOOD_I2_S GOOD_Q2_0 GOOD_IQ2_BN GOOD_F16 OUT_DIR

The GOOD_* files are tern-gen-checkpoint's model.gguf in the formats gguf-tq2_0, gguf-i2_s,
gguf-q2_0, gguf-iq2_bn and gguf-f16 (the tiny preset: hidden 256, 2 layers, 4 / 2 heads, FFN
512, vocabulary 512, architecture bitnet-b1.58). Each OUT_DIR/<case>/model.gguf is one of them
with exactly one thing wrong; import-errors.test checks the error tern reports for each. The
OUT_DIR/ok-<case> files are unusual but well-formed variants that must import.

The files are read by gguf_io (beside this script) and written by serialize() below, which can
also write what gguf_io's writer will not: values of unknown types, chosen offsets and counts,
big-endian numbers. It reproduces the good files byte for byte (checked), so a case differs
from its good file only where its function changes it.
"""

import copy
import os
import shutil
import struct
import sys

import gguf_io  # the tests' GGUF reader (beside this script)
from gguf_io import ARRAY, BOOL, F16, F32, F32V, I32, Q8_0, STRING, U8, U32, U64, Tensor

Q4_K = 12  # blocks of 256 elements in 144 bytes


class Raw:
    """Bytes written as they are where a value belongs (a value of an unknown type, or one its
    type cannot express)."""

    def __init__(self, data):
        self.data = data


def serialize(f, endian="<", tensor_count=None, kv_count=None):
    """The bytes of gguf_io.File `f`, laid out as the good files are: tensors one after the
    other at multiples of f.alignment, unless a tensor has an `offset` of its own. The header's
    counts are the lists' lengths unless given; `endian` ">" writes every number big-endian."""
    def pack(fmt, *v):
        return struct.pack(endian + fmt, *v)

    def string(s):
        b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
        return pack("Q", len(b)) + b

    def value(t, v):
        if isinstance(v, Raw):
            return v.data
        if t == STRING:
            return string(v)
        if t == ARRAY:
            et, items = v
            return pack("IQ", et, len(items)) + b"".join(value(et, x) for x in items)
        return pack(gguf_io._SCALAR[t], v)

    align = f.alignment
    out = bytearray(b"GGUF")
    out += pack("I", f.version)
    out += pack("Q", len(f.tensors) if tensor_count is None else tensor_count)
    out += pack("Q", len(f.kvs) if kv_count is None else kv_count)
    for key, t, v in f.kvs:
        out += string(key) + pack("I", t) + value(t, v)
    offsets, end = [], 0
    for t in f.tensors:
        off = getattr(t, "offset", None)
        offsets.append(end if off is None else off)
        end = max(end, (offsets[-1] + len(t.data) + align - 1) // align * align)
    for t, off in zip(f.tensors, offsets):
        out += string(t.name) + pack("I", len(t.ne)) + b"".join(pack("Q", n) for n in t.ne)
        out += pack("IQ", t.type, off)
    out += bytes(-len(out) % align)
    data = bytearray(end)
    for t, off in zip(f.tensors, offsets):
        data[off:off + len(t.data)] = t.data
    return bytes(out + data)


# ---- helpers the cases share

ARCH = "bitnet-b1.58."
EMBD = "token_embd.weight"   # bf16 [256, 512]: 262144 bytes at offset 0
NORM = "output_norm.weight"  # f32 [256]: 1024 bytes at offset 262144
Q = "blk.0.attn_q.weight"    # [256, 256]: 256 rows of 256


def insert_after(f, after, key, vtype, value):
    """Adds metadata `key` right after `after`."""
    i = next(i for i, kv in enumerate(f.kvs) if kv[0] == after)
    f.kvs.insert(i + 1, (key, vtype, value))


def insert_tensor_after(f, after, tensor):
    f.tensors.insert(f.tensors.index(f.tensor(after)) + 1, tensor)


def set_bits(t, byte, shift, code):
    """Sets the 2-bit field at `shift` of byte `byte` of tensor `t`'s data to `code`."""
    d = bytearray(t.data)
    d[byte] = (d[byte] & ~(3 << shift) & 0xFF) | (code << shift)
    t.data = bytes(d)


def retype(f, name, type_id, block_elems, block_bytes):
    """Gives tensor `name` type `type_id` (blocks of `block_elems` elements in `block_bytes`)
    with a payload of the right size."""
    t = f.tensor(name)
    elements = 1
    for n in t.ne:
        elements *= n
    t.type, t.data = type_id, bytes(elements // block_elems * block_bytes)


def info_offset_at(raw, name, n_dims):
    """Where tensor `name`'s offset field is in `raw` (its info: name, n_dims, ne, type,
    offset)."""
    return raw.index(struct.pack("<Q", len(name)) + name.encode()) + 8 + len(name) + 4 + \
        8 * n_dims + 4


def data_start(raw, f):
    """The data section's start in `raw`, `f`'s serialization."""
    return len(raw) - sum((len(t.data) + f.alignment - 1) // f.alignment * f.alignment
                          for t in f.tensors)


# ---- the container (GgufFile.cpp). Cases returning bytes write them as the file; the others
# change `f`, which is written with serialize().

def empty(f):
    return b""


def bad_magic(f):
    # ggml's older container (GGML / GGJT files predate GGUF).
    return b"GGML" + serialize(f)[4:]


def elf_magic(f):
    # Not printable: shown escaped.
    return b"\x7fELF" + serialize(f)[4:]


def truncated_version(f):
    return serialize(f)[:6]


def big_endian(f):
    # Every number big-endian, as gguf-py writes with --bigendian.
    return serialize(f, endian=">")


def version_1(f):
    f.version = 1


def version_4(f):
    f.version = 4


def truncated_counts(f):
    # "GGUF", the version and the tensor count; the file ends inside the metadata count.
    return serialize(f)[:20]


def kv_count_too_large(f):
    return serialize(f, kv_count=1 << 40)


def tensor_count_too_large(f):
    return serialize(f, tensor_count=1 << 40)


def key_length_past_eof(f):
    # The first key's length (bytes 24..31) says 2^40.
    raw = bytearray(serialize(f))
    raw[24:32] = struct.pack("<Q", 1 << 40)
    return bytes(raw)


def string_past_eof(f):
    # general.name's value: a length of 2^40, then the rest of the file.
    f.set("general.name", STRING, Raw(struct.pack("<Q", 1 << 40)))


def unknown_value_type(f):
    # Value type 13 (one past f64), then a u32's bytes.
    f.set("general.quantization_version", 13, Raw(struct.pack("<I", 2)))


def array_unknown_type(f):
    # tokenizer.ggml.token_type as an array of element type 13.
    types = f.get("tokenizer.ggml.token_type")[1]
    f.set("tokenizer.ggml.token_type", ARRAY,
          Raw(struct.pack("<IQ", 13, len(types)) + struct.pack("<%di" % len(types), *types)))


def array_count_past_eof(f):
    # tokenizer.ggml.token_type says 2^40 i32 elements.
    types = f.get("tokenizer.ggml.token_type")[1]
    f.set("tokenizer.ggml.token_type", ARRAY,
          Raw(struct.pack("<IQ", I32, 1 << 40) + struct.pack("<%di" % len(types), *types)))


def tokens_length_past_eof(f):
    # String 300 of tokenizer.ggml.tokens says 2^40 bytes.
    raw = bytearray(serialize(f))
    at = raw.index(b"tokenizer.ggml.tokens") + len("tokenizer.ggml.tokens") + 4 + 12
    for _ in range(300):
        at += 8 + struct.unpack_from("<Q", raw, at)[0]
    raw[at:at + 8] = struct.pack("<Q", 1 << 40)
    return bytes(raw)


def tokens_truncated(f):
    # The file ends inside tokenizer.ggml.tokens: its 512 strings cannot fit in what is left.
    raw = serialize(f)
    return raw[:raw.index(b"tokenizer.ggml.tokens") + 1000]


def bool_value_2(f):
    f.set("tokenizer.ggml.add_bos_token", BOOL, 2)


def duplicate_key(f):
    insert_after(f, "general.quantization_version", "general.name", STRING, "again")


def alignment_not_u32(f):
    insert_after(f, "general.quantization_version", "general.alignment", U64, 32)


def alignment_not_power_of_two(f):
    insert_after(f, "general.quantization_version", "general.alignment", U32, 48)


def alignment_zero(f):
    insert_after(f, "general.quantization_version", "general.alignment", U32, 0)


def n_dims_0(f):
    f.tensor(NORM).ne = []


def n_dims_5(f):
    f.tensor(NORM).ne = [256, 1, 1, 1, 1]


def zero_dimension(f):
    f.tensor(Q).ne = [256, 0]


def dimension_overflow(f):
    # 2^32 x 2^32 elements: the product does not fit in 63 bits.
    f.tensor(Q).ne = [1 << 32, 1 << 32]


def unknown_type_id(f):
    f.tensor(Q).type = 99


def retired_type_id(f):
    # Id 4 was Q4_2, removed from ggml before GGUF.
    f.tensor(Q).type = 4


def row_not_block_multiple(f):
    # The same 65536 elements as 512 rows of 128: TQ2_0's blocks are 256.
    f.tensor(Q).ne = [128, 512]


def offset_not_aligned(f):
    # output_norm.weight 16 bytes after its aligned place (right after the table).
    f.tensor(NORM).offset = 262144 + 16


def tensor_past_eof(f):
    # The last tensor's offset is the end of the data section: its 2048 bytes lie past the end.
    raw = bytearray(serialize(f))
    last = f.tensors[-1]
    at = info_offset_at(raw, last.name, len(last.ne))
    raw[at:at + 8] = struct.pack("<Q", len(raw) - data_start(raw, f))
    return bytes(raw)


def offset_huge(f):
    # An offset near 2^64 (aligned): offset + size overflows 64 bits.
    raw = bytearray(serialize(f))
    at = info_offset_at(raw, NORM, 1)
    raw[at:at + 8] = struct.pack("<Q", (1 << 64) - 32)
    return bytes(raw)


def overlapping_tensors(f):
    # blk.0.attn_norm.weight starts in the middle of output_norm.weight's 1024 bytes.
    f.tensor("blk.0.attn_norm.weight").offset = 262144 + 512


def duplicate_tensor_name(f):
    f.tensor("blk.0.attn_norm.weight").name = NORM


def truncated_tensor_infos(f):
    # The file ends right after the name of tensor 3 (blk.0.attn_q.weight).
    raw = serialize(f)
    return raw[:raw.index(Q.encode()) + len(Q)]


def truncated_padding(f):
    # The file ends after the tensor infos, before the padding that aligns the data.
    raw = serialize(f)
    return raw[:data_start(raw, f) - 4]


def truncated_data(f):
    # The last 1000 bytes of the data section are missing.
    return serialize(f)[:-1000]


# ---- the importer (GgufImporter.cpp)

def no_architecture(f):
    f.remove("general.architecture")


def architecture_llama(f):
    f.set("general.architecture", STRING, "llama")


def architecture_not_string(f):
    f.set("general.architecture", U32, 1)


def no_embedding_length(f):
    f.remove(ARCH + "embedding_length")


def embedding_length_string(f):
    f.set(ARCH + "embedding_length", STRING, "256")


def embedding_length_negative(f):
    f.set(ARCH + "embedding_length", I32, -256)


def block_count_zero(f):
    f.set(ARCH + "block_count", U32, 0)


def head_count_not_dividing(f):
    f.set(ARCH + "attention.head_count", U32, 3)


def head_count_kv_not_dividing(f):
    f.set(ARCH + "attention.head_count_kv", U32, 3)


def key_length(f):
    insert_after(f, ARCH + "attention.head_count_kv", ARCH + "attention.key_length", U32, 32)


def rope_dimension_partial(f):
    # Half of head_dim (64) rotated, as GPT-J style models do.
    f.set(ARCH + "rope.dimension_count", U32, 32)


def no_rms_epsilon(f):
    f.remove(ARCH + "attention.layer_norm_rms_epsilon")


def rms_epsilon_negative(f):
    f.set(ARCH + "attention.layer_norm_rms_epsilon", F32V, -1e-5)


def rope_freq_base_negative(f):
    f.set(ARCH + "rope.freq_base", F32V, -10000.0)


def rope_scaling_yarn(f):
    insert_after(f, ARCH + "rope.freq_base", ARCH + "rope.scaling.type", STRING, "yarn")
    insert_after(f, ARCH + "rope.scaling.type", ARCH + "rope.scaling.factor", F32V, 4.0)


def ffn_length_array_differing(f):
    f.set(ARCH + "feed_forward_length", ARRAY, (U32, [512, 256]))


def ffn_length_array_count(f):
    f.set(ARCH + "feed_forward_length", ARRAY, (U32, [512]))


def ffn_length_array_huge(f):
    # One entry per layer, equal, far above the 2^24 a plain feed_forward_length may be.
    f.set(ARCH + "feed_forward_length", ARRAY, (U64, [1 << 40, 1 << 40]))


def vocab_size_mismatch(f):
    f.set(ARCH + "vocab_size", U32, 1000)


def hidden_activation_gelu(f):
    insert_after(f, ARCH + "rope.freq_base", ARCH + "hidden_activation", STRING, "gelu")


def no_token_embd(f):
    f.tensors.remove(f.tensor(EMBD))


def token_embd_transposed(f):
    f.tensor(EMBD).ne = [512, 256]


def missing_tensor(f):
    f.tensors.remove(f.tensor("blk.1.ffn_up.weight"))


def wrong_shape(f):
    # blk.0.attn_k.weight with attn_q's shape and bytes: 256 rows where 128 (2 kv heads) belong.
    k, q = f.tensor("blk.0.attn_k.weight"), f.tensor(Q)
    k.ne, k.data = list(q.ne), q.data


def projection_q4_k(f):
    retype(f, Q, Q4_K, 256, 144)


def tq2_0_code_3(f):
    # Weight [1, 5]: row 1's block (66 bytes), byte 5, bits 0..1.
    set_bits(f.tensor(Q), 66 + 5, 0, 3)


def q2_0_code_3(f):
    # Weight [2, 70]: block 1 of row 2 (4 blocks of 18 bytes a row: fp16 d, 16 bytes of codes),
    # its element 6: byte 2 + 6 / 4, bits 2 * (6 % 4) = 4.
    set_bits(f.tensor(Q), (2 * 4 + 1) * 18 + 2 + 1, 4, 3)


def i2_s_code_3(f):
    # Weight [3, 200] is element 968: 128-block 7 (block 1 of row 3), its element 72: byte
    # 72 % 32 = 8 of the block's 32, bits 6 - 2 * (72 / 32) = 2.
    set_bits(f.tensor(Q), 7 * 32 + 8, 2, 3)


def iq2_bn_code_3(f):
    # Weight [0, 200]: row 0 (a float scale, then 4 blocks of 16 bytes), block 3, its element 8:
    # byte 8 % 16, bits 2 * (8 / 16) = 0.
    set_bits(f.tensor(Q), 4 + 3 * 16 + 8, 0, 3)


def f16_not_ternary(f):
    # Row 0's first nonzero weight (-s) halved: not -s, 0 or +s.
    t = f.tensor(Q)
    row = list(struct.unpack("<256e", t.data[:512]))
    c = next(i for i, v in enumerate(row) if v != 0)
    row[c] /= 2
    t.data = struct.pack("<256e", *row) + t.data[512:]


def f16_nan_row(f):
    # Row 0: zeros and one NaN (no -s or +s beside it).
    t = f.tensor(Q)
    t.data = struct.pack("<256e", *[0.0] * 7 + [float("nan")] + [0.0] * 248) + t.data[512:]


def embedding_nan(f):
    # token_embd.weight (bf16) element [2, 5]: a NaN (the head kernels assume finite tables).
    t = f.tensor("token_embd.weight")
    at = 2 * (2 * t.ne[0] + 5)
    t.data = t.data[:at] + struct.pack("<H", 0x7FC0) + t.data[at + 2:]


def tq2_0_scale_inf(f):
    # The fp16 d (bytes 64..65) of row 0's block: +inf.
    t = f.tensor(Q)
    t.data = t.data[:64] + struct.pack("<H", 0x7C00) + t.data[66:]


def i2_s_scale_nan(f):
    # The float after I2_S's codes (256 * 256 / 4 bytes): a NaN.
    t = f.tensor(Q)
    t.data = t.data[:16384] + struct.pack("<I", 0x7FC00000) + t.data[16388:]


def scale_tensor_f16(f):
    # llama.cpp's optional per-projection .scale, as f16 (tern reads one f32).
    insert_tensor_after(f, Q, Tensor("blk.0.attn_q.scale", [1], F16, struct.pack("<e", 1.0)))


def bias_tensor(f):
    insert_tensor_after(f, Q, Tensor("blk.0.attn_q.bias", [256], F32, bytes(1024)))


def rope_freqs_tensor(f):
    insert_tensor_after(f, NORM, Tensor("rope_freqs.weight", [32], F32,
                                        struct.pack("<32f", *[1.0] * 32)))


def norm_weight_q8_0(f):
    retype(f, NORM, Q8_0, 32, 34)


def embedding_q8_0_nan_scale(f):
    # token_embd.weight as q8_0 (zeros) whose row 1, block 0 has a NaN fp16 d.
    retype(f, EMBD, 8, 32, 34)
    t = f.tensor(EMBD)
    at = (t.ne[0] // 32) * 34  # row 1's first block
    t.data = t.data[:at] + struct.pack("<H", 0x7E00) + t.data[at + 2:]


def embedding_q3_k(f):
    # q3_K (id 11): a table type tern neither has a kernel for nor dequantizes.
    retype(f, EMBD, 11, 256, 110)


# ---- the tokenizer (GgufTokenizer.cpp, frontends/common/TokenizerTables.cpp)

def tokenizer_model_llama(f):
    f.set("tokenizer.ggml.model", STRING, "llama")


def tokenizer_pre_unknown(f):
    f.set("tokenizer.ggml.pre", STRING, "qwen2")


def tokenizer_pre_missing(f):
    # No tokenizer.ggml.pre, and a vocabulary that is not Llama 3's (no <|begin_of_text|>).
    f.remove("tokenizer.ggml.pre")
    tokens = f.get("tokenizer.ggml.tokens")[1]
    tokens[tokens.index("<|begin_of_text|>")] = "<s>"


def no_tokens(f):
    f.remove("tokenizer.ggml.tokens")


def no_merges(f):
    f.remove("tokenizer.ggml.merges")


def token_type_length(f):
    f.get("tokenizer.ggml.token_type")[1].pop()


def token_type_byte(f):
    # Type 6 (a byte token, SentencePiece's <0x41>) in a gpt2 vocabulary.
    f.get("tokenizer.ggml.token_type")[1][65] = 6


def merge_unknown_token(f):
    f.get("tokenizer.ggml.merges")[1][0] = "Ġ zzq"


def merge_without_space(f):
    f.get("tokenizer.ggml.merges")[1][1] = "he"


def token_not_byte_level(f):
    # A raw space (byte-level text writes it 'Ġ') in normal token 300.
    f.get("tokenizer.ggml.tokens")[1][300] = "a b"


def bos_out_of_range(f):
    f.set("tokenizer.ggml.bos_token_id", U32, 512)


def add_bos_without_bos_id(f):
    f.remove("tokenizer.ggml.bos_token_id")


def add_bos_not_bool(f):
    f.set("tokenizer.ggml.add_bos_token", U8, 1)


def missing_byte_token(f):
    # 'Ċ' (the byte 10) marked unused: an unused token is raw text, so no token is the byte 10.
    tokens = f.get("tokenizer.ggml.tokens")[1]
    f.get("tokenizer.ggml.token_type")[1][tokens.index("Ċ")] = 5


# ---- well-formed variants that must import

def ok_version_2(f):
    # GGUF v2 has v3's layout (v3 only added big-endian files).
    f.version = 2


def ok_alignment_64(f):
    insert_after(f, "general.quantization_version", "general.alignment", U32, 64)
    f.alignment = 64


def ok_no_pre_llama3(f):
    # The official BitNet b1.58 2B4T file has no tokenizer.ggml.pre: its vocabulary is Llama 3's.
    f.remove("tokenizer.ggml.pre")


def ok_nested_array(f):
    # An array of arrays as gguf-py writes one (GGUFWriter._pack_val) and the GGUF spec lays it
    # out: the outer array's element type ARRAY, then each element an array (element type,
    # count, elements) with no value type of its own. A key tern does not read: skipped.
    insert_after(f, "general.quantization_version", "general.tags_per_layer", ARRAY,
                 (ARRAY, [(U32, [1, 2]), (U32, [3])]))


# (name, the good file it starts from, the change)
CASES = [
    # the container
    ("empty", "tq2_0", empty),
    ("bad-magic", "tq2_0", bad_magic),
    ("elf-magic", "tq2_0", elf_magic),
    ("truncated-version", "tq2_0", truncated_version),
    ("big-endian", "tq2_0", big_endian),
    ("version-1", "tq2_0", version_1),
    ("version-4", "tq2_0", version_4),
    ("truncated-counts", "tq2_0", truncated_counts),
    ("kv-count-too-large", "tq2_0", kv_count_too_large),
    ("tensor-count-too-large", "tq2_0", tensor_count_too_large),
    ("key-length-past-eof", "tq2_0", key_length_past_eof),
    ("string-past-eof", "tq2_0", string_past_eof),
    ("unknown-value-type", "tq2_0", unknown_value_type),
    ("array-unknown-type", "tq2_0", array_unknown_type),
    ("array-count-past-eof", "tq2_0", array_count_past_eof),
    ("tokens-length-past-eof", "tq2_0", tokens_length_past_eof),
    ("tokens-truncated", "tq2_0", tokens_truncated),
    ("bool-value-2", "tq2_0", bool_value_2),
    ("duplicate-key", "tq2_0", duplicate_key),
    ("alignment-not-u32", "tq2_0", alignment_not_u32),
    ("alignment-not-power-of-two", "tq2_0", alignment_not_power_of_two),
    ("alignment-zero", "tq2_0", alignment_zero),
    ("n-dims-0", "tq2_0", n_dims_0),
    ("n-dims-5", "tq2_0", n_dims_5),
    ("zero-dimension", "tq2_0", zero_dimension),
    ("dimension-overflow", "tq2_0", dimension_overflow),
    ("unknown-type-id", "tq2_0", unknown_type_id),
    ("retired-type-id", "tq2_0", retired_type_id),
    ("row-not-block-multiple", "tq2_0", row_not_block_multiple),
    ("offset-not-aligned", "tq2_0", offset_not_aligned),
    ("tensor-past-eof", "tq2_0", tensor_past_eof),
    ("offset-huge", "tq2_0", offset_huge),
    ("overlapping-tensors", "tq2_0", overlapping_tensors),
    ("duplicate-tensor-name", "tq2_0", duplicate_tensor_name),
    ("truncated-tensor-infos", "tq2_0", truncated_tensor_infos),
    ("truncated-padding", "tq2_0", truncated_padding),
    ("truncated-data", "tq2_0", truncated_data),
    # the importer
    ("no-architecture", "tq2_0", no_architecture),
    ("architecture-llama", "tq2_0", architecture_llama),
    ("architecture-not-string", "tq2_0", architecture_not_string),
    ("no-embedding-length", "tq2_0", no_embedding_length),
    ("embedding-length-string", "tq2_0", embedding_length_string),
    ("embedding-length-negative", "tq2_0", embedding_length_negative),
    ("block-count-zero", "tq2_0", block_count_zero),
    ("head-count-not-dividing", "tq2_0", head_count_not_dividing),
    ("head-count-kv-not-dividing", "tq2_0", head_count_kv_not_dividing),
    ("key-length", "tq2_0", key_length),
    ("rope-dimension-partial", "tq2_0", rope_dimension_partial),
    ("no-rms-epsilon", "tq2_0", no_rms_epsilon),
    ("rms-epsilon-negative", "tq2_0", rms_epsilon_negative),
    ("rope-freq-base-negative", "tq2_0", rope_freq_base_negative),
    ("rope-scaling-yarn", "tq2_0", rope_scaling_yarn),
    ("ffn-length-array-differing", "tq2_0", ffn_length_array_differing),
    ("ffn-length-array-count", "tq2_0", ffn_length_array_count),
    ("ffn-length-array-huge", "tq2_0", ffn_length_array_huge),
    ("vocab-size-mismatch", "tq2_0", vocab_size_mismatch),
    ("hidden-activation-gelu", "tq2_0", hidden_activation_gelu),
    ("no-token-embd", "tq2_0", no_token_embd),
    ("token-embd-transposed", "tq2_0", token_embd_transposed),
    ("missing-tensor", "tq2_0", missing_tensor),
    ("wrong-shape", "tq2_0", wrong_shape),
    ("projection-q4_k", "tq2_0", projection_q4_k),
    ("tq2_0-code-3", "tq2_0", tq2_0_code_3),
    ("q2_0-code-3", "q2_0", q2_0_code_3),
    ("i2_s-code-3", "i2_s", i2_s_code_3),
    ("iq2_bn-code-3", "iq2_bn", iq2_bn_code_3),
    ("f16-not-ternary", "f16", f16_not_ternary),
    ("f16-nan-row", "f16", f16_nan_row),
    ("embedding-nan", "tq2_0", embedding_nan),
    ("tq2_0-scale-inf", "tq2_0", tq2_0_scale_inf),
    ("i2_s-scale-nan", "i2_s", i2_s_scale_nan),
    ("scale-tensor-f16", "tq2_0", scale_tensor_f16),
    ("bias-tensor", "tq2_0", bias_tensor),
    ("rope-freqs-tensor", "tq2_0", rope_freqs_tensor),
    ("norm-weight-q8_0", "tq2_0", norm_weight_q8_0),
    ("embedding-q3_k", "tq2_0", embedding_q3_k),
    ("embedding-q8_0-nan-scale", "tq2_0", embedding_q8_0_nan_scale),
    # the tokenizer
    ("tokenizer-model-llama", "tq2_0", tokenizer_model_llama),
    ("tokenizer-pre-unknown", "tq2_0", tokenizer_pre_unknown),
    ("tokenizer-pre-missing", "tq2_0", tokenizer_pre_missing),
    ("no-tokens", "tq2_0", no_tokens),
    ("no-merges", "tq2_0", no_merges),
    ("token-type-length", "tq2_0", token_type_length),
    ("token-type-byte", "tq2_0", token_type_byte),
    ("merge-unknown-token", "tq2_0", merge_unknown_token),
    ("merge-without-space", "tq2_0", merge_without_space),
    ("token-not-byte-level", "tq2_0", token_not_byte_level),
    ("bos-out-of-range", "tq2_0", bos_out_of_range),
    ("add-bos-without-bos-id", "tq2_0", add_bos_without_bos_id),
    ("add-bos-not-bool", "tq2_0", add_bos_not_bool),
    ("missing-byte-token", "tq2_0", missing_byte_token),
    # well-formed variants
    ("ok-version-2", "tq2_0", ok_version_2),
    ("ok-alignment-64", "i2_s", ok_alignment_64),
    ("ok-no-pre-llama3", "tq2_0", ok_no_pre_llama3),
    ("ok-nested-array", "tq2_0", ok_nested_array),
]


def main(tq2_0, i2_s, q2_0, iq2_bn, f16, out):
    good = {}
    for name, path in (("tq2_0", tq2_0), ("i2_s", i2_s), ("q2_0", q2_0), ("iq2_bn", iq2_bn),
                       ("f16", f16)):
        good[name] = gguf_io.read(path)
        with open(path, "rb") as fh:
            assert serialize(good[name]) == fh.read(), path + ": not reproduced by serialize()"
    for name, base, change in CASES:
        f = copy.deepcopy(good[base])
        raw = change(f)
        d = os.path.join(out, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(d, "model.gguf"), "wb") as fh:
            fh.write(raw if isinstance(raw, bytes) else serialize(f))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
