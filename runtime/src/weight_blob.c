/* weight_blob.c - reads and checks the weights file of a compiled model (tern/weight_blob.h). */
#define _POSIX_C_SOURCE 200112L
#include "tern/weight_blob.h"
#include "format_error.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int tern_blob_parse(const uint8_t *data, size_t size, const char *source, int verify_data,
                    tern_blob *blob, char *error, size_t error_size) {
  memset(blob, 0, sizeof *blob);
  if (size < sizeof(tern_blob_header))
    return tern_format_error(error, error_size, "%s: %zu bytes, too short for a tern weights file", source,
                size);
  const tern_blob_header *h = (const tern_blob_header *)data;
  if (memcmp(h->magic, TERN_BLOB_MAGIC, 8) != 0)
    return tern_format_error(error, error_size, "%s: not a tern weights file (bad magic)", source);
  if (h->version != TERN_BLOB_VERSION)
    return tern_format_error(error, error_size, "%s: weights format version %u; this runtime reads %u", source,
                h->version, TERN_BLOB_VERSION);
  if (h->file_size != size)
    return tern_format_error(error, error_size, "%s: the header says %llu bytes, the file has %zu (truncated?)",
                source, (unsigned long long)h->file_size, size);
  uint64_t table = sizeof(tern_blob_header);
  uint64_t entries_size = (uint64_t)h->count * sizeof(tern_blob_entry);
  if (h->count > size / sizeof(tern_blob_entry) || h->names_size > size ||
      table + entries_size + h->names_size > h->data_offset || h->data_offset > size)
    return tern_format_error(error, error_size, "%s: the entry table (%u entries) does not fit the file",
                source, h->count);
  if (tern_blob_checksum(data + table, entries_size + h->names_size) != h->table_checksum)
    return tern_format_error(error, error_size, "%s: the entry table's checksum does not match (corrupted)",
                source);
  const tern_blob_entry *entries = (const tern_blob_entry *)(data + table);
  const char *names = (const char *)(data + table + entries_size);
  for (uint32_t i = 0; i < h->count; ++i) {
    const tern_blob_entry *e = &entries[i];
    if ((uint64_t)e->name_offset + e->name_size > h->names_size)
      return tern_format_error(error, error_size, "%s: entry %u's name lies outside the name pool", source, i);
    int n = (int)(e->name_size > 200 ? 200 : e->name_size);
    const char *name = names + e->name_offset;
    if (e->rank > TERN_BLOB_MAX_RANK)
      return tern_format_error(error, error_size, "%s: tensor '%.*s' has rank %u; at most %d", source, n,
                  name, e->rank, TERN_BLOB_MAX_RANK);
    if (e->offset < h->data_offset || e->offset % TERN_BLOB_ALIGN != 0 || e->size > size ||
        e->offset > size - e->size)
      return tern_format_error(error, error_size,
                  "%s: tensor '%.*s' at offset %llu, %llu bytes, lies outside the data region "
                  "or is not %u-byte aligned",
                  source, n, name, (unsigned long long)e->offset, (unsigned long long)e->size,
                  TERN_BLOB_ALIGN);
    if (verify_data && tern_blob_checksum(data + e->offset, e->size) != e->checksum)
      return tern_format_error(error, error_size, "%s: tensor '%.*s' does not match its checksum (corrupted)",
                  source, n, name);
  }
  blob->data = data, blob->size = size, blob->header = h;
  blob->entries = entries, blob->names = names;
  return 0;
}

int tern_blob_open(const char *path, int verify_data, tern_blob *blob, char *error,
                   size_t error_size) {
  memset(blob, 0, sizeof *blob);
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return tern_format_error(error, error_size, "%s: cannot open the weights file", path);
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) {
    close(fd);
    return tern_format_error(error, error_size, "%s: empty or unreadable weights file", path);
  }
  void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED)
    return tern_format_error(error, error_size, "%s: cannot map the weights file", path);
  if (tern_blob_parse((const uint8_t *)map, (size_t)st.st_size, path, verify_data, blob, error,
                      error_size) != 0) {
    munmap(map, (size_t)st.st_size);
    return -1;
  }
  blob->mapping = map;
  return 0;
}

void tern_blob_close(tern_blob *blob) {
  if (blob->mapping)
    munmap(blob->mapping, blob->size);
  memset(blob, 0, sizeof *blob);
}

const tern_blob_entry *tern_blob_find(const tern_blob *blob, const char *name) {
  size_t length = strlen(name);
  for (uint32_t i = 0; blob->header && i < blob->header->count; ++i) {
    const tern_blob_entry *e = &blob->entries[i];
    if (e->name_size == length && memcmp(blob->names + e->name_offset, name, length) == 0)
      return e;
  }
  return NULL;
}
