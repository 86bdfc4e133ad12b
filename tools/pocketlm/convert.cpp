// `pocketlm convert HF_DIR -o OUT.gguf [--type f32|f16|bf16|q8_0]`: a Hugging Face checkpoint
// directory to one GGUF file (src/toolkit/convert/convert.h does the work).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "args.h"
#include "cli.h"
#include "quant/types.h"
#include "toolkit/convert/convert.h"

namespace pocketlm::cli {
namespace {

constexpr const char* kVerb = "convert";

constexpr const char* kConvertHelp =
    "Reads config.json, the safetensors weights (model.safetensors, or the shards listed by\n"
    "model.safetensors.index.json), tokenizer.json and tokenizer_config.json from HF_DIR and\n"
    "writes one GGUF file with llama.cpp's keys and tensor names. Vectors and norm weights stay\n"
    "f32; matrices take --type (q8_0 falls back to f16 for rows that are not a multiple of 32).\n"
    "\n"
    "Architectures: LlamaForCausalLM (Llama 2/3.x, SmolLM), MistralForCausalLM,\n"
    "Qwen2ForCausalLM, Qwen3ForCausalLM, Phi3ForCausalLM (4K and LongRoPE 128K) and\n"
    "MobileLLMForCausalLM (block sharing as llama.block_repeat_count). Tokenizers: byte-level\n"
    "BPE; --pre names the pre-tokenizer when its definition is not one pocketlm recognises.\n"
    "\n"
    "Progress is shown on stderr when it is a terminal. Exit status 2: bad arguments, or an\n"
    "input that is missing, malformed or of an unsupported architecture; 1: the output could\n"
    "not be written.\n";

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() { finish(); }

  void update(const convert::ConvertProgress& p) {
    if (!enabled_ || p.total_bytes == 0) return;
    auto now = std::chrono::steady_clock::now();
    if (shown_ && now - last_ < std::chrono::milliseconds(100) && p.done_bytes < p.total_bytes) {
      return;
    }
    last_ = now;
    shown_ = true;
    const double pct =
        100.0 * static_cast<double>(p.done_bytes) / static_cast<double>(p.total_bytes);
    std::fprintf(stderr, "\r\033[Kconverting %5.1f%%  %zu/%zu  %s", pct, p.tensor_index + 1,
                 p.n_tensors, p.tensor_name != nullptr ? p.tensor_name->c_str() : "");
    std::fflush(stderr);
  }

  void finish() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_;
};

int run_convert(const std::vector<std::string>& args) {
  ArgParser p(kVerb, "pocketlm convert HF_DIR -o OUT.gguf [--type f32|f16|bf16|q8_0]");
  p.option("-o", "--output", "OUT", "the GGUF file to write");
  p.option("", "--type", "TYPE", "type of the weight matrices: f32, f16, bf16 or q8_0 (f16)");
  p.option("", "--pre", "NAME", "tokenizer.ggml.pre to write (default: from tokenizer.json)");
  p.option("", "--name", "NAME", "general.name (default: the directory's name)");
  p.epilog(kConvertHelp);
  ParsedArgs a;
  if (int rc = p.parse(args, 1, 1, &a); rc >= 0) return rc;
  if (!a.has("--output") || a.get("--output").empty()) {
    return report_error(kVerb, "missing -o OUT.gguf", kExitUsage);
  }
  convert::ConvertOptions o;
  o.input_dir = a.positional[0];
  o.output_path = a.get("--output");
  const std::string type = a.get("--type", "f16");
  std::optional<TensorType> t = tensor_type_from_name(type);
  if (!t || !convert::is_convert_output_type(*t)) {
    return report_error(kVerb,
                        "invalid value '" + type +
                            "' for --type (expected f32, f16, bf16 "
                            "or q8_0)",
                        kExitUsage);
  }
  o.out_type = *t;
  o.pre_override = a.get("--pre");
  o.name = a.get("--name");
  ProgressLine line(isatty(STDERR_FILENO) == 1);
  o.on_progress = [&](const convert::ConvertProgress& pr) { line.update(pr); };

  Result<convert::ConvertReport> r = convert::convert_hf_checkpoint(o);
  line.finish();
  if (!r.ok()) return report_status(kVerb, r.status());
  for (const std::string& w : r->warnings)
    std::fprintf(stderr, "pocketlm convert: warning: %s\n", w.c_str());
  std::fprintf(stderr, "pocketlm convert: %s (%s) -> %s: %zu tensors, %.1f MiB\n",
               r->family.c_str(), r->gguf_arch.c_str(), o.output_path.c_str(), r->n_tensors,
               static_cast<double>(r->output_bytes) / (1024.0 * 1024.0));
  return kExitOk;
}

const VerbRegistrar kConvert({kVerb, "Convert a Hugging Face checkpoint to GGUF", run_convert});

}  // namespace
}  // namespace pocketlm::cli
