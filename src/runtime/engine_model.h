// LoadedModel: what a running engine needs of a model file — the weights (Model), the tokenizer
// built from the same file's metadata, and the chat template the file names, loaded together.
//
// Usage:
//   LoadOptions lo;                            // model/model.h: mmap, prefetch, progress
//   Result<std::unique_ptr<LoadedModel>> m = LoadedModel::load("models/SmolLM2.gguf", lo);
//   if (!m.ok()) return m.status();
//   const Tokenizer& tok = (*m)->tokenizer;
//   if ((*m)->chat_template) { ... (*m)->chat_template->render(...) ... }
//
// Immutable after load: any number of sessions on any threads may share one LoadedModel.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "model/model.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace pocketlm {

struct LoadedModel {
  static Result<std::unique_ptr<LoadedModel>> load(const std::string& path,
                                                   const LoadOptions& options);

  std::unique_ptr<Model> model;
  Tokenizer tokenizer;
  // The template of the file's tokenizer.chat_template key; empty when the file has none or one
  // pocketlm does not recognize (chat_template_error says why: a named template still works).
  std::optional<ChatTemplate> chat_template;
  std::string chat_template_error;
  std::string architecture;  // general.architecture
  std::string name;          // general.name, or ""
  uint64_t n_params = 0;     // elements over all tensors
  double load_ms = 0.0;      // weights, tokenizer and template, wall clock

  // The texts of the BOS/EOS tokens a chat template writes ("" when the vocabulary has none).
  std::string bos_text() const;
  std::string eos_text() const;
};

}  // namespace pocketlm
