"""Flips one byte of a tensor inside a tern weights blob, wherever the blob is (a .weights file,
or embedded in an executable): damage_blob.py FILE TENSOR [--byte N]. Finds the blob by its
magic, the tensor by name in the entry table (tern/weight_blob.h), and prints what it damaged."""
import argparse
import struct

parser = argparse.ArgumentParser()
parser.add_argument("file")
parser.add_argument("tensor")
parser.add_argument("--byte", type=int, default=0, help="byte of the tensor to flip")
args = parser.parse_args()

data = bytearray(open(args.file, "rb").read())
start = data.find(b"TERNBLOB")
while start >= 0:
    version, count, names_size, data_offset, file_size = struct.unpack_from("<IIQQQ", data,
                                                                           start + 8)
    if version == 2 and start + file_size <= len(data):
        break
    start = data.find(b"TERNBLOB", start + 1)
assert start >= 0, "no tern weights blob in " + args.file
entries = start + 64
names = entries + count * 72
for i in range(count):
    offset, size, _, name_offset, name_size = struct.unpack_from("<QQQII", data, entries + i * 72)
    name = data[names + name_offset:names + name_offset + name_size].decode()
    if name == args.tensor:
        assert args.byte < size, f"{name} has {size} bytes"
        data[start + offset + args.byte] ^= 0x20
        open(args.file, "wb").write(data)
        print(f"damaged byte {args.byte} of {name} ({size} bytes)")
        break
else:
    raise SystemExit(f"no tensor {args.tensor}")
