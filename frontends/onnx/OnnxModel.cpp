//===- OnnxModel.cpp - a validating ONNX model reader -----------------------------------------===//
#include "frontends/onnx/OnnxModel.h"

#include "onnx/onnx_pb.h"

#include "google/protobuf/io/coded_stream.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <climits>
#include <cstring>

using namespace tern;
using namespace tern::onnx;

namespace {

llvm::Error fail(llvm::StringRef file, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), (file + ": " + message).str());
}

/// The DType of an ONNX TensorProto.DataType; nullopt for strings, complex and the 4-bit types.
std::optional<DType> dtypeOf(int32_t t) {
  switch (t) {
  case ::onnx::TensorProto::FLOAT: return DType::F32;
  case ::onnx::TensorProto::UINT8: return DType::U8;
  case ::onnx::TensorProto::INT8: return DType::I8;
  case ::onnx::TensorProto::UINT16: return DType::U16;
  case ::onnx::TensorProto::INT16: return DType::I16;
  case ::onnx::TensorProto::INT32: return DType::I32;
  case ::onnx::TensorProto::INT64: return DType::I64;
  case ::onnx::TensorProto::BOOL: return DType::Bool;
  case ::onnx::TensorProto::FLOAT16: return DType::F16;
  case ::onnx::TensorProto::DOUBLE: return DType::F64;
  case ::onnx::TensorProto::UINT32: return DType::U32;
  case ::onnx::TensorProto::UINT64: return DType::U64;
  case ::onnx::TensorProto::BFLOAT16: return DType::BF16;
  default: return std::nullopt;
  }
}

/// Appends `value` to `out` as `dtype` (little-endian), for the typed fields.
void put(std::vector<uint8_t> &out, DType dtype, uint64_t bits) {
  unsigned size = dtypeSize(dtype);
  for (unsigned i = 0; i < size; ++i)
    out.push_back(uint8_t(bits >> (8 * i)));
}

} // namespace

int64_t OnnxTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

double OnnxTensor::at(int64_t i) const {
  const uint8_t *p = bytes.data() + i * dtypeSize(dtype);
  auto load = [&](auto v) {
    std::memcpy(&v, p, sizeof v);
    return double(v);
  };
  switch (dtype) {
  case DType::Bool:
  case DType::U8: return *p;
  case DType::I8: return load(int8_t());
  case DType::U16: return load(uint16_t());
  case DType::I16: return load(int16_t());
  case DType::U32: return load(uint32_t());
  case DType::I32: return load(int32_t());
  case DType::U64: return load(uint64_t());
  case DType::I64: return load(int64_t());
  case DType::F32: return load(float());
  case DType::F64: return load(double());
  case DType::F16:
  case DType::BF16: return loadFloat(dtype, bytes.data(), i);
  default: return 0;
  }
}

OnnxModel::OnnxModel() : model(std::make_unique<::onnx::ModelProto>()) {}
OnnxModel::~OnnxModel() = default;

const ::onnx::GraphProto &OnnxModel::graph() const { return model->graph(); }

auto OnnxModel::open(llvm::StringRef path) -> llvm::Expected<std::unique_ptr<OnnxModel>> {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  return parse((*buffer)->getBuffer(), path, dir);
}

auto OnnxModel::openTensor(llvm::StringRef path) -> llvm::Expected<std::unique_ptr<OnnxModel>> {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  std::unique_ptr<OnnxModel> m(new OnnxModel());
  m->modelPath = path.str();
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  m->baseDir = dir.empty() ? "." : dir.str().str();
  ::onnx::TensorProto *t = m->model->mutable_graph()->add_initializer();
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() >= size_t(INT_MAX) || !t->ParseFromArray(bytes.data(), int(bytes.size())))
    return fail(path, "not a TensorProto (the protobuf does not parse)");
  if (t->name().empty())
    t->set_name("tensor");
  llvm::Expected<OnnxTensor> tensor = m->decode(*t, "tensor '" + t->name() + "'");
  if (!tensor)
    return tensor.takeError();
  m->constants[t->name()] = std::move(*tensor);
  return std::move(m);
}

auto OnnxModel::parse(llvm::StringRef bytes, llvm::StringRef path, llvm::StringRef baseDir)
    -> llvm::Expected<std::unique_ptr<OnnxModel>> {
  std::unique_ptr<OnnxModel> m(new OnnxModel());
  m->modelPath = path.str();
  m->baseDir = baseDir.str();
  // Protobuf cannot address more than 2 GB in one message: larger models keep their tensors in
  // external data files.
  if (bytes.size() >= size_t(INT_MAX))
    return fail(path, llvm::formatv("{0} bytes: a protobuf message is limited to 2 GB; save the "
                                    "model with external data (onnx.save(..., "
                                    "save_as_external_data=True))",
                                    bytes.size()));
  google::protobuf::io::CodedInputStream stream(
      reinterpret_cast<const uint8_t *>(bytes.data()), int(bytes.size()));
  stream.SetTotalBytesLimit(INT_MAX);
  if (!m->model->ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    return fail(path, "not an ONNX model (the protobuf does not parse as a ModelProto: "
                      "truncated or another format)");
  if (!m->model->has_graph() || m->model->graph().node_size() == 0)
    return fail(path, "the model has no graph (no nodes)");
  if (llvm::Error e = m->index())
    return std::move(e);
  return std::move(m);
}

llvm::Error OnnxModel::index() {
  for (const ::onnx::OperatorSetIdProto &o : model->opset_import()) {
    std::string domain = o.domain() == "ai.onnx" ? "" : o.domain();
    opsets[domain] = o.version();
  }
  if (!opsets.count(""))
    return fail(modelPath, "the model imports no ai.onnx opset (opset_import has no entry for "
                           "the default domain)");
  const ::onnx::GraphProto &g = model->graph();
  for (const ::onnx::ValueInfoProto &v : g.input())
    inputs[v.name()] = &v;
  for (const ::onnx::ValueInfoProto &v : g.output())
    outputs[v.name()] = &v;
  for (const ::onnx::TensorProto &t : g.initializer()) {
    if (t.name().empty())
      return fail(modelPath, "an initializer has no name");
    llvm::Expected<OnnxTensor> tensor = decode(t, "initializer '" + t.name() + "'");
    if (!tensor)
      return tensor.takeError();
    if (!constants.try_emplace(t.name(), std::move(*tensor)).second)
      return fail(modelPath, "two initializers are called '" + t.name() + "'");
    initializers[t.name()] = true;
  }
  // Nodes come in topological order (as ONNX requires): every input is a graph input, an
  // initializer or an earlier node's output. This also rules out cycles, so every walk over
  // producers ends.
  llvm::StringSet<> defined;
  for (const ::onnx::ValueInfoProto &v : g.input())
    defined.insert(v.name());
  for (const ::onnx::TensorProto &t : g.initializer())
    defined.insert(t.name());
  for (const ::onnx::NodeProto &n : g.node()) {
    for (const std::string &in : n.input())
      if (!in.empty() && !defined.contains(in))
        return fail(modelPath, describe(n) + ": reads '" + in + "', which no graph input, "
                               "initializer or earlier node produces (nodes must be in "
                               "topological order)");
    for (const std::string &out : n.output())
      defined.insert(out);
    for (int i = 0; i < n.output_size(); ++i) {
      if (n.output(i).empty())
        continue;
      if (producers.count(n.output(i)) || constants.count(n.output(i)))
        return fail(modelPath, describe(n) + ": its output '" + n.output(i) +
                                   "' is also produced elsewhere (a graph is in SSA form)");
      producers[n.output(i)] = Producer{&n, i};
    }
    for (const std::string &in : n.input())
      if (!in.empty())
        users[in].push_back(&n);
    if (n.op_type() == "Constant" && (n.domain().empty() || n.domain() == "ai.onnx")) {
      if (n.output_size() != 1 || n.output(0).empty() || n.attribute_size() != 1)
        return fail(modelPath, describe(n) + ": expected one named output and one value "
                                             "attribute");
      const ::onnx::AttributeProto &a = n.attribute(0);
      OnnxTensor t;
      std::vector<uint8_t> bytes;
      if (a.name() == "value") {
        llvm::Expected<OnnxTensor> decoded = decode(a.t(), describe(n));
        if (!decoded)
          return decoded.takeError();
        t = std::move(*decoded);
      } else if (a.name() == "value_float" || a.name() == "value_floats") {
        t.dtype = DType::F32;
        std::vector<float> v(a.floats().begin(), a.floats().end());
        if (a.name() == "value_float")
          v = {a.f()};
        else
          t.shape = {int64_t(v.size())};
        bytes.resize(v.size() * 4);
        std::memcpy(bytes.data(), v.data(), bytes.size());
      } else if (a.name() == "value_int" || a.name() == "value_ints") {
        t.dtype = DType::I64;
        std::vector<int64_t> v(a.ints().begin(), a.ints().end());
        if (a.name() == "value_int")
          v = {a.i()};
        else
          t.shape = {int64_t(v.size())};
        bytes.resize(v.size() * 8);
        std::memcpy(bytes.data(), v.data(), bytes.size());
      } else {
        return fail(modelPath, describe(n) + ": attribute '" + a.name() +
                                   "' is not a numeric constant tern reads (value, value_float"
                                   "(s), value_int(s))");
      }
      if (!bytes.empty()) {
        owned.push_back(std::move(bytes));
        t.bytes = owned.back();
        t.origin = modelPath;
      }
      t.name = n.output(0);
      constants[n.output(0)] = std::move(t);
    }
  }
  return llvm::Error::success();
}

auto OnnxModel::decode(const ::onnx::TensorProto &t, llvm::StringRef what)
    -> llvm::Expected<OnnxTensor> {
  OnnxTensor out;
  out.name = t.name();
  out.origin = modelPath;
  std::optional<DType> dtype = dtypeOf(t.data_type());
  if (!dtype)
    return fail(modelPath, llvm::formatv("{0}: data type {1} is not one tern reads (numbers of "
                                         "8 to 64 bits)",
                                         what, t.data_type()));
  out.dtype = *dtype;
  if (t.has_segment())
    return fail(modelPath, what + ": segmented tensors are not supported");
  uint64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && count > (uint64_t(1) << 48) / uint64_t(d)))
      return fail(modelPath, llvm::formatv("{0}: invalid dimension {1}", what, d));
    out.shape.push_back(d);
    count *= uint64_t(d);
  }
  uint64_t size = count * dtypeSize(out.dtype);
  if (t.data_location() == ::onnx::TensorProto::EXTERNAL) {
    llvm::Expected<llvm::ArrayRef<uint8_t>> bytes = externalBytes(t, size, what);
    if (!bytes)
      return bytes.takeError();
    out.bytes = *bytes;
    return out;
  }
  if (t.has_raw_data()) {
    if (t.raw_data().size() != size)
      return fail(modelPath, llvm::formatv("{0}: raw_data holds {1} bytes; shape {2} of {3} "
                                           "needs {4}",
                                           what, t.raw_data().size(), shapeString(out.shape),
                                           dtypeName(out.dtype), size));
    out.bytes = llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(t.raw_data().data()),
                                        size);
    return out;
  }
  // The typed fields: float_data, int32_data (every type of 32 bits or less that is not float:
  // 16-bit floats as their bits), int64_data, double_data, uint64_data (UINT32, UINT64).
  std::vector<uint8_t> bytes;
  auto check = [&](int64_t have, llvm::StringRef field) -> llvm::Error {
    if (uint64_t(have) != count)
      return fail(modelPath, llvm::formatv("{0}: {1} holds {2} values; shape {3} needs {4}",
                                           what, field, have, shapeString(out.shape), count));
    bytes.reserve(size); // only now: the dims may claim more than the file holds
    return llvm::Error::success();
  };
  switch (out.dtype) {
  case DType::F32:
    if (llvm::Error e = check(t.float_data_size(), "float_data"))
      return std::move(e);
    for (float f : t.float_data()) {
      uint32_t b;
      std::memcpy(&b, &f, 4);
      put(bytes, out.dtype, b);
    }
    break;
  case DType::F64:
    if (llvm::Error e = check(t.double_data_size(), "double_data"))
      return std::move(e);
    for (double f : t.double_data()) {
      uint64_t b;
      std::memcpy(&b, &f, 8);
      put(bytes, out.dtype, b);
    }
    break;
  case DType::I64:
    if (llvm::Error e = check(t.int64_data_size(), "int64_data"))
      return std::move(e);
    for (int64_t v : t.int64_data())
      put(bytes, out.dtype, uint64_t(v));
    break;
  case DType::U32:
  case DType::U64:
    if (llvm::Error e = check(t.uint64_data_size(), "uint64_data"))
      return std::move(e);
    for (uint64_t v : t.uint64_data())
      put(bytes, out.dtype, v);
    break;
  default:
    if (llvm::Error e = check(t.int32_data_size(), "int32_data"))
      return std::move(e);
    for (int32_t v : t.int32_data())
      put(bytes, out.dtype, uint64_t(uint32_t(v)));
  }
  owned.push_back(std::move(bytes));
  out.bytes = owned.back();
  return out;
}

auto OnnxModel::externalBytes(const ::onnx::TensorProto &t, uint64_t expected,
                              llvm::StringRef what) -> llvm::Expected<llvm::ArrayRef<uint8_t>> {
  std::string location;
  uint64_t offset = 0, length = expected;
  bool hasLength = false;
  for (const ::onnx::StringStringEntryProto &kv : t.external_data()) {
    llvm::StringRef value(kv.value());
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset" || kv.key() == "length") {
      uint64_t v;
      if (value.getAsInteger(10, v))
        return fail(modelPath, what + ": external data " + kv.key() + " '" + kv.value() +
                                   "' is not a number");
      (kv.key() == "offset" ? offset : length) = v;
      hasLength |= kv.key() == "length";
    }
  }
  if (location.empty())
    return fail(modelPath, what + ": external data without a location");
  // The location is relative to the model's folder and may not leave it (as ONNX's checker).
  if (llvm::sys::path::is_absolute(location) ||
      llvm::any_of(llvm::make_range(llvm::sys::path::begin(location),
                                    llvm::sys::path::end(location)),
                   [](llvm::StringRef c) { return c == ".."; }))
    return fail(modelPath, what + ": external data location '" + location +
                               "' must be a relative path inside the model's folder");
  if (baseDir.empty())
    return fail(modelPath, what + ": external data '" + location + "' (not read here)");
  llvm::SmallString<256> file(baseDir);
  llvm::sys::path::append(file, location);
  auto &buffer = externalFiles[file];
  if (!buffer) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> b =
        llvm::MemoryBuffer::getFile(file, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (!b)
      return fail(modelPath, what + ": cannot read its external data file " + file + ": " +
                                 b.getError().message());
    buffer = std::move(*b);
  }
  if (hasLength && length != expected)
    return fail(file, llvm::formatv("{0}: external data length {1}; its shape and type need {2} "
                                    "bytes",
                                    what, length, expected));
  if (offset > buffer->getBufferSize() || buffer->getBufferSize() - offset < expected)
    return fail(file, llvm::formatv("{0}: bytes [{1}, {2}) lie outside the file ({3} bytes)",
                                    what, offset, offset + expected, buffer->getBufferSize()));
  return llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart()) + offset, expected);
}

std::optional<int64_t> OnnxModel::opset(llvm::StringRef domain) const {
  auto it = opsets.find(domain == "ai.onnx" ? "" : domain);
  if (it == opsets.end())
    return std::nullopt;
  return it->second;
}

llvm::StringRef OnnxModel::domainName(const ::onnx::NodeProto &node) {
  return node.domain().empty() ? llvm::StringRef("ai.onnx") : llvm::StringRef(node.domain());
}

const OnnxTensor *OnnxModel::constant(llvm::StringRef value) const {
  auto it = constants.find(value);
  return it == constants.end() ? nullptr : &it->second;
}

bool OnnxModel::isInitializer(llvm::StringRef value) const { return initializers.count(value); }

Producer OnnxModel::producer(llvm::StringRef value) const {
  auto it = producers.find(value);
  return it == producers.end() ? Producer{} : it->second;
}

auto OnnxModel::consumers(llvm::StringRef value) const
    -> llvm::ArrayRef<const ::onnx::NodeProto *> {
  auto it = users.find(value);
  if (it == users.end())
    return {};
  return it->second;
}

const ::onnx::ValueInfoProto *OnnxModel::graphInput(llvm::StringRef value) const {
  return inputs.lookup(value);
}
const ::onnx::ValueInfoProto *OnnxModel::graphOutput(llvm::StringRef value) const {
  return outputs.lookup(value);
}

std::string OnnxModel::describe(const ::onnx::NodeProto &node) const {
  std::optional<int64_t> version = opset(node.domain());
  std::string name = node.name().empty()
                         ? (node.output_size() ? "producing '" + node.output(0) + "'" : "")
                         : "'" + node.name() + "'";
  return llvm::formatv("node {0} ({1}, domain '{2}', opset {3})", name, node.op_type(),
                       domainName(node), version ? std::to_string(*version) : "none")
      .str();
}

const ::onnx::AttributeProto *OnnxModel::attribute(const ::onnx::NodeProto &node,
                                                   llvm::StringRef name) {
  for (const ::onnx::AttributeProto &a : node.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

std::optional<int64_t> OnnxModel::intAttr(const ::onnx::NodeProto &node, llvm::StringRef name) {
  const ::onnx::AttributeProto *a = attribute(node, name);
  if (!a)
    return std::nullopt;
  return a->i();
}

std::optional<float> OnnxModel::floatAttr(const ::onnx::NodeProto &node, llvm::StringRef name) {
  const ::onnx::AttributeProto *a = attribute(node, name);
  if (!a)
    return std::nullopt;
  return a->f();
}

std::string OnnxModel::shapeOf(const ::onnx::ValueInfoProto &info) {
  if (!info.type().has_tensor_type() || !info.type().tensor_type().has_shape())
    return "(unknown)";
  std::string s = "[";
  const auto &dims = info.type().tensor_type().shape().dim();
  for (int i = 0; i < dims.size(); ++i) {
    if (i)
      s += ", ";
    if (dims[i].has_dim_value())
      s += std::to_string(dims[i].dim_value());
    else if (dims[i].has_dim_param())
      s += dims[i].dim_param();
    else
      s += "?";
  }
  return s + "]";
}
