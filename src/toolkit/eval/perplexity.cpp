#include "toolkit/eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "toolkit/eval/chunk_runner.h"

namespace pocketlm::toolkit {
namespace {

// log P(target) under the softmax of n logits.
double target_log_prob(const float* logits, int64_t n, int32_t target) {
  float mx = logits[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
  return static_cast<double>(logits[target] - mx) - std::log(sum);
}

}  // namespace

Result<EvalChunks> chunks_from_base(const LogitsReader& base, const Model& model,
                                    int64_t max_chunks) {
  const LogitsHeader& h = base.header();
  if (static_cast<int64_t>(h.n_vocab) != model.hparams().n_vocab) {
    return invalid_argument(strfmt("the base logits have a vocabulary of %u tokens, the model %lld",
                                   h.n_vocab, static_cast<long long>(model.hparams().n_vocab)));
  }
  Result<EvalChunks> c = EvalChunks::create(base.tokens(), h.n_ctx, max_chunks, h.bos);
  if (!c.ok()) return c.status();
  if (c->n_chunks() > h.n_chunks || c->n_scored() != h.n_scored) {
    return malformed("the base logits file's chunk layout is inconsistent");
  }
  return c;
}

Result<PerplexityResult> run_perplexity(const Model& model, const EvalChunks& chunks,
                                        const PerplexityOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n_vocab = model.hparams().n_vocab;
  const int64_t n_ctx = chunks.n_ctx();
  const int64_t first = chunks.first_scored();
  if (o.base) {
    const LogitsHeader& h = o.base->header();
    if (static_cast<int64_t>(h.n_vocab) != n_vocab || h.n_ctx != n_ctx ||
        chunks.n_chunks() > h.n_chunks ||
        !std::equal(chunks.tokens().begin(), chunks.tokens().end(), o.base->tokens().begin())) {
      return invalid_argument(
          "the chunks to score are not the ones the base logits were saved for");
    }
  }
  Result<ChunkRunner> rr = ChunkRunner::create(model, n_ctx, o.n_threads);
  if (!rr.ok()) return rr.status();
  ChunkRunner& runner = *rr;

  std::unique_ptr<LogitsWriter> writer;
  if (!o.save_logits.empty()) {
    LogitsHeader h;
    h.n_vocab = static_cast<uint32_t>(n_vocab);
    h.n_ctx = static_cast<uint32_t>(n_ctx);
    h.n_chunks = static_cast<uint32_t>(chunks.n_chunks());
    h.n_scored = static_cast<uint32_t>(chunks.n_scored());
    h.bos = chunks.bos();
    Result<LogitsWriter> w = LogitsWriter::create(o.save_logits, h, chunks.tokens());
    if (!w.ok()) return w.status();
    writer = std::make_unique<LogitsWriter>(std::move(w).value());
  }

  PerplexityResult res;
  res.n_chunks = chunks.n_chunks();
  KldAccumulator acc;
  std::vector<float> base_lp(o.base ? static_cast<size_t>(n_vocab) : 0);
  double nll = 0.0;
  double nll2 = 0.0;
  int64_t count = 0;
  std::vector<int32_t> toks;
  for (int64_t c = 0; c < chunks.n_chunks(); ++c) {
    chunks.chunk(c, &toks);
    auto rows = [&](int64_t pos, int64_t n, const float* logits) -> Status {
      for (int64_t r = 0; r < n; ++r) {
        const int64_t j = pos + r;  // row j predicts token j + 1
        if (j < first || j >= n_ctx - 1) continue;
        const float* lg = logits + r * n_vocab;
        const int32_t target = toks[static_cast<size_t>(j + 1)];
        double lp = 0.0;
        if (o.base) {
          o.base->log_probs(static_cast<uint64_t>(c * chunks.n_scored() + (j - first)),
                            base_lp.data());
          acc.add(base_lp.data(), lg, n_vocab, target);
          lp = -acc.last_nll_q();
        } else {
          lp = target_log_prob(lg, n_vocab, target);
        }
        nll -= lp;
        nll2 += lp * lp;
        ++count;
        if (writer) PLM_RETURN_IF_ERROR(writer->write_row(lg));
      }
      return Status();
    };
    PLM_RETURN_IF_ERROR(runner.run(toks.data(), n_ctx, first, rows, nullptr));
    const double running = std::exp(nll / static_cast<double>(count));
    res.running_ppl.push_back(running);
    if (o.on_chunk) {
      ChunkProgress p;
      p.chunk = c + 1;
      p.n_chunks = chunks.n_chunks();
      p.running_ppl = running;
      p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      p.kld = o.base ? &acc : nullptr;
      if (!o.on_chunk(p)) return Status(StatusCode::kCancelled, "perplexity cancelled");
    }
  }
  if (writer) PLM_RETURN_IF_ERROR(writer->finish());

  res.n_scored = count;
  const double mean = nll / static_cast<double>(count);
  res.ppl = std::exp(mean);
  const double var = nll2 / static_cast<double>(count) - mean * mean;
  res.ppl_err =
      count > 1 && var > 0.0 ? res.ppl * std::sqrt(var / static_cast<double>(count - 1)) : 0.0;
  if (o.base) res.kld = acc.summary();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace pocketlm::toolkit
