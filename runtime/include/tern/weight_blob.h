/* tern/weight_blob.h - the weights file of a compiled model, and its reader.
 *
 * ternc writes every tensor a compiled model reads (packed ternary weights, norms, scales,
 * embeddings) into one blob: embedded in the executable or a side file mmapped at start
 * (`--weights=embed|file`). Little-endian:
 *
 *   header   64 bytes   tern_blob_header
 *   entries  count x 72 bytes   tern_blob_entry, in name order of writing
 *   names    the entries' names, not NUL-terminated (entry.name_offset into this pool)
 *   data     each tensor 64-byte aligned, at entry.offset from the start of the blob
 *
 * Every tensor carries a 64-bit checksum of its bytes (tern_blob_checksum), the header one of the
 * entry table and names, so a truncated, corrupted or mismatched file is refused with a message
 * naming the file and the tensor, never read. */
#ifndef TERN_WEIGHT_BLOB_H
#define TERN_WEIGHT_BLOB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_BLOB_MAGIC "TERNBLOB"
/* 2: checksums by tern_blob_checksum (1 had byte-wise FNV-1a). */
#define TERN_BLOB_VERSION 2u
#define TERN_BLOB_ALIGN 64u
#define TERN_BLOB_MAX_RANK 4
/* A tensor's checksum hashes its bytes in pieces of this size, which can be checked in
 * parallel. */
#define TERN_BLOB_PIECE ((uint64_t)1 << 20)

typedef struct {
  char magic[8];          /* "TERNBLOB" */
  uint32_t version;       /* TERN_BLOB_VERSION */
  uint32_t count;         /* number of entries */
  uint64_t names_size;    /* bytes of the name pool after the entries */
  uint64_t data_offset;   /* start of the data region */
  uint64_t file_size;     /* total bytes */
  uint64_t table_checksum; /* tern_blob_checksum of the entries and the name pool */
  uint8_t reserved[16];
} tern_blob_header;

typedef struct {
  uint64_t offset;   /* from the start of the blob; a multiple of TERN_BLOB_ALIGN */
  uint64_t size;     /* bytes */
  uint64_t checksum; /* tern_blob_checksum of the bytes */
  uint32_t name_offset, name_size;
  uint8_t dtype;     /* the weight store's DType code (dialects/weights/DType.h) */
  uint8_t rank;      /* <= TERN_BLOB_MAX_RANK */
  uint8_t encoding;  /* the weight store's TensorEncoding: 0 dense elements of dtype; a ternary
                        matrix in a checkpoint's packing otherwise (runtimes read dense and
                        packed-layout tensors only; ternc reloads the others) */
  uint8_t reserved[5];
  int64_t dims[TERN_BLOB_MAX_RANK];
} tern_blob_entry;

/* A 64-bit hash of size bytes: four independent multiply-rotate lanes over 32-byte steps
 * (xxHash64's structure; not its values), ~10 GB/s on one core. */
uint64_t tern_hash64(const void *data, size_t size, uint64_t seed);
/* The checksum of a tensor (or of the entry table): the bytes are cut into pieces of
 * TERN_BLOB_PIECE (the last may be shorter), each hashed with its index as the seed, and the
 * piece hashes folded in order into one value with the size. tern_blob_checksum computes it
 * serially; the runtime hashes the pieces on every thread (tern_blob_piece_hash) and folds
 * them (tern_blob_checksum_of_pieces) to the same value. */
uint64_t tern_blob_checksum(const void *data, uint64_t size);
uint64_t tern_blob_pieces(uint64_t size);
uint64_t tern_blob_piece_hash(const void *data, uint64_t size, uint64_t piece);
uint64_t tern_blob_checksum_of_pieces(const uint64_t *piece_hashes, uint64_t size);

typedef struct {
  const uint8_t *data; /* the whole blob */
  size_t size;
  const tern_blob_header *header;
  const tern_blob_entry *entries;
  const char *names;
  void *mapping; /* non-null when tern_blob_open mapped a file */
} tern_blob;

/* Validates the blob in data[0, size): header, table checksum, every entry's bounds, alignment
 * and name. With verify_data, also every tensor's checksum. Returns 0, or -1 with a message
 * naming `source` (a path, or "embedded weights") and the tensor in `error`. */
int tern_blob_parse(const uint8_t *data, size_t size, const char *source, int verify_data,
                    tern_blob *blob, char *error, size_t error_size);
/* mmaps `path` read-only and parses it (verify_data as above). tern_blob_close unmaps it. */
int tern_blob_open(const char *path, int verify_data, tern_blob *blob, char *error,
                   size_t error_size);
void tern_blob_close(tern_blob *blob);
/* The entry called `name`, or NULL. Its bytes are blob->data + entry->offset. */
const tern_blob_entry *tern_blob_find(const tern_blob *blob, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* TERN_WEIGHT_BLOB_H */
