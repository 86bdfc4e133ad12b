// Quantization plans (toolkit/quantize/quant_plan.h): which type each tensor of a model gets
// under each preset, overrides, fallbacks and refusals. Models are synthetic GGUF files with
// llama-shaped tensor tables (no weights needed: plans only read names and shapes).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "toolkit/quantize/quant_plan.h"

namespace pocketlm::toolkit {
namespace {

using T = TensorType;

struct Shape {
  int n_layer = 8;
  int64_t n_embd = 512;
  int64_t n_ff = 1024;
  int n_head = 8;
  int n_head_kv = 2;
  bool tied = false;
  T type = T::kF32;
};

// Plans only read names and row lengths (ne[0]), so every matrix gets its real row length but
// just two rows: the file stays a few kilobytes whatever the model's size.
GgufFile make_model(const Shape& s) {
  GgufWriter w;
  EXPECT_TRUE(w.set("general.architecture", GgufValue::string("llama")).ok());
  EXPECT_TRUE(w.set("llama.block_count", GgufValue::u32(static_cast<uint32_t>(s.n_layer))).ok());
  EXPECT_TRUE(
      w.set("llama.attention.head_count", GgufValue::u32(static_cast<uint32_t>(s.n_head))).ok());
  EXPECT_TRUE(
      w.set("llama.attention.head_count_kv", GgufValue::u32(static_cast<uint32_t>(s.n_head_kv)))
          .ok());
  EXPECT_TRUE(w.add_tensor("token_embd.weight", s.type, {s.n_embd, 2}).ok());
  for (int il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    EXPECT_TRUE(w.add_tensor(p + "attn_norm.weight", T::kF32, {s.n_embd}).ok());
    for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up"}) {
      EXPECT_TRUE(w.add_tensor(p + m + ".weight", s.type, {s.n_embd, 2}).ok());
    }
    EXPECT_TRUE(w.add_tensor(p + "ffn_norm.weight", T::kF32, {s.n_embd}).ok());
    EXPECT_TRUE(w.add_tensor(p + "ffn_down.weight", s.type, {s.n_ff, 2}).ok());
  }
  EXPECT_TRUE(w.add_tensor("output_norm.weight", T::kF32, {s.n_embd}).ok());
  if (!s.tied) {
    EXPECT_TRUE(w.add_tensor("output.weight", s.type, {s.n_embd, 2}).ok());
  }
  std::vector<uint8_t> bytes = w.encode_header();
  uint64_t data = 0;
  for (const GgufTensorDecl& t : w.tensors()) data = std::max(data, t.offset + t.n_bytes);
  bytes.resize(bytes.size() + data + 64, 0);
  Result<GgufFile> f = GgufFile::open_bytes(std::move(bytes));
  EXPECT_TRUE(f.ok()) << f.status().message();
  return std::move(f).value();
}

std::map<std::string, T> plan_types(const GgufFile& f, const PlanOptions& o) {
  Result<std::vector<TensorPlan>> p = plan_quantization(f, o);
  EXPECT_TRUE(p.ok()) << p.status().message();
  std::map<std::string, T> m;
  if (p.ok()) {
    for (const TensorPlan& t : *p) m[t.name] = t.to;
  }
  return m;
}

PlanOptions preset(QuantPreset p) {
  PlanOptions o;
  o.preset = p;
  return o;
}

std::string blk(int il, const char* name) {
  return "blk." + std::to_string(il) + "." + name + ".weight";
}

TEST(QuantPlanTest, PresetNamesAndFileTypes) {
  EXPECT_EQ(preset_from_name("q4_k_m"), QuantPreset::kQ4_K_M);
  EXPECT_EQ(preset_from_name("Q8_0"), QuantPreset::kQ8_0);
  EXPECT_EQ(preset_from_name("f32"), QuantPreset::kF32);
  EXPECT_FALSE(preset_from_name("q4_k").has_value());  // a tensor type, not a preset
  EXPECT_EQ(preset_info(QuantPreset::kQ4_K_M).file_type, 15u);
  EXPECT_EQ(preset_info(QuantPreset::kQ3_K_M).file_type, 12u);
  EXPECT_EQ(preset_info(QuantPreset::kQ2_K).file_type, 10u);
  EXPECT_EQ(preset_info(QuantPreset::kQ5_1).file_type, 9u);
  for (const PresetInfo& p : all_presets()) EXPECT_EQ(&preset_info(p.preset), &p);
}

TEST(QuantPlanTest, Q4_K_MGivesMoreBitsToAttnVAndFfnDownOnChosenLayers) {
  const GgufFile f = make_model(Shape{});
  const auto m = plan_types(f, preset(QuantPreset::kQ4_K_M));
  // "More bits" layers: i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2; of 8 layers, 0, 3, 6, 7.
  for (int il = 0; il < 8; ++il) {
    const bool more = il == 0 || il == 3 || il == 6 || il == 7;
    EXPECT_EQ(m.at(blk(il, "attn_v")), more ? T::kQ6_K : T::kQ4_K) << il;
    EXPECT_EQ(m.at(blk(il, "ffn_down")), more ? T::kQ6_K : T::kQ4_K) << il;
    EXPECT_EQ(m.at(blk(il, "attn_q")), T::kQ4_K);
    EXPECT_EQ(m.at(blk(il, "attn_output")), T::kQ4_K);
    EXPECT_EQ(m.at(blk(il, "ffn_up")), T::kQ4_K);
    EXPECT_EQ(m.at(blk(il, "attn_norm")), T::kF32);  // norms are never quantized
  }
  EXPECT_EQ(m.at("output.weight"), T::kQ6_K);
  EXPECT_EQ(m.at("token_embd.weight"), T::kQ4_K);
  EXPECT_EQ(m.at("output_norm.weight"), T::kF32);
}

TEST(QuantPlanTest, OtherMixes) {
  Shape s;
  s.n_layer = 16;
  const GgufFile f = make_model(s);
  const auto q3 = plan_types(f, preset(QuantPreset::kQ3_K_M));
  EXPECT_EQ(q3.at(blk(0, "attn_v")), T::kQ5_K);
  EXPECT_EQ(q3.at(blk(1, "attn_v")), T::kQ5_K);
  EXPECT_EQ(q3.at(blk(2, "attn_v")), T::kQ4_K);
  EXPECT_EQ(q3.at(blk(0, "ffn_down")), T::kQ5_K);  // first 1/16 of the layers
  EXPECT_EQ(q3.at(blk(1, "ffn_down")), T::kQ4_K);
  EXPECT_EQ(q3.at(blk(5, "attn_output")), T::kQ4_K);
  EXPECT_EQ(q3.at(blk(5, "ffn_up")), T::kQ3_K);

  const auto q2 = plan_types(f, preset(QuantPreset::kQ2_K));
  EXPECT_EQ(q2.at(blk(3, "attn_v")), T::kQ4_K);  // 4 query heads per KV head
  EXPECT_EQ(q2.at(blk(3, "ffn_down")), T::kQ3_K);
  EXPECT_EQ(q2.at(blk(3, "attn_output")), T::kQ3_K);
  EXPECT_EQ(q2.at(blk(3, "attn_q")), T::kQ2_K);

  const auto ks = plan_types(f, preset(QuantPreset::kQ4_K_S));
  EXPECT_EQ(ks.at(blk(3, "attn_v")), T::kQ5_K);
  EXPECT_EQ(ks.at(blk(4, "attn_v")), T::kQ4_K);
  EXPECT_EQ(ks.at(blk(1, "ffn_down")), T::kQ5_K);  // first eighth
  EXPECT_EQ(ks.at(blk(2, "ffn_down")), T::kQ4_K);

  const auto q6 = plan_types(f, preset(QuantPreset::kQ6_K));
  EXPECT_EQ(q6.at(blk(0, "attn_v")), T::kQ6_K);
  EXPECT_EQ(q6.at("output.weight"), T::kQ6_K);

  const auto q8 = plan_types(f, preset(QuantPreset::kQ8_0));
  EXPECT_EQ(q8.at("output.weight"), T::kQ8_0);
  EXPECT_EQ(q8.at(blk(0, "attn_v")), T::kQ8_0);

  const auto q40 = plan_types(f, preset(QuantPreset::kQ4_0));
  EXPECT_EQ(q40.at("output.weight"), T::kQ6_K);  // the output head gets 6 bits, as llama.cpp does
  EXPECT_EQ(q40.at(blk(0, "ffn_down")), T::kQ4_0);

  Shape gqa3 = s;
  gqa3.n_head_kv = 4;  // 2 query heads per KV head
  const auto q2b = plan_types(make_model(gqa3), preset(QuantPreset::kQ2_K));
  EXPECT_EQ(q2b.at(blk(3, "attn_v")), T::kQ3_K);
}

TEST(QuantPlanTest, RowsThatDoNotSplitInto256FallBack) {
  // SmolLM2's shape: 576-wide rows (2.25 x 256), 1536-wide ffn_down rows, tied output.
  Shape s;
  s.n_layer = 30;
  s.n_embd = 576;
  s.n_ff = 1536;
  s.n_head = 9;
  s.n_head_kv = 3;
  s.tied = true;
  const GgufFile f = make_model(s);
  const auto km = plan_types(f, preset(QuantPreset::kQ4_K_M));
  EXPECT_EQ(km.at(blk(0, "attn_q")), T::kQ5_0);  // Q4_K -> Q5_0
  EXPECT_EQ(km.at(blk(0, "attn_v")), T::kQ8_0);  // Q6_K -> Q8_0
  EXPECT_EQ(km.at(blk(3, "attn_v")), T::kQ5_0);
  EXPECT_EQ(km.at(blk(0, "ffn_down")), T::kQ6_K);  // 1536 = 6 x 256 fits
  EXPECT_EQ(km.at(blk(3, "ffn_down")), T::kQ4_K);
  EXPECT_EQ(km.at("token_embd.weight"), T::kQ8_0);  // tied output head

  const auto q2 = plan_types(f, preset(QuantPreset::kQ2_K));
  EXPECT_EQ(q2.at(blk(0, "attn_q")), T::kQ4_0);  // Q2_K -> Q4_0
  EXPECT_EQ(q2.at(blk(0, "attn_v")), T::kQ4_0);  // Q3_K -> Q4_0
  EXPECT_EQ(q2.at(blk(0, "ffn_down")), T::kQ3_K);

  const auto q5 = plan_types(f, preset(QuantPreset::kQ5_K_M));
  EXPECT_EQ(q5.at(blk(5, "attn_q")), T::kQ5_1);  // Q5_K -> Q5_1

  Result<std::vector<TensorPlan>> p = plan_quantization(f, preset(QuantPreset::kQ4_K_M));
  ASSERT_TRUE(p.ok());
  for (const TensorPlan& t : *p) {
    if (t.name == blk(0, "attn_q")) {
      EXPECT_NE(t.why.find("fallback"), std::string::npos) << t.why;
    }
  }
}

TEST(QuantPlanTest, Overrides) {
  const GgufFile f = make_model(Shape{});
  PlanOptions o = preset(QuantPreset::kQ4_K_M);
  Result<TypeOverride> a = parse_type_override("attn_(q|k)=q8_0");
  Result<TypeOverride> b = parse_type_override("blk\\.0\\.=f16");
  ASSERT_TRUE(a.ok() && b.ok());
  o.overrides = {*a, *b};
  o.output_type = T::kQ8_0;
  o.embd_type = T::kQ6_K;
  const auto m = plan_types(f, o);
  EXPECT_EQ(m.at(blk(3, "attn_q")), T::kQ8_0);
  EXPECT_EQ(m.at(blk(0, "attn_k")), T::kQ8_0);  // first match wins
  EXPECT_EQ(m.at(blk(0, "ffn_up")), T::kF16);
  EXPECT_EQ(m.at(blk(3, "ffn_up")), T::kQ4_K);
  EXPECT_EQ(m.at(blk(0, "attn_norm")), T::kF32);  // overrides never touch norms
  EXPECT_EQ(m.at("output.weight"), T::kQ8_0);
  EXPECT_EQ(m.at("token_embd.weight"), T::kQ6_K);

  EXPECT_FALSE(parse_type_override("attn_q").ok());
  EXPECT_FALSE(parse_type_override("attn_q=q9_9").ok());
  EXPECT_FALSE(parse_type_override("attn_(q=q8_0").ok());  // bad regex: an error, not a throw
  EXPECT_FALSE(parse_type_override("=q8_0").ok());
  EXPECT_FALSE(parse_weight_type("q8_K").ok());  // an activation type
  EXPECT_EQ(*parse_weight_type("Q6_K"), T::kQ6_K);

  // An explicit type the rows cannot hold is refused rather than silently replaced.
  Shape odd;
  odd.n_embd = 576;
  odd.n_head = 9;
  odd.n_head_kv = 3;
  PlanOptions bad = preset(QuantPreset::kQ8_0);
  bad.output_type = T::kQ4_K;
  Result<std::vector<TensorPlan>> r = plan_quantization(make_model(odd), bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("output.weight"), std::string::npos);
}

TEST(QuantPlanTest, RequantizingNeedsPermission) {
  Shape s;
  s.type = T::kQ4_0;
  const GgufFile f = make_model(s);
  Result<std::vector<TensorPlan>> r = plan_quantization(f, preset(QuantPreset::kQ4_K_M));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("--allow-requantize"), std::string::npos);

  PlanOptions o = preset(QuantPreset::kQ4_K_M);
  o.allow_requantize = true;
  EXPECT_TRUE(plan_quantization(f, o).ok());

  // The same preset still re-quantizes the output head (Q4_0 -> Q6_K); with the head kept, every
  // tensor is copied. Dequantizing needs no permission.
  EXPECT_FALSE(plan_quantization(f, preset(QuantPreset::kQ4_0)).ok());
  PlanOptions keep = preset(QuantPreset::kQ4_0);
  keep.output_type = T::kQ4_0;
  Result<std::vector<TensorPlan>> p = plan_quantization(f, keep);
  ASSERT_TRUE(p.ok()) << p.status().message();
  for (const TensorPlan& t : *p) EXPECT_FALSE(t.convert) << t.name;
  const auto deq = plan_types(f, preset(QuantPreset::kF32));
  for (const auto& [name, t] : deq) EXPECT_EQ(t, T::kF32) << name;
}

TEST(QuantPlanTest, FloatPresets) {
  Shape s;
  s.type = T::kF16;
  const GgufFile f = make_model(s);
  const auto f16 = plan_types(f, preset(QuantPreset::kF16));
  EXPECT_EQ(f16.at(blk(0, "attn_q")), T::kF16);
  Result<std::vector<TensorPlan>> p = plan_quantization(f, preset(QuantPreset::kF16));
  ASSERT_TRUE(p.ok());
  for (const TensorPlan& t : *p) EXPECT_FALSE(t.convert) << t.name;  // already F16: copied
  const auto bf = plan_types(f, preset(QuantPreset::kBF16));
  EXPECT_EQ(bf.at(blk(0, "attn_q")), T::kBF16);
  EXPECT_EQ(bf.at(blk(0, "attn_norm")), T::kF32);
}

}  // namespace
}  // namespace pocketlm::toolkit
