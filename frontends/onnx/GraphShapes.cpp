//===- GraphShapes.cpp - the ONNX graph's inputs and outputs against the decoder --------------===//
#include "frontends/onnx/GraphShapes.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

using namespace tern;
using namespace tern::onnx;

namespace {

/// A dim: static, or the name of a symbolic one (unbound).
struct Dim {
  std::optional<int64_t> value;
  std::string name;
};

class Checker {
public:
  Checker(const OnnxModel &m, const OnnxDecoder &d, const llvm::StringMap<int64_t> &bindings)
      : m(m), d(d), bindings(bindings) {}

  llvm::Expected<GraphShapes> run() {
    for (const ::onnx::ValueInfoProto &v : m.graph().input())
      collect(v);
    for (const ::onnx::ValueInfoProto &v : m.graph().output())
      collect(v);
    for (const auto &b : bindings)
      if (!symbols.contains(b.first()))
        return fail(llvm::formatv("--shapes: no graph input or output has a dimension called "
                                  "'{0}' (its symbolic dimensions: {1})",
                                  b.first(), symbolList()));
    GraphShapes out;
    std::vector<Dim> ids;
    if (!value("input_ids", /*input=*/true, 2, ids))
      return error();
    if (ids.size() != 2)
      return fail(llvm::formatv("graph input '{0}' has {1} dims; expected [batch, sequence]",
                                idsName, ids.size()));
    if (!one(ids[0], idsName, "batch"))
      return error();
    if (ids[1].value && *ids[1].value > 0)
      out.tokensPerCall = ids[1].value;
    for (const OnnxLayer &l : d.layers)
      for (const std::string &name : {l.pastKey, l.pastValue, l.presentKey, l.presentValue}) {
        if (name.empty() || (!m.graphInput(name) && !m.graphOutput(name)))
          continue; // a present nobody reads (a graph without past)
        std::vector<Dim> dims;
        bool input = m.graphInput(name) != nullptr;
        if (!value(name, input, 4, dims))
          return error();
        if (dims.size() != 4 || !one(dims[0], name, "batch") ||
            !equal(dims[1], d.spec.kvHeads, name, "key/value heads") ||
            !equal(dims[3], d.spec.headDim, name, "head dim"))
          return error(dims.size() != 4 ? llvm::formatv("'{0}' has {1} dims; expected [batch, "
                                                        "kv_heads, length, head_dim]",
                                                        name, dims.size())
                                              .str()
                                        : "");
        if (input && dims[2].value && out.tokensPerCall)
          out.context = *dims[2].value + *out.tokensPerCall; // past + sequence
        if (!input && dims[2].value && *dims[2].value > 0)
          out.context = dims[2].value;
      }
    for (llvm::StringRef name : {"position_ids", "attention_mask"}) {
      std::vector<Dim> dims;
      if (!m.graphInput(name))
        continue;
      if (!value(name, true, 2, dims))
        return error();
      if (dims.size() != 2 || !one(dims[0], name, "batch"))
        return error(dims.size() != 2 ? llvm::formatv("graph input '{0}' has {1} dims; expected "
                                                      "[batch, length]",
                                                      name, dims.size())
                                            .str()
                                      : "");
      if (name == "attention_mask" && dims[1].value && *dims[1].value > 0)
        out.context = dims[1].value;
    }
    std::vector<Dim> logits;
    if (!value(d.logits, false, 3, logits))
      return error();
    if (logits.empty() || !equal(logits.back(), d.spec.vocab, d.logits, "vocabulary"))
      return error(logits.empty() ? "the logits output has no dims" : "");
    return out;
  }

private:
  llvm::Error fail(const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   (m.path() + ": " + message).str());
  }
  llvm::Error error(const std::string &fallback = "") {
    return fail(problem.empty() ? fallback : problem);
  }

  void collect(const ::onnx::ValueInfoProto &v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
      return;
    for (const auto &dim : v.type().tensor_type().shape().dim())
      if (dim.has_dim_param())
        symbols.insert(dim.dim_param());
  }
  std::string symbolList() const {
    std::vector<std::string> names;
    for (const auto &s : symbols)
      names.push_back(s.first().str());
    std::sort(names.begin(), names.end());
    std::string out;
    for (const std::string &n : names)
      out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
  }

  /// The dims of graph input/output `name`; `rank` unknown dims when the graph gives no shape.
  bool value(llvm::StringRef name, bool input, size_t rank, std::vector<Dim> &dims) {
    if (input && name == "input_ids") // the embedding's ids, by whatever name the graph has
      name = idsName = d.tokenIds;
    const ::onnx::ValueInfoProto *v = input ? m.graphInput(name) : m.graphOutput(name);
    if (!v) {
      problem = llvm::formatv("no graph {0} '{1}'", input ? "input" : "output", name).str();
      return false;
    }
    if (!v->type().has_tensor_type() || !v->type().tensor_type().has_shape()) {
      dims.assign(rank, Dim{});
      return true;
    }
    for (const auto &dim : v->type().tensor_type().shape().dim()) {
      Dim d;
      if (dim.has_dim_value() && dim.dim_value() < 0) {
        problem = llvm::formatv("graph {0} '{1}' has a negative dimension ({2})",
                                input ? "input" : "output", name, dim.dim_value())
                      .str();
        return false;
      }
      if (dim.has_dim_value())
        d.value = dim.dim_value();
      else if (dim.has_dim_param()) {
        d.name = dim.dim_param();
        if (auto it = bindings.find(d.name); it != bindings.end())
          d.value = it->second;
      }
      dims.push_back(d);
    }
    return true;
  }

  bool equal(const Dim &dim, int64_t want, llvm::StringRef name, llvm::StringRef what) {
    if (!dim.value || *dim.value == want)
      return true;
    problem = llvm::formatv("graph {0} '{1}': its {3} dimension{4} is {2}; the decoder has {5}",
                            m.graphInput(name) ? "input" : "output", name, *dim.value, what,
                            dim.name.empty() ? "" : " '" + dim.name + "' (bound by --shapes)",
                            want)
                  .str();
    return false;
  }
  bool one(const Dim &dim, llvm::StringRef name, llvm::StringRef what) {
    if (!dim.value || *dim.value == 1)
      return true;
    problem = llvm::formatv("graph {0} '{1}': its {2} dimension{3} is {4}; tern's binary runs "
                            "one sequence per call ({2} 1, or symbolic)",
                            m.graphInput(name) ? "input" : "output", name, what,
                            dim.name.empty() ? "" : " '" + dim.name + "' (bound by --shapes)",
                            *dim.value)
                  .str();
    return false;
  }

  const OnnxModel &m;
  const OnnxDecoder &d;
  const llvm::StringMap<int64_t> &bindings;
  llvm::StringSet<> symbols;
  std::string problem, idsName;
};

} // namespace

auto tern::onnx::resolveShapes(const OnnxModel &model, const OnnxDecoder &decoder,
                               const llvm::StringMap<int64_t> &bindings)
    -> llvm::Expected<GraphShapes> {
  return Checker(model, decoder, bindings).run();
}
