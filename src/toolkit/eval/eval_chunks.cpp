#include "toolkit/eval/eval_chunks.h"

#include <algorithm>

namespace pocketlm::toolkit {

Result<EvalChunks> EvalChunks::create(std::vector<int32_t> tokens, int64_t n_ctx,
                                      int64_t max_chunks, int32_t bos) {
  if (n_ctx < 4) {
    return invalid_argument(strfmt("a context of %lld tokens is too small to score (at least 4)",
                                   static_cast<long long>(n_ctx)));
  }
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n < 2 * n_ctx) {
    return invalid_argument(
        strfmt("the text has %lld tokens; a context of %lld needs at least %lld (two chunks)",
               static_cast<long long>(n), static_cast<long long>(n_ctx),
               static_cast<long long>(2 * n_ctx)));
  }
  EvalChunks e;
  e.n_ctx_ = n_ctx;
  e.n_chunks_ = n / n_ctx;
  if (max_chunks > 0) e.n_chunks_ = std::min(e.n_chunks_, max_chunks);
  tokens.resize(static_cast<size_t>(e.n_chunks_ * n_ctx));
  e.tokens_ = std::move(tokens);
  e.bos_ = bos;
  return e;
}

void EvalChunks::chunk(int64_t c, std::vector<int32_t>* out) const {
  const auto begin = tokens_.begin() + c * n_ctx_;
  out->assign(begin, begin + n_ctx_);
  if (bos_ >= 0) (*out)[0] = bos_;
}

}  // namespace pocketlm::toolkit
