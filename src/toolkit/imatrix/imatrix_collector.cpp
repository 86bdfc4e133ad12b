#include "toolkit/imatrix/imatrix_collector.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "toolkit/eval/chunk_runner.h"

namespace pocketlm::toolkit {
namespace {

// Which weight matrices (by the suffix of their name in block `layer`) each named intermediate
// of the forward pass feeds.
struct Feed {
  const char* intermediate;
  std::vector<const char*> suffixes;
};

const std::vector<Feed>& feeds() {
  static const std::vector<Feed> f = {
      {"attn_norm", {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_qkv.weight"}},
      {"attn_out", {"attn_output.weight"}},
      {"ffn_norm", {"ffn_gate.weight", "ffn_up.weight"}},
      {"ffn_act", {"ffn_down.weight"}},
  };
  return f;
}

}  // namespace

ImatrixCollector::ImatrixCollector(const GgufFile& f, int64_t n_layer) {
  for (const Feed& feed : feeds()) {
    for (int64_t il = 0; il < n_layer; ++il) {
      Input in;
      for (const char* suffix : feed.suffixes) {
        std::string name = "blk." + std::to_string(il) + "." + suffix;
        if (f.find_tensor(name)) in.matrices.push_back(std::move(name));
      }
      if (!in.matrices.empty()) inputs_[{feed.intermediate, il}] = std::move(in);
    }
  }
  Input head;
  head.matrices.push_back(f.find_tensor("output.weight") ? "output.weight" : "token_embd.weight");
  inputs_[{"result_norm", -1}] = std::move(head);
}

void ImatrixCollector::observe(const char* name, int64_t layer, const float* data, int64_t n_tokens,
                               int64_t width) {
  auto it = inputs_.find({name, layer});
  if (it == inputs_.end()) return;
  Input& in = it->second;
  if (in.sums.empty()) in.sums.assign(static_cast<size_t>(width), 0.0);
  if (static_cast<int64_t>(in.sums.size()) != width) return;  // cannot happen for one model
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* row = data + t * width;
    for (int64_t j = 0; j < width; ++j) in.sums[j] += static_cast<double>(row[j]) * row[j];
  }
  in.count += static_cast<double>(n_tokens);
}

Imatrix ImatrixCollector::result() const {
  Imatrix im;
  for (const auto& [key, in] : inputs_) {
    if (in.count == 0.0) continue;
    ImatrixEntry e;
    e.sums.resize(in.sums.size());
    for (size_t j = 0; j < in.sums.size(); ++j) e.sums[j] = static_cast<float>(in.sums[j]);
    e.counts = {static_cast<float>(in.count)};
    for (const std::string& m : in.matrices) im.entries[m] = e;
  }
  return im;
}

Result<Imatrix> compute_imatrix(const Model& model, const EvalChunks& chunks,
                                const ImatrixOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  Result<ChunkRunner> rr = ChunkRunner::create(model, chunks.n_ctx(), o.n_threads);
  if (!rr.ok()) return rr.status();
  const int64_t n_vocab = model.hparams().n_vocab;
  const int64_t first = chunks.first_scored();
  const int64_t n_ctx = chunks.n_ctx();
  ImatrixCollector collector(model.file(), model.hparams().n_layer);
  double nll = 0.0;
  int64_t count = 0;
  std::vector<int32_t> toks;
  for (int64_t c = 0; c < chunks.n_chunks(); ++c) {
    chunks.chunk(c, &toks);
    auto rows = [&](int64_t pos, int64_t n, const float* logits) -> Status {
      for (int64_t r = 0; r < n; ++r) {
        const int64_t j = pos + r;
        if (j < first || j >= n_ctx - 1) continue;
        const float* lg = logits + r * n_vocab;
        float mx = lg[0];
        for (int64_t i = 1; i < n_vocab; ++i) mx = std::max(mx, lg[i]);
        double sum = 0.0;
        for (int64_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(lg[i] - mx));
        nll -= static_cast<double>(lg[toks[static_cast<size_t>(j + 1)]] - mx) - std::log(sum);
        ++count;
      }
      return Status();
    };
    // Logits for every position: the output head's input is only computed where they are asked.
    PLM_RETURN_IF_ERROR(rr->run(toks.data(), n_ctx, 0, rows, &collector));
    if (o.on_chunk) {
      ImatrixProgress p;
      p.chunk = c + 1;
      p.n_chunks = chunks.n_chunks();
      p.running_ppl = std::exp(nll / static_cast<double>(std::max<int64_t>(1, count)));
      p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!o.on_chunk(p)) return Status(StatusCode::kCancelled, "imatrix cancelled");
    }
  }
  Imatrix im = collector.result();
  if (!o.dataset.empty()) im.datasets.push_back(o.dataset);
  im.chunk_count = static_cast<uint32_t>(chunks.n_chunks());
  im.chunk_size = static_cast<uint32_t>(n_ctx);
  return im;
}

}  // namespace pocketlm::toolkit
