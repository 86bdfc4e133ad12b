// SpmModel: SentencePiece-style BPE (tokenizer.ggml.model = "llama") over a scored vocabulary,
// and the encoder for one stretch of text.
//
// Usage:
//   Result<SpmModel> m = SpmModel::build(tokens, scores);    // texts with "▁" for spaces
//   SpmScratch scratch;                                      // reuse across calls
//   std::vector<int32_t> ids;
//   m->encode("Hello world", /*space_prefix=*/false, scratch, ids);   // "Hello▁world"
//
// The text's spaces become "▁" (U+2581) and the text is cut into UTF-8 characters (a lead byte
// claims the bytes it announces, without checking them, as the reference does). Then, while any
// two neighbouring symbols spell a vocabulary entry, the pair whose entry has the highest score
// merges, the leftmost among equal scores. Any vocabulary entry counts, whatever its type: that
// is the reference's rule, so plain text may spell a control token where its pieces are tokens.
// A final symbol that is not a token (a character the vocabulary lacks) becomes one byte token
// ("<0xNN>", else the one-byte token) per byte: nothing is lost.
//
// Candidate pairs sit in a heap; an entry is stale when either symbol has changed since it was
// queued, which the sum of their sizes detects (symbols only grow). O(n log n) for n characters,
// and no string is built: the text of a pair is a slice of the input.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/flat_index.h"

namespace pocketlm {

inline constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

struct SpmScratch {
  struct Symbol {
    uint32_t begin;  // byte offset in the escaped text
    uint32_t size;   // bytes; 0 once merged into its left neighbour
    int32_t prev;
    int32_t next;
    int32_t id;  // token id when a merge made it, else -1 (looked up at the end)
  };
  struct Candidate {
    float score;
    int32_t left;  // symbol index
    int32_t right;
    uint32_t size;  // bytes of the pair when queued
    int32_t id;     // the token the pair spells
  };
  std::string text;  // the escaped input
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
};

class SpmModel {
 public:
  SpmModel() { byte_token_.fill(-1); }

  // `tokens` must be non-empty strings (the tokenizer renames empty ones); a text that occurs
  // twice maps to its last id. `scores` is empty (all 0) or one per token; a NaN score is taken
  // as -infinity so that the merge order stays a strict order.
  static Result<SpmModel> build(const std::vector<std::string>& tokens,
                                const std::vector<float>& scores);

  int32_t n_tokens() const { return static_cast<int32_t>(scores_.size()); }
  // Id of the token whose stored text is `text`, or -1.
  int32_t find_token(std::string_view text) const { return index_.find(text); }
  // Byte-fallback token for a byte: "<0xNN>" (upper-case hex), else the token that is exactly
  // that byte, else -1.
  int32_t byte_token(uint8_t byte) const { return byte_token_[byte]; }

  // Encodes raw text (spaces not yet escaped), appending ids to `out`; with `space_prefix` a
  // space is put in front first. A byte with no fallback token becomes `unk` (skipped when
  // unk < 0); the reference fails there instead.
  void encode(std::string_view text, bool space_prefix, int32_t unk, SpmScratch& scratch,
              std::vector<int32_t>& out) const;

 private:
  void push_candidate(SpmScratch& s, int32_t left, int32_t right) const;

  TextIndex index_;
  std::vector<float> scores_;
  std::array<int32_t, 256> byte_token_{};
};

// The byte a byte token ("<0xNN>") stands for, read as the reference reads it: the two
// characters after "<0x" as a C hexadecimal number (0 when they are not one).
uint8_t spm_byte_token_value(std::string_view text);

}  // namespace pocketlm
