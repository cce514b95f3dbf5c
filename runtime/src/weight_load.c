/* weight_load.c - bringing a model's weights into memory at start (weight_load.h).
 *
 * Why the weights are copied at all: the executable's embedded weights (or a mmapped side file)
 * are file pages mapped 4 KiB at a time. Measured on the 2-vCPU Zen 5 VM this project benchmarks
 * on (docs/performance.md), 2-thread decode of the 2b4t preset read them at 1.4-8 tokens/s in
 * some runs, and at 28-35 tokens/s from an anonymous copy in transparent huge pages in the runs
 * interleaved with them; 1 thread was unaffected. The copy costs one read of the weights, which
 * the checksums need anyway, so both happen in the same pass. The copy reads the file with
 * pread (the executable's own file for embedded weights), which measured 5x faster than copying
 * from the mapping with 2 threads (0.1 s against 0.5 s for 1.18 GB): the kernel copies from the
 * page cache without mapping it. `map_weights` keeps the old behaviour (less resident memory
 * while loading, pages shared between processes). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dl_iterate_phdr; also set by CMake, for builds that include a header first */
#endif
#include "weight_load.h"

#include "allocator.h"
#include "format_error.h"

#include "tern/thread_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14; older kernels answer EINVAL, which is harmless */
#endif

#define HUGE_PAGE ((size_t)2 << 20)

typedef struct {
  const tern_blob *blob;
  uint8_t *copy;
  uint64_t *hashes;          /* per piece */
  const uint32_t *entry_of;  /* per piece: its tensor */
  const uint64_t *first;     /* per tensor: the index of its first piece */
  int verify, release_source;
  size_t page;
  int fd;               /* >= 0: read the pieces from this file... */
  uint64_t file_offset; /* ...where the blob starts at this offset */
} load_job;

/* Reads length bytes at offset; 0, or -1 (short file, I/O error). */
static int read_fully(int fd, uint8_t *to, uint64_t length, uint64_t offset) {
  while (length > 0) {
    ssize_t got = pread(fd, to, (size_t)length, (off_t)offset);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return -1;
    to += got, offset += (uint64_t)got, length -= (uint64_t)got;
  }
  return 0;
}

static int load_piece(void *user_context, int piece, uint8_t *closure) {
  (void)closure;
  const load_job *job = (const load_job *)user_context;
  uint32_t entry = job->entry_of[piece];
  const tern_blob_entry *e = &job->blob->entries[entry];
  uint64_t index = (uint64_t)piece - job->first[entry];
  uint64_t start = e->offset + index * TERN_BLOB_PIECE;
  uint64_t length = e->size - index * TERN_BLOB_PIECE;
  if (length > TERN_BLOB_PIECE)
    length = TERN_BLOB_PIECE;
  const uint8_t *source = job->blob->data + start;
  int from_file = job->copy && job->fd >= 0 &&
                  read_fully(job->fd, job->copy + start, length, job->file_offset + start) == 0;
  if (!from_file) { /* the mapping holds the same bytes */
    /* One system call maps the piece's pages instead of a page fault per 4 KiB page. */
    uintptr_t first_page = (uintptr_t)source & ~(uintptr_t)(job->page - 1);
    madvise((void *)first_page, (uintptr_t)(source + length) - first_page, MADV_POPULATE_READ);
    if (job->copy)
      memcpy(job->copy + start, source, (size_t)length);
  }
  if (job->verify) { /* from the copy while it is in the cache, or from the source */
    const uint8_t *tensor = (job->copy ? job->copy : job->blob->data) + e->offset;
    job->hashes[piece] = tern_blob_piece_hash(tensor, e->size, index);
  }
  if (job->release_source && !from_file) {
    /* Only whole pages inside the piece: a page shared with a neighbour stays mapped. */
    uintptr_t lo = ((uintptr_t)source + job->page - 1) & ~(uintptr_t)(job->page - 1);
    uintptr_t hi = (uintptr_t)(source + length) & ~(uintptr_t)(job->page - 1);
    if (hi > lo)
      madvise((void *)lo, hi - lo, MADV_DONTNEED);
  }
  return 0;
}

int tern_blob_check_and_copy(const tern_blob *blob, const char *source, int verify, uint8_t *copy,
                             int release_source, int fd, uint64_t file_offset,
                             const tern_allocator *allocator, char *error, size_t error_size) {
  uint32_t count = blob->header->count;
  uint64_t pieces = 0;
  for (uint32_t i = 0; i < count; ++i)
    pieces += tern_blob_pieces(blob->entries[i].size);
  if (pieces > (uint64_t)0x7fffffff)
    return tern_format_error(error, error_size, "%s: too many pieces to check (%llu)", source,
                             (unsigned long long)pieces);
  uint64_t *hashes = tern_allocate(allocator, sizeof(uint64_t) * (size_t)(pieces + 1), 64);
  uint32_t *entry_of = tern_allocate(allocator, sizeof(uint32_t) * (size_t)(pieces + 1), 64);
  uint64_t *first = tern_allocate(allocator, sizeof(uint64_t) * (size_t)(count + 1), 64);
  int status = 0;
  if (!hashes || !entry_of || !first) {
    status = tern_format_error(error, error_size, "%s: out of memory for checking the weights",
                               source);
  } else {
    uint64_t next = 0;
    for (uint32_t i = 0; i < count; ++i) {
      first[i] = next;
      for (uint64_t j = tern_blob_pieces(blob->entries[i].size); j > 0; --j)
        entry_of[next++] = i;
    }
    if (copy)
      memcpy(copy, blob->data, (size_t)blob->header->data_offset); /* header, entries, names */
    long page = sysconf(_SC_PAGESIZE);
    load_job job = {blob,           copy,
                    hashes,         entry_of,
                    first,          verify,
                    release_source, page > 0 ? (size_t)page : 4096,
                    fd,             file_offset};
    tern_parallel_for(&job, load_piece, 0, (int)pieces, NULL);
    for (uint32_t i = 0; verify && i < count; ++i) {
      const tern_blob_entry *e = &blob->entries[i];
      if (tern_blob_checksum_of_pieces(hashes + first[i], e->size) != e->checksum) {
        int n = (int)(e->name_size > 200 ? 200 : e->name_size);
        status = tern_format_error(error, error_size,
                                   "%s: tensor '%.*s' does not match its checksum (corrupted)",
                                   source, n, blob->names + e->name_offset);
        break;
      }
    }
  }
  tern_release(allocator, hashes);
  tern_release(allocator, entry_of);
  tern_release(allocator, first);
  return status;
}

typedef struct {
  const void *address;
  uint64_t offset;
  const char *path;
} image_query;

static int find_segment(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  image_query *q = (image_query *)data;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && (uintptr_t)q->address >= start &&
        (uintptr_t)q->address < start + ph->p_filesz) {
      q->offset = ph->p_offset + ((uintptr_t)q->address - start);
      q->path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : "/proc/self/exe";
      return 1;
    }
  }
  return 0;
}

int tern_open_image_file(const void *address, size_t size, uint64_t *offset) {
  image_query q = {address, 0, NULL};
  if (!dl_iterate_phdr(find_segment, &q) || !q.path)
    return -1;
  int fd = open(q.path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  /* The file must hold the same bytes where the image says: its start is compared. */
  uint8_t head[64];
  struct stat st;
  size_t check = size < sizeof head ? size : sizeof head;
  if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < q.offset + size ||
      read_fully(fd, head, check, q.offset) != 0 || memcmp(head, address, check) != 0) {
    close(fd);
    return -1;
  }
  *offset = q.offset;
  return fd;
}

uint8_t *tern_weights_allocate(const tern_allocator *allocator, size_t size) {
  if (!tern_allocator_is_libc(allocator))
    return tern_allocate(allocator, size, 64);
  /* Over-allocate by one huge page and trim, so the block starts on a 2 MiB boundary. */
  size_t rounded = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  uint8_t *map = mmap(NULL, rounded + HUGE_PAGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED)
    return NULL;
  uint8_t *aligned = (uint8_t *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
  if (aligned > map)
    munmap(map, (size_t)(aligned - map));
  if (aligned + rounded < map + rounded + HUGE_PAGE)
    munmap(aligned + rounded, (size_t)(map + rounded + HUGE_PAGE - (aligned + rounded)));
  madvise(aligned, rounded, MADV_HUGEPAGE); /* a hint: without THP the copy still works */
  return aligned;
}

void tern_weights_release(const tern_allocator *allocator, uint8_t *weights, size_t size) {
  if (!weights)
    return;
  if (!tern_allocator_is_libc(allocator)) {
    tern_release(allocator, weights);
    return;
  }
  munmap(weights, (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
}
