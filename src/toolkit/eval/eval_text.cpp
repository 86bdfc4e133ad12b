#include "toolkit/eval/eval_text.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tokenizer/vocab_gguf.h"

namespace pocketlm::toolkit {

Result<EvalModel> EvalModel::load(const std::string& path) {
  EvalModel m;
  LoadOptions lo;
  Result<std::unique_ptr<Model>> model = Model::load(path, lo);
  if (!model.ok()) return model.status();
  m.model = std::move(model).value();
  Result<Vocab> vocab = vocab_from_gguf(m.model->file());
  if (!vocab.ok()) return vocab.status();
  Result<Tokenizer> tok = Tokenizer::create(std::move(vocab).value());
  if (!tok.ok()) return tok.status();
  m.tokenizer = std::move(tok).value();
  return m;
}

Result<EvalChunks> EvalModel::chunk_text(const std::string& text, int64_t n_ctx,
                                         int64_t max_chunks) const {
  std::vector<int32_t> tokens = tokenizer.encode(text, /*add_special=*/true,
                                                 /*parse_special=*/false);
  const int32_t bos = tokenizer.add_bos() ? tokenizer.bos() : -1;
  return EvalChunks::create(std::move(tokens), n_ctx, max_chunks, bos);
}

Result<std::string> read_text_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return not_found("cannot open text file '" + path + "': " + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return io_error("reading text file '" + path + "' failed");
  return out;
}

}  // namespace pocketlm::toolkit
