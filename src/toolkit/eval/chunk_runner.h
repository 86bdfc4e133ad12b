// ChunkRunner: runs a model over one chunk of tokens at a time and hands out the logits of the
// positions that are scored, without ever holding n_ctx x n_vocab floats.
//
// Usage:
//   Result<ChunkRunner> r = ChunkRunner::create(model, /*n_ctx=*/512, /*n_threads=*/4);
//   PLM_RETURN_IF_ERROR(r->run(tokens.data(), 512, /*first_logits=*/256,
//       [&](int64_t pos, int64_t n, const float* logits) { ...n rows of n_vocab...; return
//       Status(); },
//       /*observer=*/nullptr));
//
// Positions before first_logits are run as one batch that only fills the KV cache; the rest in
// pieces small enough that their logits stay within a fixed budget (Gemma's 262144-token
// vocabulary makes a full chunk of logits half a gigabyte). Each chunk starts again at
// position 0, so chunks are independent, as the perplexity definition wants.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "model/forward_state.h"
#include "model/model.h"

namespace pocketlm::toolkit {

class ChunkRunner {
 public:
  using RowsFn = std::function<Status(int64_t pos, int64_t n, const float* logits)>;

  static Result<ChunkRunner> create(const Model& model, int64_t n_ctx, int n_threads);

  // observer (may be null) sees every named intermediate of the chunk.
  Status run(const int32_t* tokens, int64_t n, int64_t first_logits, const RowsFn& rows,
             ActivationObserver* observer);

  int64_t n_vocab() const { return n_vocab_; }

 private:
  const Model* model_ = nullptr;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<ForwardState> state_;
  std::vector<float> logits_;
  int64_t piece_ = 0;  // logit rows per forward call
  int64_t n_vocab_ = 0;
};

}  // namespace pocketlm::toolkit
