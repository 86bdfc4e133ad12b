// BpeModel: byte-level BPE merges over a vocabulary, and the encoder for one pre-tokenized word.
//
// Usage:
//   Result<BpeModel> m = BpeModel::build(tokens, merges);   // tokens in the GPT-2 byte alphabet
//   BpeScratch scratch;                                      // reuse across words
//   std::vector<int32_t> ids;
//   m->encode_word("Hello", /*ignore_merges=*/false, scratch, ids);
//
// Every string a merge mentions (left, right and their concatenation) gets a symbol id: a
// vocabulary string keeps its token id, any other string gets an id past the vocabulary. A merge
// is then a (left id, right id) -> (rank, result id) entry, so encoding compares integers and
// never builds strings. Encoding repeatedly applies the lowest-ranked merge present, leftmost
// first, using a heap of candidate pairs whose stale entries are skipped when popped: O(n log n)
// for a word of n bytes. A final symbol that is not a token falls back to the single-byte tokens
// of its text, as the reference does.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/flat_index.h"

namespace pocketlm {

struct BpeScratch {
  struct Symbol {
    int32_t id;      // symbol id, or -1 when the text is in no table
    uint32_t begin;  // byte offset in the word
    uint32_t size;   // bytes; 0 once merged into its left neighbour
    int32_t prev;
    int32_t next;
  };
  struct Candidate {
    int32_t rank;
    int32_t left;  // symbol index
    int32_t right;
    int32_t left_id;  // the ids the pair had when queued; a mismatch means the entry is stale
    int32_t right_id;
    int32_t result_id;
  };
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
  std::string mapped;
};

class BpeModel {
 public:
  BpeModel() {
    byte_symbol_.fill(-1);
    single_byte_token_.fill(-1);
  }

  // `tokens` must be non-empty strings (the tokenizer renames empty ones); a text that occurs
  // twice maps to its last id. Merges without a space after the first character are skipped
  // (they can never apply); the first of duplicate merges keeps its rank.
  static Result<BpeModel> build(const std::vector<std::string>& tokens,
                                const std::vector<std::string>& merges);

  int32_t n_tokens() const { return n_tokens_; }
  size_t n_merges() const { return merges_.size(); }

  // Id of the token whose stored text is `text` (byte alphabet for normal tokens), or -1.
  int32_t find_token(std::string_view text) const;

  // Encodes the raw bytes of one word, appending token ids to `out`. With `ignore_merges`, a word
  // whose whole text is a token is emitted as that token.
  void encode_word(std::string_view word, bool ignore_merges, BpeScratch& scratch,
                   std::vector<int32_t>& out) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result_id;
  };
  int32_t intern(std::string_view text, uint64_t hash);  // hash == hash_text(text)
  int32_t find_symbol(std::string_view text) const { return symbols_.find(text); }
  void push_candidate(BpeScratch& s, int32_t left, int32_t right) const;

  int32_t n_tokens_ = 0;
  TextIndex symbols_;           // text -> id (< n_tokens_: a token)
  int32_t next_symbol_id_ = 0;  // ids past the vocabulary, for merge-only strings
  PairIndex<Merge> merges_;
  std::array<int32_t, 256> byte_symbol_{};        // symbol of each byte's alphabet character
  std::array<int32_t, 256> single_byte_token_{};  // token whose text is exactly this byte
};

}  // namespace pocketlm
