// Force-included into every tern translation unit of an AddressSanitizer build (TERN_SANITIZER).
//
// Debian's LLVM/MLIR libraries are not instrumented. LLVM's headers poison the unused parts of
// BumpPtrAllocator slabs when they see -fsanitize=address, so the inline allocator code compiled
// into tern poisons memory that the uninstrumented library code then hands out, and ASan reports
// a use-after-poison inside MLIR itself (seen in MLIRContext construction). Turning LLVM's manual
// poisoning into no-ops keeps every ASan check on tern's own memory accesses.
#pragma once
#include <sanitizer/asan_interface.h>
#undef __asan_poison_memory_region
#undef __asan_unpoison_memory_region
#define __asan_poison_memory_region(p, size) ((void)(p), (void)(size))
#define __asan_unpoison_memory_region(p, size) ((void)(p), (void)(size))
