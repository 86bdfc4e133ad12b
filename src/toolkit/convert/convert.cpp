#include "toolkit/convert/convert.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "format/gguf_writer.h"
#include "format/safetensors.h"
#include "toolkit/convert/families.h"
#include "toolkit/convert/hf_config.h"
#include "toolkit/convert/hf_tokenizer.h"
#include "toolkit/convert/tensor_plan.h"
#include "toolkit/convert/tensor_stream.h"

namespace pocketlm::convert {
namespace {

namespace fs = std::filesystem;

// GGML_QNT_VERSION: the block layout generation of quantized types; written by every
// converter and checked by loaders.
constexpr uint32_t kQuantizationVersion = 2;

Result<HfConfig> read_config(const fs::path& dir) {
  const fs::path p = dir / "config.json";
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) {
    return not_found("no config.json in '" + dir.string() + "'");
  }
  std::ifstream in(p, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return io_error("cannot read '" + p.string() + "'");
  return HfConfig::parse(text, p.string());
}

Result<SafetensorsCheckpoint> open_checkpoint(const fs::path& dir) {
  Result<SafetensorsCheckpoint> ck = SafetensorsCheckpoint::open_dir(dir.string());
  if (!ck.ok() && ck.status().code() == StatusCode::kNotFound) {
    std::error_code ec;
    if (fs::exists(dir / "pytorch_model.bin", ec) ||
        fs::exists(dir / "pytorch_model.bin.index.json", ec)) {
      return unsupported("'" + dir.string() +
                         "' holds PyTorch pickles (pytorch_model.bin), "
                         "which are not read; save the model with safetensors");
    }
  }
  return ck;
}

}  // namespace

bool is_convert_output_type(TensorType t) {
  return t == TensorType::kF32 || t == TensorType::kF16 || t == TensorType::kBF16 ||
         t == TensorType::kQ8_0;
}

uint32_t file_type_for(TensorType t) {
  switch (t) {
    case TensorType::kF32:
      return 0;  // ALL_F32
    case TensorType::kF16:
      return 1;  // MOSTLY_F16
    case TensorType::kQ8_0:
      return 7;  // MOSTLY_Q8_0
    case TensorType::kBF16:
      return 32;  // MOSTLY_BF16
    default:
      return 0;
  }
}

Result<ConvertReport> convert_hf_checkpoint(const ConvertOptions& o) {
  if (!is_convert_output_type(o.out_type)) {
    return invalid_argument(std::string("output type '") + type_traits(o.out_type).name +
                            "' is not offered (f32, f16, bf16, q8_0)");
  }
  const fs::path dir(o.input_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return not_found("'" + o.input_dir + "' is not a directory");
  }
  Result<HfConfig> config = read_config(dir);
  if (!config.ok()) return config.status();
  const ConvertFamily* fam = find_family(*config);
  if (fam == nullptr) {
    const std::string what = !config->architecture.empty()
                                 ? "architecture '" + config->architecture + "'"
                                 : "model_type '" + config->model_type + "'";
    return unsupported(config->source + ": unknown " + what +
                       " (supported: " + supported_architectures() + ")");
  }
  PLM_RETURN_IF_ERROR(check_family_config(*fam, *config));
  Result<SafetensorsCheckpoint> ck = open_checkpoint(dir);
  if (!ck.ok()) return ck.status();
  Result<TensorPlan> plan = plan_tensors(*fam, *config, *ck, o.out_type);
  if (!plan.ok()) return plan.status();
  Result<HfVocab> vocab = read_hf_tokenizer(o.input_dir, *config, o.pre_override);
  if (!vocab.ok()) return vocab.status();

  ConvertReport report;
  report.family = std::string(fam->name);
  report.gguf_arch = std::string(fam->gguf_arch);
  report.warnings = plan->warnings;
  report.warnings.insert(report.warnings.end(), vocab->warnings.begin(), vocab->warnings.end());

  GgufWriter w;
  std::string name = o.name;
  if (name.empty()) {
    // The directory's own name, also when the path ends in a separator or is ".".
    fs::path p = fs::absolute(dir, ec).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    name = p.filename().string();
  }
  PLM_RETURN_IF_ERROR(w.set("general.architecture", GgufValue::string(report.gguf_arch)));
  PLM_RETURN_IF_ERROR(w.set("general.type", GgufValue::string("model")));
  PLM_RETURN_IF_ERROR(w.set("general.name", GgufValue::string(name)));
  PLM_RETURN_IF_ERROR(write_model_metadata(*fam, *config, file_type_for(o.out_type), w));
  PLM_RETURN_IF_ERROR(w.set("general.quantization_version", GgufValue::u32(kQuantizationVersion)));
  PLM_RETURN_IF_ERROR(write_vocab_metadata(*vocab, w));
  for (const PlannedTensor& t : plan->tensors) {
    PLM_RETURN_IF_ERROR(w.add_tensor(t.name, t.type, std::span<const int64_t>(t.ne)));
  }

  ConvertProgress progress;
  progress.n_tensors = plan->tensors.size();
  for (const PlannedTensor& t : plan->tensors) {
    if (t.source != nullptr) progress.total_bytes += t.source->n_bytes;
  }
  PLM_RETURN_IF_ERROR(w.begin(o.output_path));
  TensorStreamer streamer(*ck);
  for (size_t i = 0; i < plan->tensors.size(); ++i) {
    const PlannedTensor& t = plan->tensors[i];
    progress.tensor_index = i;
    progress.tensor_name = &t.name;
    Status s = streamer.write(t, w, [&](uint64_t n) {
      progress.done_bytes += n;
      if (o.on_progress) o.on_progress(progress);
    });
    if (!s.ok()) {
      w.abandon();
      return s;
    }
  }
  PLM_RETURN_IF_ERROR(w.finish());
  report.n_tensors = plan->tensors.size();
  report.output_bytes = fs::file_size(o.output_path, ec);
  return report;
}

}  // namespace pocketlm::convert
