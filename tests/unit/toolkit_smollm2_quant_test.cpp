// pocketlm's quantizers on real weights: tensors of SmolLM2-135M-Instruct, dequantized as the
// quantize tool does, must come out of every type with no more squared error than llama.cpp's
// quantizers leave on the same rows (their figures: tests/toolkit/data/smollm2_expect.json, made
// by tests/toolkit/gen_smollm2_expect.py with llama-cpp-python). Skipped without the model.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "format/gguf_reader.h"
#include "quant/quantize_search.h"
#include "quant/types.h"
#include "support/json_reader.h"

namespace pocketlm {
namespace {

namespace fs = std::filesystem;
using testing::Json;
using testing::JsonParser;

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(QuantSearchSmolLM2Test, NoWorseThanLlamaCppOnRealTensors) {
  const fs::path model = fs::path(POCKETLM_SOURCE_DIR) / "models/SmolLM2-135M-Instruct.Q4_1.gguf";
  const fs::path expect = fs::path(POCKETLM_SOURCE_DIR) / "tests/toolkit/data/smollm2_expect.json";
  if (!fs::exists(model)) GTEST_SKIP() << model << " is absent: run scripts/fetch_models.py";
  ASSERT_TRUE(fs::exists(expect)) << expect;
  Json doc;
  ASSERT_TRUE(JsonParser(read_all(expect)).parse(&doc));
  Result<GgufFile> f = GgufFile::open(model.string());
  ASSERT_TRUE(f.ok()) << f.status().message();

  int checked = 0;
  for (const Json& c : doc["tensor_mse"].items) {
    const std::string& name = c["tensor"].str;
    const std::string& type_name = c["type"].str;
    SCOPED_TRACE(name + " as " + type_name);
    const GgufTensorInfo* t = f->find_tensor(name);
    ASSERT_NE(t, nullptr);
    const std::optional<TensorType> type = tensor_type_from_name(type_name);
    ASSERT_TRUE(type.has_value());
    const int64_t rows = static_cast<int64_t>(c["rows"].number);
    const int64_t n = t->ne[0];
    std::vector<float> x(static_cast<size_t>(rows * n));
    type_traits(t->type).to_float(t->data, x.data(), rows * n);
    std::vector<uint8_t> q(row_size(*type, n) * static_cast<size_t>(rows));
    quantize_rows_search(*type, x.data(), q.data(), rows, n, nullptr);
    std::vector<float> y(x.size());
    type_traits(*type).to_float(q.data(), y.data(), rows * n);
    double err = 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      err += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
      sum += static_cast<double>(x[i]) * x[i];
    }
    const double ours = err / sum;
    const double llama = c["rel_mse"].number;
    EXPECT_LE(ours, llama) << "ours " << ours << ", llama.cpp " << llama;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

}  // namespace
}  // namespace pocketlm
