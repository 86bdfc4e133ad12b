#include "toolkit/quantize/quantize_model.h"

#include <algorithm>
#include <filesystem>
#include <new>

#include "core/thread_pool.h"
#include "format/gguf_reader.h"
#include "format/gguf_writer.h"
#include "quant/quantize_search.h"

namespace pocketlm::toolkit {
namespace {

// Rows are converted in chunks of about this many values: big enough to keep every thread busy,
// small enough that a 262144-row embedding never needs gigabytes of float scratch.
constexpr int64_t kChunkValues = int64_t{1} << 22;
constexpr uint32_t kQuantizationVersion = 2;  // the K-quant/legacy block layouts in use since 2023

Status copy_metadata(const GgufFile& in, const QuantizeOptions& o, const Imatrix* im,
                     GgufWriter& w) {
  for (const GgufKv& kv : in.metadata()) {
    if (kv.key == kGgufAlignmentKey) {
      if (auto a = kv.value.as_uint())
        PLM_RETURN_IF_ERROR(w.set_alignment(static_cast<uint32_t>(*a)));
      continue;
    }
    // Provenance of an earlier quantization does not describe this file.
    if (kv.key.rfind("quantize.imatrix.", 0) == 0) continue;
    PLM_RETURN_IF_ERROR(w.set(kv.key, kv.value));
  }
  PLM_RETURN_IF_ERROR(w.set("general.quantization_version", GgufValue::u32(kQuantizationVersion)));
  PLM_RETURN_IF_ERROR(
      w.set("general.file_type", GgufValue::u32(preset_info(o.plan.preset).file_type)));
  if (im) {
    PLM_RETURN_IF_ERROR(w.set("quantize.imatrix.file", GgufValue::string(o.imatrix_path)));
    if (!im->datasets.empty()) {
      PLM_RETURN_IF_ERROR(w.set("quantize.imatrix.dataset", GgufValue::string(im->datasets[0])));
    }
    PLM_RETURN_IF_ERROR(w.set("quantize.imatrix.entries_count",
                              GgufValue::i32(static_cast<int32_t>(im->entries.size()))));
    PLM_RETURN_IF_ERROR(w.set("quantize.imatrix.chunks_count",
                              GgufValue::i32(static_cast<int32_t>(im->chunk_count))));
  }
  return Status();
}

// Importance weights for one tensor, checked against its row length.
Result<std::vector<float>> importance_for(const Imatrix& im, const GgufTensorInfo& t) {
  std::optional<std::vector<float>> w = im.importance(t.name);
  if (!w) return std::vector<float>();
  if (static_cast<int64_t>(w->size()) != t.ne[0]) {
    return invalid_argument(strfmt(
        "the importance matrix has %zu columns for %s, whose rows hold %lld values (made for "
        "another model?)",
        w->size(), t.name.c_str(), static_cast<long long>(t.ne[0])));
  }
  return *w;
}

}  // namespace

Result<QuantizeReport> quantize_model(const std::string& input, const std::string& output,
                                      const QuantizeOptions& o) {
  Result<GgufFile> fr = GgufFile::open(input);
  if (!fr.ok()) return fr.status();
  const GgufFile& in = *fr;
  Result<std::vector<TensorPlan>> pr = plan_quantization(in, o.plan);
  if (!pr.ok()) return pr.status();

  QuantizeReport rep;
  rep.plan = std::move(pr).value();
  GgufWriter w;
  PLM_RETURN_IF_ERROR(copy_metadata(in, o, o.imatrix, w));
  for (const TensorPlan& p : rep.plan) {
    const GgufTensorInfo& t = in.tensors()[p.index];
    PLM_RETURN_IF_ERROR(
        w.add_tensor(t.name, p.to, std::span<const int64_t>(t.ne.data(), t.n_dims)));
    rep.n_elements += static_cast<uint64_t>(t.n_elements);
    rep.bytes_in += t.n_bytes;
    rep.bytes_out += static_cast<uint64_t>(t.n_rows()) * row_size(p.to, t.ne[0]);
    if (p.convert) ++rep.n_converted;
  }
  if (o.dry_run) return rep;

  PLM_RETURN_IF_ERROR(w.begin(output));
  ThreadPool pool(std::max(1, o.n_threads));
  std::vector<float> f32;
  std::vector<uint8_t> out;
  QuantizeProgress prog;
  prog.n_tensors = rep.plan.size();
  prog.bytes_total = rep.bytes_in;
  auto report = [&](size_t i, bool done) {
    if (!o.progress) return true;
    prog.tensor = i;
    prog.plan = &rep.plan[i];
    prog.tensor_done = done;
    return o.progress(prog);
  };
  auto cancelled = [&]() {
    w.abandon();
    return Status(StatusCode::kCancelled, "quantization cancelled");
  };

  for (size_t i = 0; i < rep.plan.size(); ++i) {
    const TensorPlan& p = rep.plan[i];
    const GgufTensorInfo& t = in.tensors()[p.index];
    if (!report(i, false)) return cancelled();
    if (!p.convert) {
      PLM_RETURN_IF_ERROR(w.write_tensor_data(t.data, t.n_bytes));
      prog.bytes_done += t.n_bytes;
      if (!report(i, true)) return cancelled();
      continue;
    }
    std::vector<float> importance;
    if (o.imatrix && type_traits(p.to).is_quantized) {
      Result<std::vector<float>> ir = importance_for(*o.imatrix, t);
      if (!ir.ok()) {
        w.abandon();
        return ir.status();
      }
      importance = std::move(ir).value();
      if (importance.empty()) {
        rep.without_importance.push_back(t.name);
      } else {
        ++rep.n_with_importance;
      }
    }
    const int64_t n_per_row = t.ne[0];
    const int64_t n_rows = t.n_rows();
    const size_t in_row = row_size(p.from, n_per_row);
    const size_t out_row = row_size(p.to, n_per_row);
    const int64_t chunk_rows = std::max<int64_t>(1, kChunkValues / std::max<int64_t>(1, n_per_row));
    const ToFloatFn to_float = type_traits(p.from).to_float;
    const float* imp = importance.empty() ? nullptr : importance.data();
    try {
      f32.resize(static_cast<size_t>(std::min(chunk_rows, n_rows) * n_per_row));
      out.resize(static_cast<size_t>(std::min(chunk_rows, n_rows)) * out_row);
    } catch (const std::bad_alloc&) {
      w.abandon();
      return Status(StatusCode::kOutOfMemory, "cannot allocate the conversion buffers");
    }
    for (int64_t r0 = 0; r0 < n_rows; r0 += chunk_rows) {
      const int64_t nr = std::min(chunk_rows, n_rows - r0);
      parallel_for(&pool, nr, [&](int64_t b, int64_t e, int) {
        for (int64_t r = b; r < e; ++r) {
          float* row = f32.data() + r * n_per_row;
          to_float(t.data + static_cast<size_t>(r0 + r) * in_row, row, n_per_row);
          quantize_rows_search(p.to, row, out.data() + static_cast<size_t>(r) * out_row, 1,
                               n_per_row, imp);
        }
      });
      PLM_RETURN_IF_ERROR(w.write_tensor_data(out.data(), static_cast<size_t>(nr) * out_row));
      prog.bytes_done += static_cast<uint64_t>(nr) * in_row;
      if (!report(i, r0 + nr >= n_rows)) return cancelled();
    }
  }
  PLM_RETURN_IF_ERROR(w.finish());
  std::error_code ec;
  rep.file_bytes = std::filesystem::file_size(output, ec);
  return rep;
}

}  // namespace pocketlm::toolkit
