//===- OnnxNodeDataTest.cpp - ONNX's own node tests through tern's ONNX reader ----------------===//
//
// Debian's libonnx-testdata ships ONNX's per-op node tests: model.onnx (one node) and
// test_data_set_*/{input,output}_*.pb. For every test whose op is in tern's op table:
//  - the reader opens the model, and the op table accepts the node exactly when the model's
//    opset is one tern implements (otherwise the error names the opset);
//  - every input and output TensorProto decodes, with the element type and static dims the
//    graph declares;
//  - for the ops whose semantics the recognizer relies on when it maps a chain onto a tern op
//    (the elementwise ops, Softmax, Clip, the reductions), the op is evaluated here from the
//    decoded inputs and must give the decoded outputs (rtol 1e-4, atol 1e-6): the reader's
//    decoding and the recognizer's reading of each op's attributes, checked against ONNX's
//    reference results.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/onnx/OnnxModel.h"
#include "frontends/onnx/OpTable.h"

#include "onnx/onnx_pb.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>

using namespace tern;
using namespace tern::onnx;

namespace {

struct Array {
  std::vector<int64_t> shape;
  std::vector<double> data;
};

Array toArray(const OnnxTensor &t) {
  Array a;
  a.shape.assign(t.shape.begin(), t.shape.end());
  for (int64_t i = 0; i < t.numElements(); ++i)
    a.data.push_back(t.at(i));
  return a;
}

int64_t count(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// numpy's multidirectional broadcasting of a binary op.
std::optional<Array> broadcast(const Array &a, const Array &b,
                               const std::function<double(double, double)> &f) {
  size_t rank = std::max(a.shape.size(), b.shape.size());
  auto padded = [&](const std::vector<int64_t> &s) {
    std::vector<int64_t> p(rank - s.size(), 1);
    p.insert(p.end(), s.begin(), s.end());
    return p;
  };
  std::vector<int64_t> sa = padded(a.shape), sb = padded(b.shape);
  Array out;
  for (size_t i = 0; i < rank; ++i) {
    if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1)
      return std::nullopt;
    out.shape.push_back(std::max(sa[i], sb[i]));
  }
  std::vector<int64_t> index(rank, 0);
  for (int64_t n = 0; n < count(out.shape); ++n) {
    int64_t ia = 0, ib = 0;
    for (size_t i = 0; i < rank; ++i) {
      ia = ia * sa[i] + (sa[i] == 1 ? 0 : index[i]);
      ib = ib * sb[i] + (sb[i] == 1 ? 0 : index[i]);
    }
    out.data.push_back(f(a.data[size_t(ia)], b.data[size_t(ib)]));
    for (size_t i = rank; i-- > 0;)
      if (++index[i] < out.shape[i])
        break;
      else
        index[i] = 0;
  }
  return out;
}

/// Applies `reduce` over `axes` (all when empty), keeping the reduced dims as 1 or not.
Array reduceOver(const Array &x, std::vector<int64_t> axes, bool keepdims,
                 const std::function<double(const std::vector<double> &)> &reduce) {
  int64_t rank = int64_t(x.shape.size());
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  std::vector<bool> reduced(size_t(rank), false);
  for (int64_t a : axes)
    reduced[size_t(a < 0 ? a + rank : a)] = true;
  std::map<std::vector<int64_t>, std::vector<double>> groups;
  std::vector<int64_t> index(size_t(rank), 0);
  for (int64_t n = 0; n < count(x.shape); ++n) {
    std::vector<int64_t> key;
    for (int64_t i = 0; i < rank; ++i)
      key.push_back(reduced[size_t(i)] ? 0 : index[size_t(i)]);
    groups[key].push_back(x.data[size_t(n)]);
    for (int64_t i = rank; i-- > 0;)
      if (++index[size_t(i)] < x.shape[size_t(i)])
        break;
      else
        index[size_t(i)] = 0;
  }
  Array out;
  for (int64_t i = 0; i < rank; ++i)
    if (!reduced[size_t(i)])
      out.shape.push_back(x.shape[size_t(i)]);
    else if (keepdims)
      out.shape.push_back(1);
  for (auto &[key, values] : groups) // std::map orders keys row-major
    out.data.push_back(reduce(values));
  return out;
}

std::vector<int64_t> intsAttr(const ::onnx::NodeProto &n, const char *name) {
  const ::onnx::AttributeProto *a = OnnxModel::attribute(n, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>();
}

/// The node's output 0 from its inputs, for the ops tern's recognizer maps onto tern ops; nullopt
/// for the others (read and decoded, not evaluated).
std::optional<Array> evaluate(const ::onnx::NodeProto &n,
                              const std::vector<std::optional<Array>> &given, int64_t opset) {
  // The node's inputs by position; an optional input left empty is absent.
  std::vector<Array> in;
  for (const std::optional<Array> &a : given)
    in.push_back(a.value_or(Array{}));
  while (!in.empty() && in.back().data.empty() && in.back().shape.empty())
    in.pop_back();
  const std::string &op = n.op_type();
  static const std::map<std::string, double (*)(double)> unary = {
      {"Relu", [](double x) { return x > 0 ? x : 0.0; }},
      {"Sigmoid", [](double x) { return 1.0 / (1.0 + std::exp(-x)); }},
      {"Neg", [](double x) { return -x; }},
      {"Abs", [](double x) { return std::fabs(x); }},
      {"Sqrt", [](double x) { return std::sqrt(x); }},
      {"Reciprocal", [](double x) { return 1.0 / x; }},
      {"Cos", [](double x) { return std::cos(x); }},
      {"Sin", [](double x) { return std::sin(x); }},
      {"Round", [](double x) { return std::nearbyint(x); }}, // half to even, as act_quant
  };
  if (auto it = unary.find(op); it != unary.end() && in.size() == 1) {
    Array out = in[0];
    for (double &v : out.data)
      v = it->second(v);
    return out;
  }
  static const std::map<std::string, double (*)(double, double)> binary = {
      {"Add", [](double a, double b) { return a + b; }},
      {"Sub", [](double a, double b) { return a - b; }},
      {"Mul", [](double a, double b) { return a * b; }},
      {"Div", [](double a, double b) { return a / b; }},
      {"Pow", [](double a, double b) { return std::pow(a, b); }},
  };
  if (auto it = binary.find(op); it != binary.end() && in.size() == 2)
    return broadcast(in[0], in[1], it->second);
  if (op == "Clip" && !in.empty()) {
    double lo = given.size() > 1 && given[1] ? given[1]->data[0] : -INFINITY;
    double hi = given.size() > 2 && given[2] ? given[2]->data[0] : INFINITY;
    Array out = in[0];
    for (double &v : out.data)
      v = std::min(std::max(v, lo), hi);
    return out;
  }
  if (op == "Softmax" && in.size() == 1 && opset >= 13) {
    int64_t rank = int64_t(in[0].shape.size());
    int64_t axis = OnnxModel::intAttr(n, "axis").value_or(-1);
    axis = axis < 0 ? axis + rank : axis;
    int64_t inner = 1, len = in[0].shape[size_t(axis)];
    for (int64_t i = axis + 1; i < rank; ++i)
      inner *= in[0].shape[size_t(i)];
    Array out = in[0];
    for (int64_t base = 0; base < count(in[0].shape); base += len * inner)
      for (int64_t j = 0; j < inner; ++j) {
        double mx = -INFINITY, sum = 0;
        for (int64_t k = 0; k < len; ++k)
          mx = std::max(mx, in[0].data[size_t(base + k * inner + j)]);
        for (int64_t k = 0; k < len; ++k)
          sum += std::exp(in[0].data[size_t(base + k * inner + j)] - mx);
        for (int64_t k = 0; k < len; ++k)
          out.data[size_t(base + k * inner + j)] =
              std::exp(in[0].data[size_t(base + k * inner + j)] - mx) / sum;
      }
    return out;
  }
  if ((op == "ReduceMean" || op == "ReduceMax" || op == "ReduceSum") && !in.empty()) {
    std::vector<int64_t> axes = intsAttr(n, "axes");
    if (in.size() > 1)
      for (double a : in[1].data)
        axes.push_back(int64_t(a));
    bool keep = OnnxModel::intAttr(n, "keepdims").value_or(1) != 0;
    if (axes.empty() && OnnxModel::intAttr(n, "noop_with_empty_axes").value_or(0))
      return in[0];
    return reduceOver(in[0], axes, keep, [&](const std::vector<double> &v) {
      if (op == "ReduceMax")
        return v.empty() ? -INFINITY : *std::max_element(v.begin(), v.end());
      double sum = 0;
      for (double x : v)
        sum += x;
      return op == "ReduceMean" ? sum / double(v.size()) : sum;
    });
  }
  return std::nullopt;
}

const char *kNodeTests = "/usr/share/libonnx-testdata/data/node";

TEST(OnnxNodeData, SupportedOpsReadAndEvaluate) {
  ASSERT_TRUE(llvm::sys::fs::is_directory(kNodeTests))
      << kNodeTests << " is missing: install libonnx-testdata (scripts/setup.sh does)";
  std::error_code ec;
  std::vector<std::string> dirs;
  for (llvm::sys::fs::directory_iterator it(kNodeTests, ec), end; it != end && !ec;
       it.increment(ec))
    dirs.push_back(it->path());
  std::sort(dirs.begin(), dirs.end());
  int applicable = 0, refused = 0, evaluated = 0, tensors = 0, strings = 0, others = 0;
  for (const std::string &dir : dirs) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, "model.onnx");
    llvm::Expected<std::unique_ptr<OnnxModel>> model = OnnxModel::open(path);
    if (!model) {
      // Models of ops tern does not read may hold what tern's reader refuses (strings,
      // sequences); only the supported ops' models must read.
      llvm::consumeError(model.takeError());
      continue;
    }
    const ::onnx::GraphProto &g = (*model)->graph();
    if (g.node_size() != 1)
      continue;
    const ::onnx::NodeProto &node = g.node(0);
    llvm::StringRef domain = OnnxModel::domainName(node);
    const OpSupport *support = nullptr;
    for (const OpSupport &op : supportedOps())
      if (op.domain == domain && op.opType == node.op_type())
        support = &op;
    if (!support)
      continue;
    ++applicable;
    SCOPED_TRACE(dir);
    int64_t opset = (*model)->opset(node.domain()).value_or(0);
    llvm::Expected<const OpSupport *> looked = lookupOp(**model, node);
    if (opset < support->minOpset) {
      ASSERT_FALSE(bool(looked)) << "opset " << opset << " accepted";
      EXPECT_NE(llvm::toString(looked.takeError()).find("from opset"), std::string::npos);
      ++refused;
      continue;
    }
    ASSERT_TRUE(bool(looked)) << llvm::toString(looked.takeError());

    llvm::SmallString<256> data(dir);
    llvm::sys::path::append(data, "test_data_set_0");
    std::map<std::string, Array> inputs;
    std::vector<const OnnxTensor *> expected;
    std::vector<std::unique_ptr<OnnxModel>> files;
    auto read = [&](const char *kind, int i, const ::onnx::ValueInfoProto &info) -> bool {
      if (!info.type().has_tensor_type()) { // sequences, optionals: not tensors
        ++others;
        return false;
      }
      llvm::SmallString<256> file(data);
      llvm::sys::path::append(file, std::string(kind) + "_" + std::to_string(i) + ".pb");
      llvm::Expected<std::unique_ptr<OnnxModel>> t = OnnxModel::openTensor(file);
      if (!t) {
        // Strings are the one element type tern's reader refuses (no model tern imports has
        // them); anything else must read.
        std::string message = llvm::toString(t.takeError());
        if (info.type().tensor_type().elem_type() == ::onnx::TensorProto::STRING &&
            message.find("data type 8 is not one tern reads") != std::string::npos)
          ++strings;
        else
          ADD_FAILURE() << message;
        return false;
      }
      const OnnxTensor &tensor = (*t)->onlyTensor();
      const auto &type = info.type().tensor_type();
      // The dims the graph declares (the expanded tests declare inputs their node ignores).
      bool used = kind[0] == 'o' || llvm::is_contained(node.input(), info.name());
      if (used) {
        EXPECT_EQ(int64_t(tensor.shape.size()), type.shape().dim_size()) << file.str().str();
        for (int d = 0; d < type.shape().dim_size() && d < int(tensor.shape.size()); ++d)
          if (type.shape().dim(d).has_dim_value())
            EXPECT_EQ(tensor.shape[size_t(d)], type.shape().dim(d).dim_value())
                << file.str().str();
      }
      ++tensors;
      files.push_back(std::move(*t));
      return true;
    };
    bool ok = true;
    for (int i = 0; i < g.input_size() && ok; ++i)
      if ((ok = read("input", i, g.input(i))))
        inputs[g.input(i).name()] = toArray(files.back()->onlyTensor());
    for (int i = 0; i < g.output_size() && ok; ++i)
      if ((ok = read("output", i, g.output(i))))
        expected.push_back(&files.back()->onlyTensor());
    if (!ok || expected.empty() || !isFloat(expected[0]->dtype))
      continue;
    std::vector<std::optional<Array>> args;
    for (const std::string &name : node.input())
      args.push_back(inputs.count(name) ? std::optional<Array>(inputs[name]) : std::nullopt);
    std::optional<Array> got = evaluate(node, args, opset);
    if (!got)
      continue;
    ++evaluated;
    Array want = toArray(*expected[0]);
    ASSERT_EQ(got->shape, want.shape);
    for (size_t i = 0; i < want.data.size(); ++i) {
      double w = want.data[i], v = got->data[i];
      if (std::isnan(w) && std::isnan(v))
        continue;
      ASSERT_LE(std::fabs(v - w), 1e-6 + 1e-4 * std::fabs(w))
          << node.op_type() << " element " << i << ": " << v << " vs " << w;
    }
  }
  std::printf("ONNX node tests of tern's ops: %d read (%d refused for their opset), %d tensors "
              "decoded (%d string tensors refused, %d sequences or optionals skipped), %d "
              "evaluated against ONNX's outputs\n",
              applicable, refused, tensors, strings, others, evaluated);
  EXPECT_GT(applicable, 150);
  EXPECT_GT(evaluated, 60);
}

} // namespace
