// Computing an importance matrix: run a model over calibration text and record, for every weight
// matrix, the squared activations of each of its input columns (imatrix_file.h says why).
//
// Usage:
//   ImatrixOptions o;  o.n_threads = 4;
//   o.on_chunk = [](const ImatrixProgress& p) { print(p.chunk, p.running_ppl); return true; };
//   Result<Imatrix> im = compute_imatrix(model, chunks, o);   // chunks: eval_chunks.h
//   PLM_RETURN_IF_ERROR(write_imatrix(*im, "model.imatrix.gguf"));
//
// The forward pass names its intermediates (ForwardState's ActivationObserver); each matrix's
// input is one of them: attn_norm feeds attn_q/k/v (or the fused attn_qkv), attn_out feeds
// attn_output, ffn_norm feeds ffn_gate/ffn_up, ffn_act feeds ffn_down, and result_norm feeds the
// output head (output.weight, or token_embd.weight when the model ties them). Every token of every
// chunk counts. The perplexity of the second half of each chunk is reported on the way, as a check
// that the model runs sensibly on the text.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "format/gguf_reader.h"
#include "model/forward_state.h"
#include "model/model.h"
#include "toolkit/eval/eval_chunks.h"
#include "toolkit/imatrix/imatrix_file.h"

namespace pocketlm::toolkit {

class ImatrixCollector : public ActivationObserver {
 public:
  // The matrices are looked up by name in the model's file; n_layer blocks.
  ImatrixCollector(const GgufFile& model_file, int64_t n_layer);

  void observe(const char* name, int64_t layer, const float* data, int64_t n_tokens,
               int64_t width) override;

  // The statistics so far, one entry per weight matrix seen.
  Imatrix result() const;

 private:
  struct Input {
    std::vector<std::string> matrices;  // weights this intermediate feeds
    std::vector<double> sums;
    double count = 0;
  };
  std::map<std::pair<std::string, int64_t>, Input> inputs_;  // (intermediate, layer)
};

struct ImatrixProgress {
  int64_t chunk = 0;  // chunks done
  int64_t n_chunks = 0;
  double running_ppl = 0;
  double seconds = 0;
};

struct ImatrixOptions {
  int n_threads = 1;
  std::string dataset;  // recorded in the file (the calibration text's name)
  std::function<bool(const ImatrixProgress&)> on_chunk;  // false stops (kCancelled)
};

Result<Imatrix> compute_imatrix(const Model& model, const EvalChunks& chunks,
                                const ImatrixOptions& options);

}  // namespace pocketlm::toolkit
