// Vocab: a tokenizer vocabulary as plain data — what a GGUF file's tokenizer.ggml.* metadata
// says, before any index is built. Tokenizer::create() turns it into something that encodes.
//
// Usage:
//   Vocab v;                                   // or vocab_from_gguf(file) (vocab_gguf.h)
//   v.model = "gpt2";
//   v.pre = "smollm";
//   v.tokens = {"a", "b", "ab", "<|endoftext|>"};
//   v.token_types = {1, 1, 1, 3};              // TokenType values; empty = all normal
//   v.merges = {"a b"};                        // rank = index
//   v.special.eos = 3;
//   PLM_RETURN_IF_ERROR(validate_vocab(v));
//
// Token texts of a byte-level BPE vocabulary are written in the GPT-2 byte alphabet (a space is
// "Ġ", a newline "Ċ"), except user-defined and control tokens, whose text is the literal string.
// A SentencePiece vocabulary writes a space as "▁" (U+2581) and has byte tokens "<0x00>" ..
// "<0xFF>" for text its pieces do not cover.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pocketlm {

inline constexpr int32_t kNoToken = -1;

// tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Per-token attribute bits (a token can carry several, e.g. control + rstrip).
struct TokenAttr {
  static constexpr uint32_t kUndefined = 0;
  static constexpr uint32_t kUnknown = 1u << 0;
  static constexpr uint32_t kUnused = 1u << 1;
  static constexpr uint32_t kNormal = 1u << 2;
  static constexpr uint32_t kControl = 1u << 3;
  static constexpr uint32_t kUserDefined = 1u << 4;
  static constexpr uint32_t kByte = 1u << 5;
  static constexpr uint32_t kNormalized = 1u << 6;
  static constexpr uint32_t kLstrip = 1u << 7;  // swallows whitespace before it in the input
  static constexpr uint32_t kRstrip = 1u << 8;  // swallows whitespace after it in the input
};

uint32_t token_attr_from_type(int32_t token_type);

// Special token ids; kNoToken when the vocabulary has none.
struct SpecialTokens {
  int32_t bos = kNoToken;
  int32_t eos = kNoToken;
  int32_t eot = kNoToken;  // end of turn (chat)
  int32_t eom = kNoToken;  // end of message (tool calls)
  int32_t unk = kNoToken;
  int32_t sep = kNoToken;
  int32_t pad = kNoToken;
  int32_t mask = kNoToken;
  int32_t fim_pre = kNoToken;
  int32_t fim_suf = kNoToken;
  int32_t fim_mid = kNoToken;
  int32_t fim_pad = kNoToken;
  int32_t fim_rep = kNoToken;
  int32_t fim_sep = kNoToken;
};

struct Vocab {
  std::string model;         // tokenizer.ggml.model: "gpt2" byte-level BPE, "llama" SentencePiece
  std::string pre;           // tokenizer.ggml.pre ("" when absent)
  std::string name;          // general.name (some token attributes depend on it)
  std::string architecture;  // general.architecture
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;  // TokenType per token, or empty
  std::vector<float> scores;         // per token, or empty (SentencePiece merges by score)
  std::vector<std::string> merges;   // "left right"; the index is the rank
  // Ids as stored; kNoToken where the metadata has none (defaults are the tokenizer's business).
  SpecialTokens special;
  std::optional<bool> add_bos;  // tokenizer.ggml.add_bos_token, when present
  std::optional<bool> add_eos;
  std::optional<bool> add_space_prefix;  // tokenizer.ggml.add_space_prefix (SentencePiece)
  // Oddities met while loading that did not stop it (e.g. an out-of-range special id).
  std::vector<std::string> warnings;
};

// Checks the sizes and ranges Tokenizer::create() relies on; the message names the field.
Status validate_vocab(const Vocab& vocab);

}  // namespace pocketlm
