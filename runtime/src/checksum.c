/* checksum.c - the weights file's checksums (tern/weight_blob.h).
 *
 * The checksums were FNV-1a, a byte at a time: ~0.7 GB/s, 1.5-1.9 s to check 2B4T's 1.18 GB at
 * every start. This hash reads 32 bytes per step into four independent multiply-rotate lanes (the
 * structure of xxHash64), ~10 GB/s on one core, and a tensor's checksum is a hash of the hashes
 * of its 1 MiB pieces, so the runtime checks the pieces of every tensor on all threads at once
 * (weight_load.c). Both the compiler, which writes the checksums, and the runtime use these
 * functions. */
#include "tern/weight_blob.h"

#include <string.h>

#define PRIME1 0x9E3779B185EBCA87ull
#define PRIME2 0xC2B2AE3D27D4EB4Full
#define PRIME3 0x165667B19E3779F9ull
#define PRIME4 0x85EBCA77C2B2AE63ull
#define PRIME5 0x27D4EB2F165667C5ull

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* Little-endian loads (every target tern compiles for is little-endian). */
static inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline uint32_t load32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline uint64_t lane(uint64_t acc, uint64_t word) {
  acc += word * PRIME2;
  acc = rotl(acc, 31);
  return acc * PRIME1;
}

static inline uint64_t merge(uint64_t h, uint64_t acc) {
  h ^= lane(0, acc);
  return h * PRIME1 + PRIME4;
}

static inline uint64_t fold(uint64_t h, uint64_t word) {
  return rotl(h ^ lane(0, word), 27) * PRIME1 + PRIME4;
}

/* Every input bit reaches every output bit. */
static inline uint64_t avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= PRIME2;
  h ^= h >> 29;
  h *= PRIME3;
  h ^= h >> 32;
  return h;
}

uint64_t tern_hash64(const void *data, size_t size, uint64_t seed) {
  const uint8_t *p = (const uint8_t *)data;
  size_t i = 0;
  uint64_t h;
  if (size >= 32) {
    uint64_t a0 = seed + PRIME1 + PRIME2, a1 = seed + PRIME2, a2 = seed, a3 = seed - PRIME1;
    for (; i + 32 <= size; i += 32) {
      a0 = lane(a0, load64(p + i));
      a1 = lane(a1, load64(p + i + 8));
      a2 = lane(a2, load64(p + i + 16));
      a3 = lane(a3, load64(p + i + 24));
    }
    h = rotl(a0, 1) + rotl(a1, 7) + rotl(a2, 12) + rotl(a3, 18);
    h = merge(merge(merge(merge(h, a0), a1), a2), a3);
  } else {
    h = seed + PRIME5;
  }
  h += (uint64_t)size;
  for (; i + 8 <= size; i += 8)
    h = fold(h, load64(p + i));
  if (i + 4 <= size) {
    h = rotl(h ^ ((uint64_t)load32(p + i) * PRIME1), 23) * PRIME2 + PRIME3;
    i += 4;
  }
  for (; i < size; ++i)
    h = rotl(h ^ (p[i] * PRIME5), 11) * PRIME1;
  return avalanche(h);
}

uint64_t tern_blob_pieces(uint64_t size) {
  return (size + TERN_BLOB_PIECE - 1) / TERN_BLOB_PIECE;
}

uint64_t tern_blob_piece_hash(const void *data, uint64_t size, uint64_t piece) {
  uint64_t start = piece * TERN_BLOB_PIECE;
  uint64_t length = size - start < TERN_BLOB_PIECE ? size - start : TERN_BLOB_PIECE;
  return tern_hash64((const uint8_t *)data + start, (size_t)length, piece);
}

uint64_t tern_blob_checksum_of_pieces(const uint64_t *piece_hashes, uint64_t size) {
  uint64_t h = size + PRIME5;
  for (uint64_t i = 0, n = tern_blob_pieces(size); i < n; ++i)
    h = fold(h, piece_hashes[i]);
  return avalanche(h);
}

uint64_t tern_blob_checksum(const void *data, uint64_t size) {
  uint64_t h = size + PRIME5;
  for (uint64_t i = 0, n = tern_blob_pieces(size); i < n; ++i)
    h = fold(h, tern_blob_piece_hash(data, size, i));
  return avalanche(h);
}
