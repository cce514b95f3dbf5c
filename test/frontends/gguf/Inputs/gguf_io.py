"""A GGUF file as Python objects, read and written back (the tests' own code, independent of
tern's reader): the header, the metadata in order with its value types, the tensor infos and
each tensor's bytes. Only what the tests need: version 3, little-endian."""
import struct

F32, F16, Q4_0, Q8_0, Q6_K, BF16 = 0, 1, 2, 8, 14, 30
TQ1_0, TQ2_0, I2_S, Q2_0, IQ1_BN, IQ2_BN = 34, 35, 36, 42, 134, 135
(U8, I8, U16, I16, U32, I32, F32V, BOOL, STRING, ARRAY, U64, I64, F64) = range(13)
_SCALAR = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32V: "f", BOOL: "B",
           U64: "Q", I64: "q", F64: "d"}


# elements and bytes per block of the types the tests write
_BLOCKS = {F32: (1, 4), F16: (1, 2), BF16: (1, 2), Q4_0: (32, 18), Q8_0: (32, 34),
           Q6_K: (256, 210), TQ1_0: (256, 54), TQ2_0: (256, 66), Q2_0: (64, 18)}


def nbytes(type, ne):
    """Bytes of a tensor of `type` with dims `ne`, or None for a type this module does not
    know."""
    n = 1
    for d in ne:
        n *= d
    rows = n // ne[0]
    if type in _BLOCKS:
        elems, size = _BLOCKS[type]
        return n // elems * size
    if type == I2_S:
        return n // 4 + 32
    if type in (IQ1_BN, IQ2_BN):
        return rows * ((2 if type == IQ1_BN else 4) + ne[0] // 64 * (13 if type == IQ1_BN else 16))
    return None


class Tensor:
    def __init__(self, name, ne, type, data):
        self.name, self.ne, self.type, self.data = name, list(ne), type, data


class File:
    def __init__(self):
        self.version = 3
        self.kvs = []  # (key, type, value); arrays: (ARRAY, (element type, [values]))
        self.tensors = []
        self.alignment = 32

    def tensor(self, name):
        return next(t for t in self.tensors if t.name == name)

    def get(self, key):
        return next((v for k, _, v in self.kvs if k == key), None)

    def set(self, key, type, value):
        for i, (k, _, _) in enumerate(self.kvs):
            if k == key:
                self.kvs[i] = (key, type, value)
                return
        self.kvs.append((key, type, value))

    def remove(self, key):
        self.kvs = [kv for kv in self.kvs if kv[0] != key]


def _read_string(b, o):
    n, = struct.unpack_from("<Q", b, o)
    return b[o + 8:o + 8 + n].decode("utf-8", "surrogateescape"), o + 8 + n


def _read_value(b, o, t):
    if t == STRING:
        return _read_string(b, o)
    if t == ARRAY:
        et, n = struct.unpack_from("<IQ", b, o)
        o += 12
        values = []
        for _ in range(n):
            v, o = _read_value(b, o, et)
            values.append(v)
        return (et, values), o
    fmt = "<" + _SCALAR[t]
    return struct.unpack_from(fmt, b, o)[0], o + struct.calcsize(fmt)


def read(path):
    b = open(path, "rb").read()
    assert b[:4] == b"GGUF"
    f = File()
    f.version, nt, nkv = struct.unpack_from("<IQQ", b, 4)
    o = 24
    for _ in range(nkv):
        k, o = _read_string(b, o)
        t, = struct.unpack_from("<I", b, o)
        v, o = _read_value(b, o + 4, t)
        f.kvs.append((k, t, v))
    f.alignment = f.get("general.alignment") or 32
    infos = []
    for _ in range(nt):
        name, o = _read_string(b, o)
        nd, = struct.unpack_from("<I", b, o)
        ne = struct.unpack_from("<%dQ" % nd, b, o + 4)
        t, off = struct.unpack_from("<IQ", b, o + 4 + 8 * nd)
        o += 4 + 8 * nd + 12
        infos.append((name, ne, t, off))
    start = (o + f.alignment - 1) // f.alignment * f.alignment
    ends = sorted(off for _, _, _, off in infos)[1:] + [len(b) - start]
    for name, ne, t, off in infos:
        # A tensor's bytes run to the next one (the padding is dropped below).
        end = min(e for e in ends if e > off) if any(e > off for e in ends) else len(b) - start
        size = nbytes(t, ne)
        f.tensors.append(Tensor(name, ne, t, b[start + off:start + off + size] if size is not None
                                else b[start + off:start + end]))
    return f


def _string(s):
    e = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    return struct.pack("<Q", len(e)) + e


def _value(t, v):
    if t == STRING:
        return _string(v)
    if t == ARRAY:
        et, values = v
        return struct.pack("<IQ", et, len(values)) + b"".join(_value(et, x) for x in values)
    return struct.pack("<" + _SCALAR[t], v)


def write(f, path):
    """Writes `f`, each tensor's data aligned to f.alignment."""
    out = b"GGUF" + struct.pack("<IQQ", f.version, len(f.tensors), len(f.kvs))
    for k, t, v in f.kvs:
        out += _string(k) + struct.pack("<I", t) + _value(t, v)
    offset, data = 0, b""
    for t in f.tensors:
        offset = (offset + f.alignment - 1) // f.alignment * f.alignment
        data += b"\0" * (offset - len(data)) + t.data
        out += _string(t.name) + struct.pack("<I", len(t.ne)) + struct.pack(
            "<%dQ" % len(t.ne), *t.ne) + struct.pack("<IQ", t.type, offset)
        offset += len(t.data)
    out += b"\0" * ((-len(out)) % f.alignment)
    open(path, "wb").write(out + data)
