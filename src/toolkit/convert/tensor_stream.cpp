#include "toolkit/convert/tensor_stream.h"

#include <algorithm>
#include <cstring>

#include "quant/fp16.h"

namespace pocketlm::convert {
namespace {

void widen(SafetensorsDtype dtype, const uint8_t* src, float* dst, size_t n) {
  switch (dtype) {
    case SafetensorsDtype::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case SafetensorsDtype::kF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = fp16_to_fp32(h);
      }
      return;
    case SafetensorsDtype::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        dst[i] = bf16_to_fp32(b);
      }
      return;
    default:
      // plan_tensors() admits only the three types above.
      std::fill(dst, dst + n, 0.0f);
      return;
  }
}

}  // namespace

Status TensorStreamer::encode_rows(const PlannedTensor& t, const float* rows, int64_t n_rows,
                                   GgufWriter& w) {
  const int64_t len = t.row_length();
  const size_t row_bytes = row_size(t.type, len);
  encoded_.resize(row_bytes * static_cast<size_t>(n_rows));
  if (t.type == TensorType::kF32) {
    std::memcpy(encoded_.data(), rows, encoded_.size());
  } else {
    const TypeTraits& tr = type_traits(t.type);
    if (tr.from_float == nullptr || len % tr.block_size != 0) {
      return internal_error(strfmt("convert: cannot encode %s as %s", t.name.c_str(), tr.name));
    }
    for (int64_t r = 0; r < n_rows; ++r) {
      tr.from_float(rows + r * len, encoded_.data() + static_cast<size_t>(r) * row_bytes, len);
    }
  }
  return w.write_tensor_data(encoded_.data(), encoded_.size());
}

Status TensorStreamer::write(const PlannedTensor& t, GgufWriter& w,
                             const std::function<void(uint64_t)>& progress) {
  const int64_t len = t.row_length();
  const int64_t n_rows = t.n_rows();
  if (t.source == nullptr) {
    if (static_cast<int64_t>(t.values.size()) != len * n_rows) {
      return internal_error("convert: generated tensor " + t.name + " has the wrong size");
    }
    return encode_rows(t, t.values.data(), n_rows, w);
  }
  const SafetensorsTensor& src = *t.source;
  const size_t elem = safetensors_dtype_size(src.dtype);
  const uint64_t src_row_bytes = static_cast<uint64_t>(len) * elem;

  // Rows per chunk: whole heads when rows are reordered (a head's rows are contiguous in the
  // source), else as many rows as fit the chunk budget.
  int64_t unit = 1;
  if (t.permute_heads > 0) {
    if (n_rows % t.permute_heads != 0 || (n_rows / t.permute_heads) % 2 != 0) {
      return internal_error("convert: " + t.name + " does not split into heads of even size");
    }
    unit = n_rows / t.permute_heads;
  }
  const int64_t row_f32 = std::max<int64_t>(1, len * 4);
  int64_t chunk = std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes) / row_f32 / unit) * unit;
  chunk = std::min(chunk, n_rows);

  for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
    const int64_t rows = std::min(chunk, n_rows - r0);
    const size_t n = static_cast<size_t>(rows * len);
    raw_.resize(static_cast<size_t>(rows) * src_row_bytes);
    PLM_RETURN_IF_ERROR(
        ck_.read(src, static_cast<uint64_t>(r0) * src_row_bytes, raw_.size(), raw_.data()));
    f32_.resize(n);
    widen(src.dtype, raw_.data(), f32_.data(), n);
    const float* out = f32_.data();
    if (t.permute_heads > 0) {
      reordered_.resize(n);
      for (int64_t h = 0; h < rows; h += unit) {
        for (int64_t r = 0; r < unit; ++r) {
          const int64_t from = h + rope_pair_source_row(r, unit);
          std::memcpy(reordered_.data() + (h + r) * len, f32_.data() + from * len,
                      static_cast<size_t>(len) * sizeof(float));
        }
      }
      out = reordered_.data();
    }
    PLM_RETURN_IF_ERROR(encode_rows(t, out, rows, w));
    if (progress) progress(raw_.size());
  }
  return Status();
}

}  // namespace pocketlm::convert
