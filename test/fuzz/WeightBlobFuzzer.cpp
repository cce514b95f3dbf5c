//===- WeightBlobFuzzer.cpp - the runtime's weights-file parser on arbitrary bytes ------------===//
//
// tern_blob_parse must accept or refuse any input without reading outside it; an accepted blob's
// entries must all lie inside it (checked again here, independently of the parser).
//
//===------------------------------------------------------------------------------------------===//
#include "tern/weight_blob.h"

#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // An owned, exactly-sized copy, so ASan sees any read past the end.
  std::vector<uint8_t> bytes(data, data + size);
  tern_blob blob;
  char error[256];
  if (tern_blob_parse(bytes.data(), bytes.size(), "fuzz", 1, &blob, error, sizeof error) != 0)
    return 0;
  for (uint32_t i = 0; i < blob.header->count; ++i) {
    const tern_blob_entry &e = blob.entries[i];
    if (e.offset + e.size > size || e.offset % TERN_BLOB_ALIGN != 0)
      std::abort();
    std::string name(blob.names + e.name_offset, e.name_size);
    if (tern_blob_find(&blob, name.c_str()) == nullptr && name.find('\0') == std::string::npos)
      std::abort();
  }
  return 0;
}
