// The one generic transformer: runs any architecture that an ArchDesc describes.
//
// Usage:
//   Result<ForwardState> st = ForwardState::create(model, opts);
//   std::vector<float> logits(n_vocab);
//   // the prompt, as a batch, logits for its last token only:
//   PLM_RETURN_IF_ERROR(forward(model, *st, kt, &pool, prompt.data(), n, /*pos0=*/0,
//                               LogitsFor::kLast, logits.data()));
//   // then one token at a time at the next position:
//   PLM_RETURN_IF_ERROR(forward(model, *st, kt, &pool, &tok, 1, n, LogitsFor::kLast, logits.data()));
//
// Positions [pos0, pos0 + n) are computed and their keys and values written into the state's
// KV cache, which must already hold positions [0, pos0). Long inputs are processed in chunks of
// options.n_batch tokens through the matrix x matrix kernels. A pos0 below the positions already
// written rewinds the sequence; in a model with sliding-window layers, whose cache is a ring
// unless options.swa_full, that fails with kOutOfRange once the ring no longer holds the window
// before pos0 (feed the sequence again from 0, or use swa_full).
//
// Each step follows llama.cpp's CPU backend in its order of float operations (the kernel table's
// llama.cpp orders, its batch sizes, and in the last layer only the rows whose logits are
// wanted): with the AVX2 table, the golden models' logits equal llama.cpp's bit for bit when it
// runs with the same batch size (tests/golden).
#pragma once

#include <cstdint>

#include "core/status.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "model/forward_state.h"
#include "model/model.h"

namespace pocketlm {

enum class LogitsFor : int {
  kNone = 0,  // fill the cache only
  kLast = 1,  // n_vocab logits of the last token
  kAll = 2,   // n x n_vocab logits, one row per input token (teacher forcing, perplexity)
};

Status forward(const Model& model, ForwardState& st, const kernels::KernelTable& kt,
               ThreadPool* pool, const int32_t* tokens, int64_t n, int64_t pos0, LogitsFor which,
               float* logits);

}  // namespace pocketlm
