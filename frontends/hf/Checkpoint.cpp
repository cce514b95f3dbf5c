//===- Checkpoint.cpp - the safetensors files of a Hugging Face checkpoint --------------------===//
#include "frontends/hf/Checkpoint.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace tern;
using namespace tern::hf;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error Checkpoint::addFile(std::unique_ptr<SafetensorsFile> file) {
  for (const SafetensorsEntry &entry : file->entries()) {
    auto [it, inserted] = tensors.try_emplace(entry.name, Tensor{&entry, file.get()});
    if (!inserted)
      return fail("tensor '" + entry.name + "' is in both " + it->second.file->path() + " and " +
                  file->path());
    bytes += entry.end - entry.begin;
  }
  shards.push_back(std::move(file));
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<Checkpoint>> Checkpoint::open(llvm::StringRef dir) {
  auto checkpoint = std::make_unique<Checkpoint>();
  checkpoint->dir = dir.str();
  llvm::SmallString<256> single(dir), indexPath(dir);
  llvm::sys::path::append(single, "model.safetensors");
  llvm::sys::path::append(indexPath, "model.safetensors.index.json");

  if (!llvm::sys::fs::exists(indexPath)) {
    if (!llvm::sys::fs::exists(single))
      return fail(llvm::Twine(dir) + ": no model.safetensors or model.safetensors.index.json");
    auto file = SafetensorsFile::open(single);
    if (!file)
      return file.takeError();
    if (llvm::Error e = checkpoint->addFile(std::move(*file)))
      return std::move(e);
    return std::move(checkpoint);
  }

  auto text = llvm::MemoryBuffer::getFile(indexPath, /*IsText=*/true);
  if (!text)
    return fail(indexPath + ": cannot open: " + text.getError().message());
  llvm::Expected<llvm::json::Value> json = llvm::json::parse((*text)->getBuffer());
  if (!json)
    return fail(indexPath + ": not valid JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *weightMap = root ? root->getObject("weight_map") : nullptr;
  if (!weightMap)
    return fail(indexPath + ": expected an object with a \"weight_map\" object");

  // Shards in first-mention order; every tensor must be in the shard the index names.
  std::vector<std::string> shardNames;
  llvm::StringSet<> seenShards;
  llvm::StringMap<std::string> expectedShard;
  for (const auto &[tensor, shard] : *weightMap) {
    std::optional<llvm::StringRef> file = shard.getAsString();
    if (!file || file->empty() || llvm::sys::path::has_parent_path(*file))
      return fail(indexPath + ": weight_map entry '" + llvm::StringRef(tensor) +
                  "' must name a file in the checkpoint folder");
    if (seenShards.insert(*file).second)
      shardNames.push_back(file->str());
    expectedShard[tensor] = file->str();
  }
  for (const std::string &name : shardNames) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    if (!llvm::sys::fs::exists(path))
      return fail(indexPath + ": weight_map names '" + name + "', which does not exist");
    auto file = SafetensorsFile::open(path);
    if (!file)
      return file.takeError();
    for (const SafetensorsEntry &entry : (*file)->entries()) {
      auto it = expectedShard.find(entry.name);
      if (it == expectedShard.end())
        return fail(path + ": tensor '" + entry.name + "' is not listed in the index");
      if (it->second != name)
        return fail(path + ": tensor '" + entry.name + "' is listed in the index under '" +
                    it->second + "'");
    }
    if (llvm::Error e = checkpoint->addFile(std::move(*file)))
      return std::move(e);
  }
  for (const auto &entry : expectedShard)
    if (!checkpoint->tensors.count(entry.getKey()))
      return fail(indexPath + ": tensor '" + entry.getKey() + "' is listed in '" +
                  entry.getValue() + "' but that file does not contain it");
  return std::move(checkpoint);
}

std::optional<Checkpoint::Tensor> Checkpoint::find(llvm::StringRef name) const {
  auto it = tensors.find(name);
  if (it == tensors.end())
    return std::nullopt;
  return it->second;
}

void Checkpoint::retainFilesIn(WeightStore &store) {
  for (std::unique_ptr<SafetensorsFile> &file : shards)
    store.retain(file->takeBuffer());
}
