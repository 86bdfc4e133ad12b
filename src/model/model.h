// Model: a loaded GGUF model — its file mapping, architecture, hyper-parameters and weights.
//
// Usage:
//   LoadOptions o; o.use_mmap = true;
//   Result<std::unique_ptr<Model>> m = Model::load("models/SmolLM2-135M-Instruct.Q4_1.gguf", o);
//   if (!m.ok()) { report((*m).status()); }
//   const Hparams& hp = (*m)->hparams();
//
// The model is immutable after load and may be shared by any number of sessions and threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "format/gguf_reader.h"
#include "model/arch.h"
#include "model/hparams.h"
#include "model/weights.h"

namespace pocketlm {

struct LoadOptions {
  // Map the file (zero copy, pages shared with the OS cache) or read it into memory.
  bool use_mmap = true;
  // Touch every weight page once after mapping, so the first token does not pay for page faults.
  bool prefetch = false;
  // Called with a fraction in [0, 1] as loading advances; return false to cancel.
  std::function<bool(float)> progress;
};

class Model {
 public:
  static Result<std::unique_ptr<Model>> load(const std::string& path, const LoadOptions& options);

  const GgufFile& file() const { return file_; }
  const ArchDesc& arch() const { return *arch_; }
  const Hparams& hparams() const { return hp_; }
  const ModelWeights& weights() const { return weights_; }
  // Bytes of tensor data the model's weights occupy in the file.
  uint64_t weight_bytes() const { return weight_bytes_; }

 private:
  Model() = default;

  GgufFile file_;
  const ArchDesc* arch_ = nullptr;
  Hparams hp_;
  ModelWeights weights_;
  uint64_t weight_bytes_ = 0;
};

}  // namespace pocketlm
