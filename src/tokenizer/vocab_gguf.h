// Reads a Vocab from GGUF metadata (the tokenizer.ggml.* keys).
//
// Usage:
//   Result<GgufFile> f = GgufFile::open("model.gguf");
//   Result<Vocab> v = vocab_from_gguf(*f);
//   // or, when only the vocabulary is wanted:
//   Result<Vocab> v2 = load_vocab_gguf("ggml-vocab-gpt-2.gguf");
//
// Missing optional keys leave the Vocab's defaults; a key of the wrong type is an error naming
// the key. A special-token id outside the vocabulary is ignored with a warning in
// Vocab::warnings (loaders in the wild tolerate it, so files that have it exist).
#pragma once

#include <string>

#include "core/status.h"
#include "format/gguf_reader.h"
#include "tokenizer/vocab.h"

namespace pocketlm {

Result<Vocab> vocab_from_gguf(const GgufFile& file);
Result<Vocab> load_vocab_gguf(const std::string& path);

}  // namespace pocketlm
