// convert_hf_checkpoint: a Hugging Face checkpoint directory (config.json, *.safetensors,
// tokenizer.json, tokenizer_config.json) in, one GGUF file with llama.cpp's keys and tensor
// names out. The library behind `pocketlm convert`.
//
// Usage:
//   ConvertOptions o;
//   o.input_dir = "hf/Llama-3.2-1B";
//   o.output_path = "llama-3.2-1b.f16.gguf";
//   o.out_type = TensorType::kF16;                   // f32, f16, bf16 or q8_0
//   o.on_progress = [](const ConvertProgress& p) { show(p.done_bytes, p.total_bytes); };
//   Result<ConvertReport> r = convert_hf_checkpoint(o);
//   if (!r.ok()) return r.status();   // input errors are kMalformedFile / kUnsupported / ...
//
// Everything is read and checked (config, tokenizer, every tensor's name, shape and type)
// before the output is begun; the data then streams through a few MiB of buffers, so memory
// stays small whatever the model's size. The output appears under its name only when complete.
// Supported families: see families.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "quant/types.h"

namespace pocketlm::convert {

struct ConvertProgress {
  uint64_t done_bytes = 0;   // checkpoint bytes converted so far
  uint64_t total_bytes = 0;  // checkpoint bytes to convert
  size_t tensor_index = 0;   // of the tensor being written
  size_t n_tensors = 0;
  const std::string* tensor_name = nullptr;
};

struct ConvertOptions {
  std::string input_dir;
  std::string output_path;
  TensorType out_type = TensorType::kF16;
  std::string pre_override;  // tokenizer.ggml.pre to write instead of the detected one
  std::string name;          // general.name; the input directory's name when empty
  std::function<void(const ConvertProgress&)> on_progress;
};

struct ConvertReport {
  std::string family;     // "llama", "mistral", ...
  std::string gguf_arch;  // "llama", "qwen2", ...
  size_t n_tensors = 0;
  uint64_t output_bytes = 0;
  std::vector<std::string> warnings;
};

// f32, f16, bf16 and q8_0: the output types convert offers.
bool is_convert_output_type(TensorType t);
// llama.cpp's LLAMA_FTYPE for a file whose matrices are `t` (general.file_type).
uint32_t file_type_for(TensorType t);

Result<ConvertReport> convert_hf_checkpoint(const ConvertOptions& options);

}  // namespace pocketlm::convert
