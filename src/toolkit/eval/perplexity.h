// Perplexity and KL divergence of a model over an evaluation text, as llama.cpp's `perplexity`
// computes them (chunking in eval_chunks.h).
//
// Usage:
//   PerplexityOptions o;
//   o.n_threads = 4;
//   o.save_logits = "base.logits";          // for the reference model, or
//   o.base = &reader;                        // compare against one (logits_file.h)
//   o.on_chunk = [](const ChunkProgress& p) { print(p.running_ppl); return true; };
//   Result<PerplexityResult> r = run_perplexity(model, chunks, o);
//   // r->ppl, r->ppl_err; r->kld when o.base was given
//
// The estimate is exp(mean negative log-likelihood) over every scored position, its error
// exp'(mean) * standard error of the mean; running values after each chunk are what llama.cpp
// prints as [1]..[n].
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "toolkit/eval/eval_chunks.h"
#include "toolkit/eval/kld_stats.h"
#include "toolkit/eval/logits_file.h"

namespace pocketlm::toolkit {

struct ChunkProgress {
  int64_t chunk = 0;  // chunks done (1-based count)
  int64_t n_chunks = 0;
  double running_ppl = 0;
  double seconds = 0;                   // since the start
  const KldAccumulator* kld = nullptr;  // with a base: the running statistics
};

struct PerplexityOptions {
  int n_threads = 1;
  std::string save_logits;             // write the scored rows' log-probabilities here
  const LogitsReader* base = nullptr;  // compare with these (the chunks must be the base's)
  std::function<bool(const ChunkProgress&)> on_chunk;  // false stops (kCancelled)
};

struct PerplexityResult {
  int64_t n_chunks = 0;
  int64_t n_scored = 0;  // positions in all
  double ppl = 0;
  double ppl_err = 0;
  std::vector<double> running_ppl;  // after each chunk
  std::optional<KldSummary> kld;
  double seconds = 0;
};

Result<PerplexityResult> run_perplexity(const Model& model, const EvalChunks& chunks,
                                        const PerplexityOptions& options);

// The chunk layout stored in a base logits file (its first max_chunks chunks; -1: all), checked
// against the model that is to be compared with it.
Result<EvalChunks> chunks_from_base(const LogitsReader& base, const Model& model,
                                    int64_t max_chunks = -1);

}  // namespace pocketlm::toolkit
