//===- WeightsObject.cpp - a weights file as an ELF object to link into a program -------------===//
#include "codegen/blob/WeightsObject.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Support/EndianStream.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

using namespace tern::codegen;
namespace ELF = llvm::ELF;

namespace {
uint64_t alignTo(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

struct Section {
  std::string name;
  uint32_t type;
  uint64_t flags, offset, size, align, entsize;
  uint32_t link, info;
};
} // namespace

llvm::Error tern::codegen::writeWeightsObject(llvm::StringRef blobPath,
                                              llvm::StringRef objectPath,
                                              ObjectMachine machine) {
  uint64_t blobSize = 0;
  if (std::error_code ec = llvm::sys::fs::file_size(blobPath, blobSize))
    return llvm::createStringError(ec, "%s: %s", blobPath.str().c_str(), ec.message().c_str());
  llvm::Expected<llvm::sys::fs::file_t> in = llvm::sys::fs::openNativeFileForRead(blobPath);
  if (!in)
    return in.takeError();
  llvm::scope_exit closeIn([&] { llvm::sys::fs::closeFile(*in); });

  // .rodata.tern_weights: the blob, then its size (8-byte aligned).
  const uint64_t dataOffset = 64; // right after the ELF header, 64-byte aligned
  const uint64_t sizeField = alignTo(blobSize, 8);
  const uint64_t dataSize = sizeField + 8;
  // Symbols: the null symbol, then the two globals.
  const std::string strtab = std::string("\0tern_embedded_weights\0tern_embedded_weights_size\0", 50);
  const uint32_t nameWeights = 1, nameSize = 1 + 22;
  std::string shstrtab(1, '\0');
  auto addName = [&](llvm::StringRef n) {
    uint32_t at = uint32_t(shstrtab.size());
    shstrtab += n.str();
    shstrtab += '\0';
    return at;
  };
  std::vector<Section> sections(6);
  std::vector<uint32_t> names(6, 0);
  uint64_t at = dataOffset + dataSize;
  names[1] = addName(".rodata.tern_weights");
  sections[1] = {"", ELF::SHT_PROGBITS, ELF::SHF_ALLOC, dataOffset, dataSize, 64, 0, 0, 0};
  names[2] = addName(".note.GNU-stack"); // no executable stack
  sections[2] = {"", ELF::SHT_PROGBITS, 0, at, 0, 1, 0, 0, 0};
  at = alignTo(at, 8);
  names[3] = addName(".symtab");
  sections[3] = {"", ELF::SHT_SYMTAB, 0, at, 3 * 24, 8, 24, 4, 1};
  at += 3 * 24;
  names[4] = addName(".strtab");
  sections[4] = {"", ELF::SHT_STRTAB, 0, at, strtab.size(), 1, 0, 0, 0};
  at += strtab.size();
  names[5] = addName(".shstrtab");
  sections[5] = {"", ELF::SHT_STRTAB, 0, at, shstrtab.size(), 1, 0, 0, 0};
  at += shstrtab.size();
  const uint64_t sectionHeaders = alignTo(at, 8);

  std::error_code ec;
  llvm::raw_fd_ostream out(objectPath, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(ec, "%s: %s", objectPath.str().c_str(), ec.message().c_str());
  llvm::support::endian::Writer w(out, llvm::endianness::little);
  uint64_t written = 0;
  auto pad = [&](uint64_t to) {
    for (; written < to; ++written)
      w.write<uint8_t>(0);
  };
  // ELF header.
  const unsigned char ident[ELF::EI_NIDENT] = {0x7f, 'E', 'L', 'F', ELF::ELFCLASS64,
                                               ELF::ELFDATA2LSB, ELF::EV_CURRENT,
                                               ELF::ELFOSABI_NONE};
  out.write(reinterpret_cast<const char *>(ident), sizeof ident);
  w.write<uint16_t>(ELF::ET_REL);
  w.write<uint16_t>(machine == ObjectMachine::X86_64 ? ELF::EM_X86_64 : ELF::EM_AARCH64);
  w.write<uint32_t>(ELF::EV_CURRENT);
  w.write<uint64_t>(0);              // e_entry
  w.write<uint64_t>(0);              // e_phoff
  w.write<uint64_t>(sectionHeaders); // e_shoff
  w.write<uint32_t>(0);              // e_flags
  w.write<uint16_t>(64);             // e_ehsize
  w.write<uint16_t>(0);              // e_phentsize
  w.write<uint16_t>(0);              // e_phnum
  w.write<uint16_t>(64);             // e_shentsize
  w.write<uint16_t>(uint16_t(sections.size()));
  w.write<uint16_t>(5); // e_shstrndx
  written = 64;
  // The blob, copied through a buffer.
  std::vector<char> buffer(1 << 20);
  for (uint64_t copied = 0; copied < blobSize;) {
    llvm::Expected<size_t> n = llvm::sys::fs::readNativeFile(
        *in, llvm::MutableArrayRef<char>(buffer.data(), buffer.size()));
    if (!n)
      return n.takeError();
    if (*n == 0)
      return llvm::createStringError("%s: shorter than its %llu bytes", blobPath.str().c_str(),
                                     (unsigned long long)blobSize);
    out.write(buffer.data(), *n);
    copied += *n;
    written += *n;
  }
  pad(dataOffset + sizeField);
  w.write<uint64_t>(blobSize);
  written += 8;
  pad(sections[3].offset);
  // Symbols (Elf64_Sym: name, info, other, shndx, value, size).
  auto symbol = [&](uint32_t name, uint8_t info, uint16_t shndx, uint64_t value, uint64_t size) {
    w.write<uint32_t>(name);
    w.write<uint8_t>(info);
    w.write<uint8_t>(ELF::STV_DEFAULT);
    w.write<uint16_t>(shndx);
    w.write<uint64_t>(value);
    w.write<uint64_t>(size);
    written += 24;
  };
  symbol(0, 0, ELF::SHN_UNDEF, 0, 0);
  symbol(nameWeights, (ELF::STB_GLOBAL << 4) | ELF::STT_OBJECT, 1, 0, blobSize);
  symbol(nameSize, (ELF::STB_GLOBAL << 4) | ELF::STT_OBJECT, 1, sizeField, 8);
  out << strtab;
  written += strtab.size();
  out << shstrtab;
  written += shstrtab.size();
  pad(sectionHeaders);
  // Section headers (Elf64_Shdr).
  for (size_t i = 0; i < sections.size(); ++i) {
    const Section &s = sections[i];
    w.write<uint32_t>(names[i]);
    w.write<uint32_t>(i == 0 ? ELF::SHT_NULL : s.type);
    w.write<uint64_t>(s.flags);
    w.write<uint64_t>(0); // sh_addr
    w.write<uint64_t>(s.offset);
    w.write<uint64_t>(s.size);
    w.write<uint32_t>(s.link);
    w.write<uint32_t>(s.info);
    w.write<uint64_t>(s.align);
    w.write<uint64_t>(s.entsize);
  }
  out.close();
  if (out.has_error())
    return llvm::createStringError(out.error(), "%s: writing failed", objectPath.str().c_str());
  return llvm::Error::success();
}
