// EvalChunks: an evaluation text's tokens laid out as llama.cpp's `perplexity` lays them out.
//
// Usage:
//   Result<EvalChunks> ev = EvalChunks::create(tokens, /*n_ctx=*/512, /*max_chunks=*/-1,
//                                              tok.add_bos() ? tok.bos() : -1);
//   std::vector<int32_t> run;
//   for (int64_t c = 0; c < ev->n_chunks(); ++c) {
//     ev->chunk(c, &run);                                   // n_ctx tokens to run
//     for (int64_t j = ev->first_scored(); j < ev->n_ctx() - 1; ++j)
//       score(logits_row(j), run[j + 1]);                   // row j predicts token j + 1
//   }
//
// The whole text is tokenized once (with BOS at its start when the vocabulary adds one) and cut
// into n_tokens / n_ctx chunks of n_ctx tokens; the rest is dropped. Each chunk is run on its own
// from position 0, its first token replaced by BOS when the vocabulary uses one, and only the
// second half of its positions is scored, so every scored token has at least n_ctx / 2 tokens of
// context. Perplexities computed this way are comparable with llama.cpp's for the same text,
// context and vocabulary.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace pocketlm::toolkit {

class EvalChunks {
 public:
  EvalChunks() = default;

  // bos: the BOS id each chunk starts with, or -1 when the vocabulary adds none. Errors when the
  // text holds fewer than 2 * n_ctx tokens (fewer than two chunks gives no error estimate).
  static Result<EvalChunks> create(std::vector<int32_t> tokens, int64_t n_ctx, int64_t max_chunks,
                                   int32_t bos);

  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_chunks() const { return n_chunks_; }
  int32_t bos() const { return bos_; }
  int64_t first_scored() const { return n_ctx_ / 2; }
  int64_t n_scored() const { return n_ctx_ - 1 - first_scored(); }  // per chunk
  const std::vector<int32_t>& tokens() const { return tokens_; }

  // The n_ctx tokens chunk c runs with.
  void chunk(int64_t c, std::vector<int32_t>* out) const;

 private:
  std::vector<int32_t> tokens_;
  int64_t n_ctx_ = 0;
  int64_t n_chunks_ = 0;
  int32_t bos_ = -1;
};

}  // namespace pocketlm::toolkit
