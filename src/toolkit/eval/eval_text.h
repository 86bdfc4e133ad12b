// Loading what an evaluation needs: the model, its tokenizer and a text cut into chunks.
//
// Usage:
//   Result<EvalModel> m = EvalModel::load("model.gguf");
//   Result<std::string> text = read_text_file("data/text/eval.txt");
//   Result<EvalChunks> chunks = m->chunk_text(*text, /*n_ctx=*/512, /*max_chunks=*/-1);
//
// The text is tokenized as llama.cpp's perplexity tokenizes it: special tokens added as the
// vocabulary asks (BOS for Gemma, nothing for SmolLM2), special-token text left as text.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "toolkit/eval/eval_chunks.h"

namespace pocketlm::toolkit {

struct EvalModel {
  std::unique_ptr<Model> model;
  Tokenizer tokenizer;

  static Result<EvalModel> load(const std::string& path);
  Result<EvalChunks> chunk_text(const std::string& text, int64_t n_ctx, int64_t max_chunks) const;
};

// The whole file; errors name the path.
Result<std::string> read_text_file(const std::string& path);

}  // namespace pocketlm::toolkit
