#include "toolkit/quantize/quant_plan.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "quant/quantize_search.h"

namespace pocketlm::toolkit {
namespace {

using T = TensorType;
using P = QuantPreset;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// Weights worth quantizing: matrices named *weight, but not norms, MoE routers or position and
// token-type embeddings (small, and sensitive out of proportion to their size).
bool quantizable(const GgufTensorInfo& t) {
  return t.n_dims >= 2 && ends_with(t.name, "weight") && !contains(t.name, "_norm.weight") &&
         !contains(t.name, "ffn_gate_inp.weight") && !contains(t.name, "position_embd") &&
         !contains(t.name, "token_types");
}

enum class Role { kOutput, kTokenEmbd, kAttnV, kAttnOutput, kFfnDown, kOther };

Role role_of(const std::string& name) {
  if (name == "output.weight") return Role::kOutput;
  if (name == "token_embd.weight") return Role::kTokenEmbd;
  if (contains(name, "attn_v.weight") || contains(name, "attn_qkv.weight")) return Role::kAttnV;
  if (contains(name, "attn_output.weight")) return Role::kAttnOutput;
  if (contains(name, "ffn_down")) return Role::kFfnDown;
  return Role::kOther;
}

int layer_of(const std::string& name) {
  int layer = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) return -1;
  return layer;
}

// llama.cpp's choice of layers that deserve more bits: the first and last eighth, and every
// third layer in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

struct ModelShape {
  int n_layer = 0;
  int n_gqa = 1;  // query heads per KV head
  bool tied_output = true;
};

int64_t first_uint(const GgufFile& f, const std::string& key, int64_t fallback) {
  const GgufValue* v = f.find(key);
  if (!v) return fallback;
  if (v->is_array()) {
    // Per-layer counts (some architectures): the largest is what the rules need.
    int64_t best = fallback;
    for (size_t i = 0; i < v->size() && v->element_type() != GgufValueType::kString; ++i) {
      if (auto u = v->scalar_at(i).as_uint())
        best = std::max<int64_t>(best, static_cast<int64_t>(*u));
    }
    return best;
  }
  if (auto u = v->as_uint()) return static_cast<int64_t>(*u);
  return fallback;
}

ModelShape model_shape(const GgufFile& f) {
  ModelShape s;
  std::string arch;
  if (const GgufValue* a = f.find("general.architecture"); a && a->as_string())
    arch = *a->as_string();
  int max_layer = -1;
  for (const GgufTensorInfo& t : f.tensors()) {
    max_layer = std::max(max_layer, layer_of(t.name));
    if (t.name == "output.weight") s.tied_output = false;
  }
  s.n_layer = static_cast<int>(first_uint(f, arch + ".block_count", max_layer + 1));
  const int64_t n_head = first_uint(f, arch + ".attention.head_count", 1);
  const int64_t n_head_kv = first_uint(f, arch + ".attention.head_count_kv", n_head);
  s.n_gqa = n_head_kv > 0 ? static_cast<int>(n_head / n_head_kv) : 1;
  return s;
}

// The preset's type for one tensor; `i_attn_v` counts attn_v tensors in layer order.
T preset_type(P preset, T base, Role role, int layer, int i_attn_v, int n_attn_v,
              const ModelShape& m, int64_t ncols, std::string* why) {
  if (role == Role::kOutput || (role == Role::kTokenEmbd && m.tied_output)) {
    if (ncols % type_traits(base).block_size != 0) {
      *why = "output head, rows not a multiple of the block";
      return T::kQ8_0;
    }
    if (base != T::kQ8_0) {
      *why = "output head";
      return T::kQ6_K;
    }
    return base;
  }
  const int n = m.n_layer;
  switch (role) {
    case Role::kAttnV: {
      T t = base;
      if (preset == P::kQ2_K) {
        t = m.n_gqa >= 4 ? T::kQ4_K : T::kQ3_K;
      } else if (preset == P::kQ3_K_M) {
        t = i_attn_v < 2 ? T::kQ5_K : T::kQ4_K;
      } else if ((preset == P::kQ4_K_M || preset == P::kQ5_K_M) &&
                 use_more_bits(i_attn_v, n_attn_v)) {
        t = T::kQ6_K;
      } else if (preset == P::kQ4_K_S && i_attn_v < 4) {
        t = T::kQ5_K;
      }
      if (t != base) *why = "attn_v gets more bits";
      return t;
    }
    case Role::kFfnDown: {
      T t = base;
      if (preset == P::kQ2_K) {
        t = T::kQ3_K;
      } else if (preset == P::kQ3_K_M) {
        t = layer < n / 16 ? T::kQ5_K : T::kQ4_K;
      } else if ((preset == P::kQ4_K_M || preset == P::kQ5_K_M) && use_more_bits(layer, n)) {
        t = T::kQ6_K;
      } else if (preset == P::kQ4_K_S && layer < n / 8) {
        t = T::kQ5_K;
      }
      if (t != base) *why = "ffn_down gets more bits";
      return t;
    }
    case Role::kAttnOutput: {
      T t = base;
      if (preset == P::kQ2_K) t = T::kQ3_K;
      if (preset == P::kQ3_K_M) t = T::kQ4_K;
      if (t != base) *why = "attn_output gets more bits";
      return t;
    }
    default:
      return base;
  }
}

// The 32-block type standing in for a K-quant on rows that do not split into 256-blocks.
T fallback_type(T t, int64_t ncols, std::string* why) {
  if (ncols % type_traits(t).block_size == 0) return t;
  T f = T::kF16;
  switch (t) {
    case T::kQ2_K:
    case T::kQ3_K:
      f = T::kQ4_0;
      break;
    case T::kQ4_K:
      f = T::kQ5_0;
      break;
    case T::kQ5_K:
      f = T::kQ5_1;
      break;
    case T::kQ6_K:
      f = T::kQ8_0;
      break;
    default:
      break;
  }
  if (ncols % type_traits(f).block_size != 0) f = T::kF16;
  *why += std::string(why->empty() ? "" : "; ") + type_traits(t).name + " does not fit rows of " +
          std::to_string(ncols) + ", fallback";
  return f;
}

}  // namespace

Result<TensorType> parse_weight_type(const std::string& name) {
  std::optional<T> t = tensor_type_from_name(name);
  if (!t || !has_search_quantizer(*t)) {
    return invalid_argument("unknown weight type '" + name +
                            "' (expected one of f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, "
                            "q2_K, q3_K, q4_K, q5_K, q6_K)");
  }
  return *t;
}

Result<TypeOverride> parse_type_override(const std::string& spec) {
  const size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    return invalid_argument("invalid tensor type override '" + spec + "' (expected REGEX=TYPE)");
  }
  TypeOverride o;
  o.pattern = spec.substr(0, eq);
  Result<T> t = parse_weight_type(spec.substr(eq + 1));
  if (!t.ok()) return t.status();
  o.type = *t;
  Result<NamePattern> re = NamePattern::compile(o.pattern);
  if (!re.ok()) return re.status();
  o.regex = std::move(re).value();
  return o;
}

Result<std::vector<TensorPlan>> plan_quantization(const GgufFile& file, const PlanOptions& o) {
  const PresetInfo& preset = preset_info(o.preset);
  const ModelShape shape = model_shape(file);

  // attn_v tensors are counted in layer order (the file order need not be).
  std::vector<std::pair<int, size_t>> attn_v;
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    if (role_of(file.tensors()[i].name) == Role::kAttnV) {
      attn_v.push_back({layer_of(file.tensors()[i].name), i});
    }
  }
  std::sort(attn_v.begin(), attn_v.end());
  std::map<size_t, int> attn_v_rank;
  for (size_t r = 0; r < attn_v.size(); ++r) attn_v_rank[attn_v[r].second] = static_cast<int>(r);

  std::vector<TensorPlan> plan;
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const GgufTensorInfo& t = file.tensors()[i];
    TensorPlan p;
    p.index = i;
    p.name = t.name;
    p.from = t.type;
    p.to = t.type;
    const TypeTraits& from = type_traits(t.type);
    const int64_t ncols = t.ne[0];

    if (is_float_preset(o.preset)) {
      // Dequantize: everything to F32 for the reference; the weights only for F16/BF16.
      if (o.preset == P::kF32 || quantizable(t)) {
        p.to = preset.base;
        p.why = "float preset";
      }
    } else if (quantizable(t)) {
      const Role role = role_of(t.name);
      bool manual = false;
      if (role == Role::kTokenEmbd && o.embd_type) {
        p.to = *o.embd_type;
        p.why = "--embd-type";
        manual = true;
      } else if ((role == Role::kOutput || (role == Role::kTokenEmbd && shape.tied_output)) &&
                 o.output_type) {
        p.to = *o.output_type;
        p.why = "--output-type";
        manual = true;
      }
      if (manual) {
        if (ncols % type_traits(p.to).block_size != 0) {
          return invalid_argument(
              strfmt("%s has rows of %lld values, which %s (blocks of %lld) cannot store",
                     t.name.c_str(), static_cast<long long>(ncols), type_traits(p.to).name,
                     static_cast<long long>(type_traits(p.to).block_size)));
        }
      } else {
        bool matched = false;
        for (const TypeOverride& ov : o.overrides) {
          if (ov.regex.search(t.name)) {
            p.to = ov.type;
            p.why = "--tensor-type " + ov.pattern;
            matched = true;
            break;
          }
        }
        if (!matched) {
          p.why = "";
          const auto rank = attn_v_rank.find(i);
          p.to = preset_type(o.preset, preset.base, role, layer_of(t.name),
                             rank == attn_v_rank.end() ? 0 : rank->second,
                             static_cast<int>(attn_v.size()), shape, ncols, &p.why);
          if (p.why.empty()) p.why = "preset";
        }
        p.to = fallback_type(p.to, ncols, &p.why);
      }
    }

    p.convert = p.to != p.from;
    if (p.convert) {
      if (!from.to_float) {
        return unsupported(strfmt("%s is stored as %s, which pocketlm cannot dequantize",
                                  t.name.c_str(), from.name));
      }
      const bool dequantizing = !type_traits(p.to).is_quantized;
      if (from.is_quantized && !dequantizing && !o.allow_requantize) {
        return invalid_argument(strfmt(
            "%s is already quantized (%s); re-quantizing it to %s compounds the rounding errors "
            "(pass --allow-requantize to do it anyway, or start from an F32/F16/BF16 file)",
            t.name.c_str(), from.name, type_traits(p.to).name));
      }
    }
    plan.push_back(std::move(p));
  }
  return plan;
}

}  // namespace pocketlm::toolkit
