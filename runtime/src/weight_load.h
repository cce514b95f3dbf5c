/* weight_load.h - bringing a model's weights blob into memory at start, checked. */
#ifndef TERN_RUNTIME_WEIGHT_LOAD_H
#define TERN_RUNTIME_WEIGHT_LOAD_H

#include "tern/model.h"
#include "tern/weight_blob.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checks every tensor's checksum of a parsed blob (with `verify`) and copies the blob to `copy`
 * (when non-NULL; blob->size bytes) in one pass over the bytes, on every thread of the pool:
 * the tasks are the TERN_BLOB_PIECE pieces of all tensors. With `release_source`, each piece's
 * source pages are given back (MADV_DONTNEED) once copied, so a mapped source and its copy are
 * never both resident. With `fd` >= 0 the copy reads the blob from that file, at
 * `file_offset` (faster than from the mapping; a piece the file fails to give comes from the
 * mapping). Returns 0, or -1 with a message naming `source` and the first damaged tensor. */
int tern_blob_check_and_copy(const tern_blob *blob, const char *source, int verify, uint8_t *copy,
                             int release_source, int fd, uint64_t file_offset,
                             const tern_allocator *allocator, char *error, size_t error_size);

/* The file that holds `size` bytes mapped at `address` of this program's image (the executable,
 * or the shared object, whose segment contains them), opened for reading and checked to hold the
 * same first bytes there; its offset in `offset`. -1 when there is none. */
int tern_open_image_file(const void *address, size_t size, uint64_t *offset);

/* Memory for a blob of `size` bytes that is read at full bandwidth by every thread: with the C
 * library's allocator an anonymous mapping aligned to and advised for 2 MiB pages
 * (transparent huge pages); with an injected allocator, its memory. */
uint8_t *tern_weights_allocate(const tern_allocator *allocator, size_t size);
void tern_weights_release(const tern_allocator *allocator, uint8_t *weights, size_t size);

#ifdef __cplusplus
}
#endif

#endif
