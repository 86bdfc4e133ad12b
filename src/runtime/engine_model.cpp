#include "runtime/engine_model.h"

#include <chrono>
#include <new>
#include <utility>

#include "tokenizer/vocab_gguf.h"

namespace pocketlm {

Result<std::unique_ptr<LoadedModel>> LoadedModel::load(const std::string& path,
                                                       const LoadOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<LoadedModel> lm(new (std::nothrow) LoadedModel());
  if (!lm) return Status(StatusCode::kOutOfMemory, "cannot allocate the model");

  Result<std::unique_ptr<Model>> m = Model::load(path, options);
  if (!m.ok()) return m.status();
  lm->model = std::move(m).value();
  const GgufFile& file = lm->model->file();

  Result<Vocab> vocab = vocab_from_gguf(file);
  if (!vocab.ok()) {
    return Status(vocab.status().code(),
                  strfmt("'%s': tokenizer: %s", path.c_str(), vocab.status().message().c_str()));
  }
  Result<Tokenizer> tok = Tokenizer::create(std::move(vocab).value());
  if (!tok.ok()) {
    return Status(tok.status().code(),
                  strfmt("'%s': tokenizer: %s", path.c_str(), tok.status().message().c_str()));
  }
  lm->tokenizer = std::move(tok).value();
  if (lm->tokenizer.n_tokens() < lm->model->hparams().n_vocab) {
    // Sampling picks ids among the model's logits; each must be a token the tokenizer knows.
    return malformed(strfmt("'%s': the model has %lld logits but the vocabulary %d tokens",
                            path.c_str(), static_cast<long long>(lm->model->hparams().n_vocab),
                            lm->tokenizer.n_tokens()));
  }

  lm->architecture = std::string(lm->model->arch().name);
  if (Result<std::string> name = file.get_string("general.name"); name.ok()) lm->name = *name;
  for (const GgufTensorInfo& t : file.tensors())
    lm->n_params += static_cast<uint64_t>(t.n_elements);

  // A missing or unrecognized template is not a load error: plain generation does not need it,
  // and chat can still name a template explicitly.
  std::string source;
  if (Result<std::string> s = file.get_string("tokenizer.chat_template"); s.ok()) source = *s;
  Result<ChatTemplate> tmpl = ChatTemplate::from_gguf_template(source, lm->architecture);
  if (tmpl.ok()) {
    lm->chat_template = std::move(tmpl).value();
  } else {
    lm->chat_template_error = tmpl.status().message();
  }

  lm->load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return lm;
}

std::string LoadedModel::bos_text() const {
  return std::string(tokenizer.token_to_piece(tokenizer.bos(), /*special=*/true));
}

std::string LoadedModel::eos_text() const {
  return std::string(tokenizer.token_to_piece(tokenizer.eos(), /*special=*/true));
}

}  // namespace pocketlm
