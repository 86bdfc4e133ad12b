#include "tokenizer/vocab_gguf.h"

#include <optional>
#include <utility>

namespace pocketlm {
namespace {

// Optional string: absent is fine, any other error is the file's.
Status read_optional_string(const GgufFile& f, const char* key, std::string& out) {
  if (!f.has(key)) return Status();
  Result<std::string> s = f.get_string(key);
  if (!s.ok()) return s.status();
  out = std::move(*s);
  return Status();
}

Status read_optional_bool(const GgufFile& f, const char* key, std::optional<bool>& out) {
  if (!f.has(key)) return Status();
  Result<bool> b = f.get_bool(key);
  if (!b.ok()) return b.status();
  out = *b;
  return Status();
}

// Scores are float32; some converters wrote int32, which the reference also accepts.
Result<std::vector<float>> read_scores(const GgufFile& f, const char* key) {
  Result<const GgufValue*> arr = f.get_array(key);
  if (!arr.ok()) return arr.status();
  if ((*arr)->element_type() == GgufValueType::kInt32) {
    std::optional<std::vector<int32_t>> ints = (*arr)->to_i32_vector();
    std::vector<float> out(ints->begin(), ints->end());
    return out;
  }
  return f.get_f32_array(key);
}

}  // namespace

Result<Vocab> vocab_from_gguf(const GgufFile& f) {
  Vocab v;
  Result<std::string> model = f.get_string("tokenizer.ggml.model");
  if (!model.ok()) return model.status();
  v.model = std::move(*model);
  PLM_RETURN_IF_ERROR(read_optional_string(f, "tokenizer.ggml.pre", v.pre));
  PLM_RETURN_IF_ERROR(read_optional_string(f, "general.name", v.name));
  PLM_RETURN_IF_ERROR(read_optional_string(f, "general.architecture", v.architecture));

  Result<const std::vector<std::string>*> tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (!tokens.ok()) return tokens.status();
  v.tokens = **tokens;
  const size_t n = v.tokens.size();

  if (f.has("tokenizer.ggml.token_type")) {
    Result<std::vector<int32_t>> types = f.get_i32_array("tokenizer.ggml.token_type");
    if (!types.ok()) return types.status();
    if (types->size() != n) {
      return malformed(strfmt("gguf: tokenizer.ggml.token_type has %zu entries for %zu tokens",
                              types->size(), n));
    }
    v.token_types = std::move(*types);
  }
  if (f.has("tokenizer.ggml.scores")) {
    Result<std::vector<float>> scores = read_scores(f, "tokenizer.ggml.scores");
    if (!scores.ok()) return scores.status();
    if (scores->size() != n) {
      return malformed(
          strfmt("gguf: tokenizer.ggml.scores has %zu entries for %zu tokens", scores->size(), n));
    }
    v.scores = std::move(*scores);
  }
  if (f.has("tokenizer.ggml.merges")) {
    Result<const std::vector<std::string>*> merges = f.get_string_array("tokenizer.ggml.merges");
    if (!merges.ok()) return merges.status();
    v.merges = **merges;
  } else if (v.model == "gpt2") {
    return malformed("gguf: byte-level BPE vocabulary without tokenizer.ggml.merges");
  }

  // The deprecated prefix/suffix/middle keys come last so that they win, as in the reference.
  const struct {
    const char* key;
    int32_t* slot;
  } ids[] = {
      {"tokenizer.ggml.bos_token_id", &v.special.bos},
      {"tokenizer.ggml.eos_token_id", &v.special.eos},
      {"tokenizer.ggml.eot_token_id", &v.special.eot},
      {"tokenizer.ggml.eom_token_id", &v.special.eom},
      {"tokenizer.ggml.unknown_token_id", &v.special.unk},
      {"tokenizer.ggml.seperator_token_id", &v.special.sep},
      {"tokenizer.ggml.padding_token_id", &v.special.pad},
      {"tokenizer.ggml.mask_token_id", &v.special.mask},
      {"tokenizer.ggml.fim_pre_token_id", &v.special.fim_pre},
      {"tokenizer.ggml.fim_suf_token_id", &v.special.fim_suf},
      {"tokenizer.ggml.fim_mid_token_id", &v.special.fim_mid},
      {"tokenizer.ggml.fim_pad_token_id", &v.special.fim_pad},
      {"tokenizer.ggml.fim_rep_token_id", &v.special.fim_rep},
      {"tokenizer.ggml.fim_sep_token_id", &v.special.fim_sep},
      {"tokenizer.ggml.prefix_token_id", &v.special.fim_pre},
      {"tokenizer.ggml.suffix_token_id", &v.special.fim_suf},
      {"tokenizer.ggml.middle_token_id", &v.special.fim_mid},
  };
  for (const auto& s : ids) {
    if (!f.has(s.key)) continue;
    Result<uint32_t> id = f.get_u32(s.key);
    if (!id.ok()) return id.status();
    if (*id >= n) {
      v.warnings.push_back(
          strfmt("%s = %u is outside the %zu-token vocabulary: ignored", s.key, *id, n));
      continue;
    }
    *s.slot = static_cast<int32_t>(*id);
  }
  PLM_RETURN_IF_ERROR(read_optional_bool(f, "tokenizer.ggml.add_bos_token", v.add_bos));
  PLM_RETURN_IF_ERROR(read_optional_bool(f, "tokenizer.ggml.add_eos_token", v.add_eos));
  PLM_RETURN_IF_ERROR(read_optional_bool(f, "tokenizer.ggml.add_space_prefix", v.add_space_prefix));
  return v;
}

Result<Vocab> load_vocab_gguf(const std::string& path) {
  Result<GgufFile> f = GgufFile::open(path);
  if (!f.ok()) return f.status();
  return vocab_from_gguf(*f);
}

}  // namespace pocketlm
