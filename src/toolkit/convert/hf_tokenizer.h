// HfVocab: a Hugging Face byte-level BPE tokenizer (tokenizer.json, tokenizer_config.json,
// chat_template.jinja) turned into GGUF tokenizer.* metadata, as llama.cpp's converter writes it.
//
// Usage:
//   Result<HfVocab> v = read_hf_tokenizer("hf/qwen2", config, /*pre_override=*/"");
//   if (!v.ok()) return v.status();
//   for (const std::string& w : v->warnings) log(w);
//   PLM_RETURN_IF_ERROR(write_vocab_metadata(*v, writer));
//
// What is written:
//   tokenizer.ggml.model "gpt2"; tokenizer.ggml.pre (see below); tokenizer.ggml.tokens (the
//   vocabulary by id, padded to config.json's vocab_size with "[PAD<id>]" tokens of type unused);
//   tokenizer.ggml.token_type (normal; control for special added tokens and "<|...|>" ones;
//   user-defined for other added tokens); tokenizer.ggml.merges ("a b", a space inside a part
//   written as U+0120); the bos/eos/unk/sep/pad/mask ids named by tokenizer_config.json (looked up
//   among the added tokens) or else by config.json; add_bos/add_eos from the post-processor's
//   template, overridden by tokenizer_config.json's add_bos_token/add_eos_token; the chat
//   template from tokenizer_config.json, else chat_template.jinja, else chat_template.json.
//
// The pre-tokenizer name. llama.cpp's converter recognises a pre-tokenizer by hashing the ids a
// known model's tokenizer gives for a fixed text, so it fails on any tokenizer it has not seen —
// including every tokenizer trained afresh. pocketlm reads the pre-tokenizer's definition in
// tokenizer.json instead and names the split rule it implements:
//   ByteLevel alone (GPT-2's regex)                       -> "gpt-2"
//   Split(Llama 3 regex) + ByteLevel(use_regex: false)    -> "llama-bpe"
//   Split(Qwen2 regex) + ByteLevel(use_regex: false)      -> "qwen2"
//   Digits(individual) + ByteLevel (GPT-2 regex)          -> "smollm"
// Anything else is refused (the tokens would split differently at run time) unless the caller
// names the rule itself (pre_override, `pocketlm convert --pre NAME`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "format/gguf_writer.h"
#include "toolkit/convert/hf_config.h"

namespace pocketlm::convert {

struct HfVocab {
  std::string pre;
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;
  std::vector<std::string> merges;
  // ("bos", id), ("eos", id), ... in the order they are written.
  std::vector<std::pair<std::string, uint32_t>> special_ids;
  // ("bos", true), ("eos", false), ...
  std::vector<std::pair<std::string, bool>> add_special;
  std::optional<std::string> chat_template;
  std::vector<std::pair<std::string, std::string>> named_chat_templates;  // (name, template)
  std::vector<std::string> warnings;
};

Result<HfVocab> read_hf_tokenizer(const std::string& dir, const HfConfig& config,
                                  const std::string& pre_override);

Status write_vocab_metadata(const HfVocab& vocab, GgufWriter& w);

}  // namespace pocketlm::convert
