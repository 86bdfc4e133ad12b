#include "tokenizer/pre_tokenizer.h"

#include <utility>

namespace pocketlm {
namespace {

struct NamedFamily {
  const char* name;
  PreTokenizerType type;
  bool ignore_merges;
  bool add_bos;
  bool clean_spaces;
};

// Which split each `tokenizer.ggml.pre` value selects, and the flags that come with the name.
// The names are the ones the GGUF converters write; the families follow the reference runtime.
constexpr NamedFamily kFamilies[] = {
    {"default", PreTokenizerType::kDefault, false, false, true},
    {"llama3", PreTokenizerType::kLlama3, true, true, true},
    {"llama-v3", PreTokenizerType::kLlama3, true, true, true},
    {"llama-bpe", PreTokenizerType::kLlama3, true, true, true},
    {"falcon3", PreTokenizerType::kLlama3, true, true, true},
    {"falcon-h1", PreTokenizerType::kLlama3, true, true, true},
    {"pixtral", PreTokenizerType::kLlama3, true, true, true},
    {"midm-2.0", PreTokenizerType::kLlama3, true, true, true},
    {"lfm2", PreTokenizerType::kLlama3, true, true, true},
    {"dbrx", PreTokenizerType::kLlama3, false, false, true},
    {"smaug-bpe", PreTokenizerType::kLlama3, false, false, true},
    {"glm4", PreTokenizerType::kLlama3, false, false, true},
    {"chatglm-bpe", PreTokenizerType::kLlama3, false, false, true},
    {"deepseek-llm", PreTokenizerType::kDeepseekLlm, false, false, false},
    {"deepseek-coder", PreTokenizerType::kDeepseekCoder, false, false, false},
    {"deepseek-v3", PreTokenizerType::kDeepseek3, false, false, false},
    {"hunyuan-dense", PreTokenizerType::kDeepseek3, false, false, false},
    {"falcon", PreTokenizerType::kFalcon, false, false, true},
    {"mpt", PreTokenizerType::kGpt2, false, false, true},
    {"gpt-2", PreTokenizerType::kGpt2, false, false, true},
    {"phi-2", PreTokenizerType::kGpt2, false, false, true},
    {"jina-es", PreTokenizerType::kGpt2, false, false, true},
    {"jina-de", PreTokenizerType::kGpt2, false, false, true},
    {"gigachat", PreTokenizerType::kGpt2, false, false, true},
    {"jina-v2-es", PreTokenizerType::kGpt2, false, false, true},
    {"jina-v2-de", PreTokenizerType::kGpt2, false, false, true},
    {"a.x-4.0", PreTokenizerType::kGpt2, false, false, true},
    {"mellum", PreTokenizerType::kGpt2, false, false, true},
    {"jina-v1-en", PreTokenizerType::kGpt2, false, false, true},
    {"jina-v2-code", PreTokenizerType::kGpt2, false, false, true},
    {"roberta-bpe", PreTokenizerType::kGpt2, false, false, true},
    {"olmo", PreTokenizerType::kGpt2, false, false, true},
    {"jais", PreTokenizerType::kGpt2, false, false, true},
    {"exaone4", PreTokenizerType::kGpt2, false, false, true},
    {"trillion", PreTokenizerType::kGpt2, false, false, false},
    {"granite-docling", PreTokenizerType::kGpt2, false, false, false},
    {"starcoder", PreTokenizerType::kStarcoder, false, false, true},
    {"refact", PreTokenizerType::kStarcoder, false, false, true},
    {"codeshell", PreTokenizerType::kStarcoder, false, false, true},
    {"exaone", PreTokenizerType::kStarcoder, false, false, true},
    {"minerva-7b", PreTokenizerType::kStarcoder, false, false, true},
    {"command-r", PreTokenizerType::kStarcoder, false, false, false},
    {"smollm", PreTokenizerType::kStarcoder, false, false, false},
    {"qwen2", PreTokenizerType::kQwen2, false, false, false},
    {"deepseek-r1-qwen", PreTokenizerType::kQwen2, false, false, false},
    {"kormo", PreTokenizerType::kQwen2, false, false, false},
    {"stablelm2", PreTokenizerType::kQwen2, false, false, true},
    {"megrez", PreTokenizerType::kQwen2, false, false, true},
    {"hunyuan", PreTokenizerType::kQwen2, false, false, false},
    {"grok-2", PreTokenizerType::kQwen2, false, false, false},
    // Their pattern differs from Qwen2's only in spelling ('(?:[sSdD..]) and \s*[\r\n] instead
    // of \s*[\r\n]+, which ends at the same place), so they share the matcher.
    {"bailingmoe", PreTokenizerType::kQwen2, false, false, false},
    {"bailingmoe2", PreTokenizerType::kQwen2, false, false, false},
    {"llada-moe", PreTokenizerType::kQwen2, false, false, false},
    {"seed-coder", PreTokenizerType::kSeedCoder, false, false, false},
    {"poro-chat", PreTokenizerType::kBloom, false, false, false},
    {"bloom", PreTokenizerType::kBloom, false, false, true},
    {"gpt3-finnish", PreTokenizerType::kBloom, false, false, true},
    {"viking", PreTokenizerType::kViking, false, false, false},
    {"tekken", PreTokenizerType::kTekken, true, true, false},
    {"gpt-4o", PreTokenizerType::kGpt4o, false, false, false},
    {"llama4", PreTokenizerType::kGpt4o, false, false, false},
    {"minimax-m2", PreTokenizerType::kGpt4o, false, false, false},
};

// Known names whose splits need machinery we do not have (image sentinels, script properties,
// lookahead digit grouping). Failing loudly beats tokenizing them almost right.
constexpr const char* kUnsupportedNames[] = {"chameleon", "superbpe", "kimi-k2", "afmoe"};

}  // namespace

Result<PreTokenizerInfo> pre_tokenizer_info(std::string_view name) {
  for (const NamedFamily& f : kFamilies) {
    if (name == f.name) {
      PreTokenizerInfo info;
      info.type = f.type;
      info.ignore_merges = f.ignore_merges;
      info.add_bos = f.add_bos;
      info.clean_spaces = f.clean_spaces;
      info.no_bos = name == "glm4" || name == "chatglm-bpe";
      return info;
    }
  }
  for (const char* n : kUnsupportedNames) {
    if (name == n) {
      return unsupported(strfmt("tokenizer.ggml.pre '%s': this pre-tokenizer is not supported",
                                std::string(name).c_str()));
    }
  }
  PreTokenizerInfo info;
  info.recognized = false;
  return info;
}

void CodepointText::assign(std::string_view utf8) {
  cps_.clear();
  flags_.clear();
  cps_.reserve(utf8.size());
  flags_.reserve(utf8.size());
  size_t pos = 0;
  while (pos < utf8.size()) {
    uint32_t cp = utf8_decode(utf8, pos);
    cps_.push_back(cp);
    flags_.push_back(unicode_flags(cp));
  }
}

void CodepointText::append_utf8(size_t begin, size_t end, std::string& out) const {
  for (size_t i = begin; i < end; ++i) utf8_append(out, cps_[i]);
}

PreTokenizer::PreTokenizer(PreTokenizerType type) : type_(type) {
  using namespace patterns;
  switch (type) {
    case PreTokenizerType::kDefault:
      stages_ = {default_punct_run, gpt2, number_run, ascii_digits3};
      break;
    case PreTokenizerType::kGpt2:
      stages_ = {gpt2};
      break;
    case PreTokenizerType::kStarcoder:
      stages_ = {one_number, gpt2};
      break;
    case PreTokenizerType::kLlama3:
      stages_ = {llama3};
      break;
    case PreTokenizerType::kQwen2:
      stages_ = {qwen2};
      break;
    case PreTokenizerType::kSeedCoder:
      stages_ = {seed_coder};
      break;
    case PreTokenizerType::kFalcon:
      stages_ = {falcon_punct_run, gpt2, ascii_digits3};
      break;
    case PreTokenizerType::kDeepseekLlm:
      stages_ = {one_newline,    deepseek_latin, deepseek_punct,
                 trailing_space, deepseek_cjk,   number_run};
      break;
    case PreTokenizerType::kDeepseekCoder:
      stages_ = {one_newline, space_letters, space_punct, deepseek_cjk, one_number};
      break;
    case PreTokenizerType::kDeepseek3:
      stages_ = {numbers_upto3, deepseek3_cjk, deepseek3_words};
      break;
    case PreTokenizerType::kBloom:
      stages_ = {bloom};
      break;
    case PreTokenizerType::kViking:
      stages_ = {bloom, one_number};
      break;
    case PreTokenizerType::kTekken:
      stages_ = {tekken};
      break;
    case PreTokenizerType::kGpt4o:
      stages_ = {gpt4o};
      break;
  }
}

void PreTokenizer::split(const CodepointText& text, size_t begin, size_t end,
                         std::vector<TextSpan>& out) const {
  if (begin >= end) return;
  // Each stage re-splits every piece of the previous one; two buffers ping-pong.
  std::vector<TextSpan> pieces{{static_cast<uint32_t>(begin), static_cast<uint32_t>(end)}};
  std::vector<TextSpan> next;
  for (PatternMatcher match : stages_) {
    next.clear();
    next.reserve(pieces.size() * 2);
    for (const TextSpan& piece : pieces) {
      size_t pos = piece.begin;
      size_t gap = pos;  // start of the run no match has covered yet
      while (pos < piece.end) {
        size_t len = match(text, pos, piece.end);
        if (len == 0) {
          ++pos;
          continue;
        }
        if (gap < pos) next.push_back({uint32_t(gap), uint32_t(pos)});
        next.push_back({uint32_t(pos), uint32_t(pos + len)});
        pos += len;
        gap = pos;
      }
      if (gap < piece.end) next.push_back({uint32_t(gap), piece.end});
    }
    std::swap(pieces, next);
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

}  // namespace pocketlm
