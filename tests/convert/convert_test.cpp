// End-to-end conversion of the tiny Hugging Face checkpoints in tests/data/hf/<family>/: the
// GGUF's metadata, tensor table and data, and its tokenizer against the Hugging Face tokenizer's
// ids recorded in golden.json (scripts/gen_hf_tiny_models.py).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "format/gguf_reader.h"
#include "format/json.h"
#include "format/safetensors.h"
#include "quant/fp16.h"
#include "quant/types.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"
#include "toolkit/convert/convert.h"
#include "toolkit/convert/tensor_stream.h"

namespace pocketlm::convert {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(POCKETLM_SOURCE_DIR) / "tests" / "data" / "hf";

// What each tiny model is (the settings in scripts/gen_hf_tiny_models.py), written out here so
// the expectations do not come from the code under test.
struct Family {
  const char* dir;
  const char* arch;
  int n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim;
  bool tied, permuted, qkv_bias, qk_norm, fused;
  const char* rope;  // "", "llama3", "longrope"
};

const Family kFamilies[] = {
    {"llama3", "llama", 3, 64, 192, 4, 2, 16, true, true, false, false, false, "llama3"},
    {"mistral", "llama", 2, 64, 192, 4, 2, 16, false, true, false, false, false, ""},
    {"qwen2", "qwen2", 2, 64, 160, 4, 2, 16, true, false, true, false, false, ""},
    {"qwen3", "qwen3", 3, 64, 160, 4, 2, 32, true, false, false, true, false, ""},
    {"phi3", "phi3", 2, 64, 128, 4, 2, 16, false, false, false, false, true, ""},
    {"phi3-longrope", "phi3", 2, 64, 128, 4, 2, 16, false, false, false, false, true, "longrope"},
    {"mobilellm", "llama", 3, 48, 128, 3, 1, 16, true, true, false, false, false, ""},
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Json read_json(const fs::path& p) {
  Result<Json> j = Json::parse(read_text(p), p.string());
  EXPECT_TRUE(j.ok()) << j.status().message();
  return j.ok() ? std::move(*j) : Json();
}

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("plm_conv_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Result<ConvertReport> convert(const fs::path& in, const fs::path& out, TensorType type,
                              const std::string& name = "") {
  ConvertOptions o;
  o.input_dir = in.string();
  o.output_path = out.string();
  o.out_type = type;
  o.name = name;
  return convert_hf_checkpoint(o);
}

std::vector<std::string> expected_tensors(const Family& f) {
  std::vector<std::string> n = {"token_embd.weight", "output_norm.weight"};
  if (!f.tied) n.push_back("output.weight");
  if (std::string(f.rope) == "llama3") n.push_back("rope_freqs.weight");
  if (std::string(f.rope) == "longrope") {
    n.push_back("rope_factors_long.weight");
    n.push_back("rope_factors_short.weight");
  }
  for (int i = 0; i < f.n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    for (const char* t : {"attn_norm.weight", "attn_output.weight", "ffn_norm.weight",
                          "ffn_up.weight", "ffn_down.weight"}) {
      n.push_back(b + t);
    }
    if (f.fused) {
      n.push_back(b + "attn_qkv.weight");
    } else {
      for (const char* t : {"attn_q.weight", "attn_k.weight", "attn_v.weight", "ffn_gate.weight"}) {
        n.push_back(b + t);
      }
    }
    if (f.qkv_bias) {
      for (const char* t : {"attn_q.bias", "attn_k.bias", "attn_v.bias"}) n.push_back(b + t);
    }
    if (f.qk_norm) {
      n.push_back(b + "attn_q_norm.weight");
      n.push_back(b + "attn_k_norm.weight");
    }
  }
  return n;
}

// GGUF dimensions (contiguous first) each tensor must have.
std::vector<int64_t> expected_ne(const Family& f, const std::string& name, int64_t n_vocab) {
  const int64_t E = f.n_embd, F = f.n_ff, D = f.head_dim;
  const int64_t q = f.n_head * D, kv = f.n_head_kv * D;
  auto is = [&](const char* suffix) { return name.find(suffix) != std::string::npos; };
  if (name == "token_embd.weight" || name == "output.weight") return {E, n_vocab};
  if (name == "rope_freqs.weight" || is("rope_factors")) return {D / 2};
  if (is("attn_q_norm") || is("attn_k_norm")) return {D};
  if (is("_norm.weight")) return {E};
  if (is("attn_qkv")) return {E, q + 2 * kv};
  if (is("attn_q.weight")) return {E, q};
  if (is("attn_k.weight") || is("attn_v.weight")) return {E, kv};
  if (is("attn_q.bias")) return {q};
  if (is("attn_k.bias") || is("attn_v.bias")) return {kv};
  if (is("attn_output")) return {q, E};
  if (is("ffn_up")) return {E, f.fused ? 2 * F : F};
  if (is("ffn_gate")) return {E, F};
  if (is("ffn_down")) return {F, E};
  return {};
}

// The checkpoint tensor a GGUF tensor comes from ("" for generated ones).
std::string source_name(const std::string& gguf) {
  static const std::map<std::string, std::string> kBlock = {
      {"attn_norm.weight", "input_layernorm.weight"},
      {"ffn_norm.weight", "post_attention_layernorm.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_q.bias", "self_attn.q_proj.bias"},
      {"attn_k.bias", "self_attn.k_proj.bias"},
      {"attn_v.bias", "self_attn.v_proj.bias"},
      {"attn_qkv.weight", "self_attn.qkv_proj.weight"},
      {"attn_q_norm.weight", "self_attn.q_norm.weight"},
      {"attn_k_norm.weight", "self_attn.k_norm.weight"},
      {"attn_output.weight", "self_attn.o_proj.weight"},
      {"ffn_gate.weight", "mlp.gate_proj.weight"},
      {"ffn_down.weight", "mlp.down_proj.weight"},
  };
  if (gguf == "token_embd.weight") return "model.embed_tokens.weight";
  if (gguf == "output_norm.weight") return "model.norm.weight";
  if (gguf == "output.weight") return "lm_head.weight";
  if (gguf.rfind("blk.", 0) != 0) return "";
  const size_t dot = gguf.find('.', 4);
  const std::string layer = gguf.substr(4, dot - 4), rest = gguf.substr(dot + 1);
  const std::string hf = "model.layers." + layer + ".";
  if (rest == "ffn_up.weight") return hf + "mlp.up_proj.weight";  // or gate_up_proj (fused)
  auto it = kBlock.find(rest);
  return it == kBlock.end() ? "" : hf + it->second;
}

std::vector<float> read_source_f32(const SafetensorsCheckpoint& ck, const SafetensorsTensor& t) {
  std::vector<uint8_t> raw(t.n_bytes);
  EXPECT_TRUE(ck.read(t, 0, raw.size(), raw.data()).ok());
  std::vector<float> out(static_cast<size_t>(t.n_elements));
  for (size_t i = 0; i < out.size(); ++i) {
    uint16_t h;
    switch (t.dtype) {
      case SafetensorsDtype::kF32:
        std::memcpy(&out[i], raw.data() + 4 * i, 4);
        break;
      case SafetensorsDtype::kF16:
        std::memcpy(&h, raw.data() + 2 * i, 2);
        out[i] = fp16_to_fp32(h);
        break;
      case SafetensorsDtype::kBF16:
        std::memcpy(&h, raw.data() + 2 * i, 2);
        out[i] = bf16_to_fp32(h);
        break;
      default:
        ADD_FAILURE() << "unexpected dtype";
    }
  }
  return out;
}

std::vector<float> gguf_f32(const GgufTensorInfo& t) {
  std::vector<float> out(static_cast<size_t>(t.n_elements));
  type_traits(t.type).to_float(t.data, out.data(), t.n_elements);
  return out;
}

class ConvertFamilyTest : public ::testing::TestWithParam<Family> {};

TEST_P(ConvertFamilyTest, MetadataTensorsAndData) {
  const Family& f = GetParam();
  const fs::path dir = kData / f.dir;
  ASSERT_TRUE(fs::exists(dir / "golden.json")) << dir;
  const Json golden = read_json(dir / "golden.json");
  const int64_t n_vocab = *golden.find("n_vocab")->as_int();
  TempDir tmp;
  const fs::path out = tmp.path() / "model.gguf";
  Result<ConvertReport> r = convert(dir, out, TensorType::kF32);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->gguf_arch, f.arch);
  Result<GgufFile> g = GgufFile::open(out.string());
  ASSERT_TRUE(g.ok()) << g.status().message();
  const std::string a = f.arch;

  EXPECT_EQ(*g->get_string("general.architecture"), a);
  EXPECT_EQ(*g->get_string("general.name"), f.dir);
  EXPECT_EQ(*g->get_u32("general.file_type"), 0u);
  EXPECT_EQ(*g->get_u32("general.quantization_version"), 2u);
  EXPECT_EQ(*g->get_u32(a + ".block_count"), static_cast<uint32_t>(f.n_layer));
  EXPECT_EQ(*g->get_u32(a + ".embedding_length"), static_cast<uint32_t>(f.n_embd));
  EXPECT_EQ(*g->get_u32(a + ".feed_forward_length"), static_cast<uint32_t>(f.n_ff));
  EXPECT_EQ(*g->get_u32(a + ".attention.head_count"), static_cast<uint32_t>(f.n_head));
  EXPECT_EQ(*g->get_u32(a + ".attention.head_count_kv"), static_cast<uint32_t>(f.n_head_kv));
  EXPECT_TRUE(g->get_f32(a + ".rope.freq_base").ok());
  EXPECT_TRUE(g->get_f32(a + ".attention.layer_norm_rms_epsilon").ok());
  if (a == "llama" || a == "phi3") {
    EXPECT_EQ(*g->get_u32(a + ".rope.dimension_count"), static_cast<uint32_t>(f.head_dim));
  }
  if (a == "qwen3" || a == "llama") {
    EXPECT_EQ(*g->get_u32(a + ".attention.key_length"), static_cast<uint32_t>(f.head_dim));
    EXPECT_EQ(*g->get_u32(a + ".attention.value_length"), static_cast<uint32_t>(f.head_dim));
  }
  const std::string dir_name = f.dir;
  EXPECT_EQ(g->has("llama.attention.sliding_window"), dir_name == "mistral");
  if (dir_name == "mistral") {
    EXPECT_EQ(*g->get_u32("llama.attention.sliding_window"), 16u);
  }
  EXPECT_EQ(g->has("llama.block_repeat_count"), dir_name == "mobilellm");
  if (dir_name == "mobilellm") {
    EXPECT_EQ(*g->get_u32("llama.block_repeat_count"), 2u);
  }
  if (a == "phi3") {
    const bool lr = dir_name == "phi3-longrope";
    EXPECT_EQ(*g->get_u32("phi3.rope.scaling.original_context_length"), lr ? 256u : 4096u);
    EXPECT_EQ(*g->get_u32("phi3.context_length"), lr ? 1024u : 4096u);
    EXPECT_EQ(*g->get_u32("phi3.attention.sliding_window"), lr ? 262144u : 2047u);
    EXPECT_EQ(g->has("phi3.rope.scaling.attn_factor"), lr);
    if (lr) {
      EXPECT_FLOAT_EQ(*g->get_f32("phi3.rope.scaling.attn_factor"),
                      static_cast<float>(std::sqrt(1 + std::log(4.0) / std::log(256.0))));
    }
  }
  EXPECT_FALSE(g->has(a + ".rope.scaling.type"));

  // Tensor table.
  std::vector<std::string> want = expected_tensors(f), got;
  for (const GgufTensorInfo& t : g->tensors()) got.push_back(t.name);
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
  for (const GgufTensorInfo& t : g->tensors()) {
    std::vector<int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
    EXPECT_EQ(ne, expected_ne(f, t.name, n_vocab)) << t.name;
    EXPECT_EQ(t.type, TensorType::kF32) << t.name;
  }

  // Data: each tensor is its checkpoint tensor widened to f32, rows reordered where RoPE needs.
  Result<SafetensorsCheckpoint> ck = SafetensorsCheckpoint::open_dir(dir.string());
  ASSERT_TRUE(ck.ok()) << ck.status().message();
  for (const GgufTensorInfo& t : g->tensors()) {
    std::string src = source_name(t.name);
    if (src.empty()) continue;
    if (f.fused && t.name.find("ffn_up") != std::string::npos) {
      src.replace(src.find("up_proj"), 7, "gate_up_proj");
    }
    const SafetensorsTensor* s = ck->find(src);
    ASSERT_NE(s, nullptr) << src;
    const std::vector<float> want_v = read_source_f32(*ck, *s), got_v = gguf_f32(t);
    ASSERT_EQ(want_v.size(), got_v.size()) << t.name;
    const bool q = t.name.find("attn_q.") != std::string::npos;
    const bool k = t.name.find("attn_k.") != std::string::npos;
    const int64_t heads = q ? f.n_head : f.n_head_kv;
    const int64_t len = t.ne[0] == t.n_elements ? 1 : t.ne[0];
    const int64_t rows = t.n_elements / len;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t from = r;
      if (f.permuted && (q || k)) {
        const int64_t per_head = rows / heads;
        from = (r / per_head) * per_head + rope_pair_source_row(r % per_head, per_head);
      }
      ASSERT_EQ(std::memcmp(&got_v[r * len], &want_v[from * len], len * sizeof(float)), 0)
          << t.name << " row " << r;
    }
  }
}

TEST_P(ConvertFamilyTest, TokenizerMatchesHuggingFace) {
  const Family& f = GetParam();
  const fs::path dir = kData / f.dir;
  const Json golden = read_json(dir / "golden.json");
  TempDir tmp;
  const fs::path out = tmp.path() / "model.gguf";
  Result<ConvertReport> r = convert(dir, out, TensorType::kF16);
  ASSERT_TRUE(r.ok()) << r.status().message();
  Result<Vocab> v = load_vocab_gguf(out.string());
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(static_cast<int64_t>(v->tokens.size()), *golden.find("n_vocab")->as_int());
  Result<Tokenizer> tok = Tokenizer::create(std::move(*v));
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  int checked = 0;
  for (const Json& p : golden.find("prompts")->items()) {
    std::vector<int32_t> want;
    for (const Json& id : p.find("ids")->items())
      want.push_back(static_cast<int32_t>(*id.as_int()));
    const bool add_special = *p.find("add_special_tokens")->as_bool();
    EXPECT_EQ(tok->encode(*p.find("text")->as_string(), add_special, true), want)
        << f.dir << " prompt " << *p.find("name")->as_string();
    ++checked;
  }
  for (const Json& c : golden.find("tokenize")->items()) {
    std::vector<int32_t> want;
    for (const Json& id : c.find("ids")->items())
      want.push_back(static_cast<int32_t>(*id.as_int()));
    EXPECT_EQ(tok->encode(*c.find("text")->as_string(), false, true), want)
        << f.dir << ": " << *c.find("text")->as_string();
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

TEST_P(ConvertFamilyTest, OutputTypes) {
  const Family& f = GetParam();
  const fs::path dir = kData / f.dir;
  TempDir tmp;
  ASSERT_TRUE(convert(dir, tmp.path() / "f32.gguf", TensorType::kF32).ok());
  Result<GgufFile> ref = GgufFile::open((tmp.path() / "f32.gguf").string());
  ASSERT_TRUE(ref.ok());
  for (TensorType type : {TensorType::kF16, TensorType::kBF16, TensorType::kQ8_0}) {
    const fs::path out = tmp.path() / (std::string(type_traits(type).name) + ".gguf");
    Result<ConvertReport> r = convert(dir, out, type);
    ASSERT_TRUE(r.ok()) << r.status().message();
    Result<GgufFile> g = GgufFile::open(out.string());
    ASSERT_TRUE(g.ok()) << g.status().message();
    EXPECT_EQ(*g->get_u32("general.file_type"), file_type_for(type));
    for (const GgufTensorInfo& t : g->tensors()) {
      const bool vector_like = t.n_dims == 1 || t.name.find("_norm.") != std::string::npos;
      TensorType want = vector_like ? TensorType::kF32 : type;
      if (!vector_like && type == TensorType::kQ8_0 && t.ne[0] % 32 != 0) want = TensorType::kF16;
      EXPECT_EQ(t.type, want) << t.name << " as " << type_traits(type).name;
      // Values agree with the f32 conversion within the type's rounding.
      const GgufTensorInfo* rt = ref->find_tensor(t.name);
      ASSERT_NE(rt, nullptr);
      const std::vector<float> a = gguf_f32(*rt), b = gguf_f32(t);
      float max_abs = 0, max_err = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        max_abs = std::max(max_abs, std::fabs(a[i]));
        max_err = std::max(max_err, std::fabs(a[i] - b[i]));
      }
      const float tol = want == TensorType::kF32    ? 0.0f
                        : want == TensorType::kQ8_0 ? max_abs / 127.0f
                        : want == TensorType::kBF16 ? max_abs / 128.0f
                                                    : max_abs / 1024.0f;
      EXPECT_LE(max_err, tol) << t.name << " as " << type_traits(want).name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ConvertFamilyTest, ::testing::ValuesIn(kFamilies),
                         [](const ::testing::TestParamInfo<Family>& i) {
                           std::string n = i.param.dir;
                           for (char& c : n) {
                             if (c == '-') c = '_';
                           }
                           return n;
                         });

TEST(Convert, Transformers4ConfigGivesTheSameFile) {
  // The llama3 model's config.json as transformers 4.x writes it: rope_theta at the top level
  // and the scaling in rope_scaling.
  TempDir tmp;
  const fs::path v4 = tmp.path() / "llama3";
  fs::copy(kData / "llama3", v4);
  std::string cfg = read_text(v4 / "config.json");
  const std::string from = R"("rope_parameters": {)";
  ASSERT_NE(cfg.find(from), std::string::npos);
  cfg.replace(cfg.find(from), from.size(), R"("rope_theta": 10000.0, "rope_scaling": {)");
  const std::string theta = R"("rope_theta": 10000.0,)";
  cfg.erase(cfg.rfind(theta), theta.size());  // the copy inside rope_scaling
  std::ofstream(v4 / "config.json", std::ios::binary) << cfg;
  ASSERT_TRUE(convert(kData / "llama3", tmp.path() / "a.gguf", TensorType::kF16, "x").ok());
  Result<ConvertReport> r = convert(v4, tmp.path() / "b.gguf", TensorType::kF16, "x");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(read_text(tmp.path() / "a.gguf"), read_text(tmp.path() / "b.gguf"));
}

// A writable copy of a tiny model whose config.json can be edited.
class BrokenModel {
 public:
  explicit BrokenModel(const char* family) : dir_(tmp_.path() / family) {
    fs::copy(kData / family, dir_);
  }
  void edit_config(const std::string& from, const std::string& to) {
    std::string cfg = read_text(dir_ / "config.json");
    ASSERT_NE(cfg.find(from), std::string::npos) << from;
    cfg.replace(cfg.find(from), from.size(), to);
    std::ofstream(dir_ / "config.json", std::ios::binary) << cfg;
  }
  Status convert_status(TensorType type = TensorType::kF16) {
    Result<ConvertReport> r = convert(dir_, tmp_.path() / "out.gguf", type);
    return r.ok() ? Status() : r.status();
  }
  const fs::path& dir() const { return dir_; }
  fs::path out() const { return tmp_.path() / "out.gguf"; }

 private:
  TempDir tmp_;
  fs::path dir_;
};

TEST(Convert, UnknownArchitecture) {
  BrokenModel m("mobilellm");
  m.edit_config(R"("MobileLLMForCausalLM")", R"("GPTNeoXForCausalLM")");
  Status s = m.convert_status();
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("unknown architecture 'GPTNeoXForCausalLM'"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("LlamaForCausalLM"), std::string::npos);
  EXPECT_FALSE(fs::exists(m.out()));
}

TEST(Convert, CheckpointThatDisagreesWithItsConfig) {
  {
    BrokenModel m("mobilellm");
    m.edit_config(R"("num_hidden_layers": 3)", R"("num_hidden_layers": 4)");
    Status s = m.convert_status();
    EXPECT_EQ(s.code(), StatusCode::kMalformedFile);
    EXPECT_NE(s.message().find("missing tensor 'model.layers.3.input_layernorm.weight'"),
              std::string::npos)
        << s.message();
  }
  {
    BrokenModel m("mobilellm");
    m.edit_config(R"("num_hidden_layers": 3)", R"("num_hidden_layers": 2)");
    Status s = m.convert_status();
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_NE(s.message().find("'model.layers.2."), std::string::npos) << s.message();
  }
  {
    BrokenModel m("mobilellm");
    m.edit_config(R"("intermediate_size": 128)", R"("intermediate_size": 96)");
    Status s = m.convert_status();
    EXPECT_EQ(s.code(), StatusCode::kMalformedFile);
    EXPECT_NE(s.message().find("has shape [128, 48] where config.json implies [96, 48]"),
              std::string::npos)
        << s.message();
  }
  {
    BrokenModel m("mobilellm");
    m.edit_config(R"("share_embedding": true)", R"("share_embedding": false)");
    Status s = m.convert_status();
    EXPECT_EQ(s.code(), StatusCode::kMalformedFile);
    EXPECT_NE(s.message().find("missing tensor 'lm_head.weight'"), std::string::npos);
  }
}

TEST(Convert, MissingAndMalformedInputs) {
  {
    BrokenModel m("qwen2");
    fs::remove(m.dir() / "tokenizer.json");
    Status s = m.convert_status();
    EXPECT_EQ(s.code(), StatusCode::kNotFound);
    EXPECT_NE(s.message().find("no tokenizer.json"), std::string::npos);
  }
  {
    BrokenModel m("qwen2");
    fs::remove(m.dir() / "config.json");
    EXPECT_EQ(m.convert_status().code(), StatusCode::kNotFound);
  }
  {
    BrokenModel m("qwen2");
    std::ofstream(m.dir() / "config.json") << "{\"vocab_size\": 12,";
    Status s = m.convert_status();
    EXPECT_EQ(s.code(), StatusCode::kMalformedFile);
    EXPECT_NE(s.message().find("config.json: line 1"), std::string::npos) << s.message();
  }
  {
    BrokenModel m("qwen2");
    fs::remove(m.dir() / "model.safetensors");
    EXPECT_EQ(m.convert_status().code(), StatusCode::kNotFound);
  }
  {
    // A vocabulary that outgrows config.json's vocab_size.
    BrokenModel m("phi3");
    m.edit_config(R"("vocab_size": 535)", R"("vocab_size": 500)");
    Status s = m.convert_status();
    EXPECT_EQ(s.code(), StatusCode::kMalformedFile);
  }
  {
    BrokenModel m("phi3");
    std::string tok = read_text(m.dir() / "tokenizer.json");
    const std::string bl = R"("type": "ByteLevel")";
    tok.replace(tok.find(bl), bl.size(), R"("type": "Whitespace")");
    std::ofstream(m.dir() / "tokenizer.json", std::ios::binary) << tok;
    Status s = m.convert_status();
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_NE(s.message().find("--pre"), std::string::npos) << s.message();
  }
  EXPECT_EQ(convert(kData / "nope", "/tmp/x.gguf", TensorType::kF16).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(convert(kData / "phi3", "/tmp/x.gguf", TensorType::kQ4_0).status().code(),
            StatusCode::kInvalidArgument);
  Result<ConvertReport> r = convert(kData / "phi3", "/nonexistent-dir/x.gguf", TensorType::kF16);
  EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().message();
}

TEST(Convert, PreTokenizerOverride) {
  TempDir tmp;
  ConvertOptions o;
  o.input_dir = (kData / "qwen2").string();
  o.output_path = (tmp.path() / "q.gguf").string();
  o.pre_override = "gpt-2";
  Result<ConvertReport> r = convert_hf_checkpoint(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  Result<GgufFile> g = GgufFile::open(o.output_path);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g->get_string("tokenizer.ggml.pre"), "gpt-2");
  bool warned = false;
  for (const std::string& w : r->warnings)
    warned |= w.find("describes 'qwen2'") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(Convert, TokenizerMetadata) {
  TempDir tmp;
  struct Want {
    const char* dir;
    const char* pre;
    std::optional<bool> add_bos;
    bool has_template;
  };
  for (const Want& w :
       {Want{"llama3", "llama-bpe", true, true}, Want{"qwen2", "qwen2", {}, true},
        Want{"phi3", "gpt-2", true, true}, Want{"mobilellm", "gpt-2", true, false}}) {
    const fs::path out = tmp.path() / (std::string(w.dir) + ".gguf");
    ASSERT_TRUE(convert(kData / w.dir, out, TensorType::kF16).ok());
    Result<GgufFile> g = GgufFile::open(out.string());
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(*g->get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(*g->get_string("tokenizer.ggml.pre"), w.pre) << w.dir;
    EXPECT_EQ(g->has("tokenizer.ggml.add_bos_token"), w.add_bos.has_value()) << w.dir;
    if (w.add_bos) {
      EXPECT_EQ(*g->get_bool("tokenizer.ggml.add_bos_token"), *w.add_bos);
    }
    EXPECT_EQ(g->has("tokenizer.chat_template"), w.has_template) << w.dir;
    const auto* tokens = *g->get_string_array("tokenizer.ggml.tokens");
    const std::vector<int32_t> types = *g->get_i32_array("tokenizer.ggml.token_type");
    const uint32_t eos = *g->get_u32("tokenizer.ggml.eos_token_id");
    EXPECT_EQ(types[eos], 3) << w.dir;  // control
    const std::string d = w.dir;
    if (d == "llama3") {
      EXPECT_EQ((*tokens)[*g->get_u32("tokenizer.ggml.bos_token_id")], "<|begin_of_text|>");
      EXPECT_EQ((*tokens)[eos], "<|eot_id|>");
    }
    if (d == "qwen2") {
      // The vocabulary is padded past the tokenizer to config.json's vocab_size.
      EXPECT_EQ(tokens->size(), 640u);
      EXPECT_EQ(tokens->back(), "[PAD639]");
      EXPECT_EQ(types.back(), 5);  // unused
      EXPECT_EQ((*tokens)[eos], "<|im_end|>");
      EXPECT_EQ((*tokens)[*g->get_u32("tokenizer.ggml.padding_token_id")], "<|endoftext|>");
      EXPECT_FALSE(g->has("tokenizer.ggml.bos_token_id"));
    }
  }
}

}  // namespace
}  // namespace pocketlm::convert
