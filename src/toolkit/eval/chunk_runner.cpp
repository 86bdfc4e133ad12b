#include "toolkit/eval/chunk_runner.h"

#include <algorithm>
#include <new>

#include "kernels/kernels.h"
#include "model/transformer.h"

namespace pocketlm::toolkit {
namespace {

// Logits held at once: 128 MiB of floats.
constexpr int64_t kLogitBudget = int64_t{32} << 20;

}  // namespace

Result<ChunkRunner> ChunkRunner::create(const Model& model, int64_t n_ctx, int n_threads) {
  ChunkRunner r;
  r.model_ = &model;
  r.n_vocab_ = model.hparams().n_vocab;
  ForwardOptions fo;
  fo.n_ctx = n_ctx;
  fo.max_threads = std::max(1, n_threads);
  Result<ForwardState> st = ForwardState::create(model, fo);
  if (!st.ok()) return st.status();
  r.state_ = std::make_unique<ForwardState>(std::move(st).value());
  r.pool_ = std::make_unique<ThreadPool>(fo.max_threads);
  r.piece_ = std::clamp<int64_t>(kLogitBudget / std::max<int64_t>(1, r.n_vocab_), 1, n_ctx);
  try {
    r.logits_.resize(static_cast<size_t>(r.piece_ * r.n_vocab_));
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::kOutOfMemory, "cannot allocate the logits buffer");
  }
  return r;
}

Status ChunkRunner::run(const int32_t* tokens, int64_t n, int64_t first_logits, const RowsFn& rows,
                        ActivationObserver* observer) {
  const kernels::KernelTable& kt = kernels::active_kernels();
  state_->observer = observer;
  Status s;
  if (first_logits > 0) {
    s = forward(*model_, *state_, kt, pool_.get(), tokens, first_logits, 0, LogitsFor::kNone,
                nullptr);
  }
  for (int64_t pos = first_logits; s.ok() && pos < n; pos += piece_) {
    const int64_t m = std::min(piece_, n - pos);
    s = forward(*model_, *state_, kt, pool_.get(), tokens + pos, m, pos, LogitsFor::kAll,
                logits_.data());
    if (s.ok()) s = rows(pos, m, logits_.data());
  }
  state_->observer = nullptr;
  return s;
}

}  // namespace pocketlm::toolkit
