// TensorStreamer: writes planned tensors into a begun GgufWriter a few MiB at a time — read
// rows from the checkpoint, widen them to f32, reorder rows for RoPE where planned, encode in
// the output type.
//
// Usage:
//   TensorStreamer s(checkpoint);
//   for (const PlannedTensor& t : plan.tensors) {
//     PLM_RETURN_IF_ERROR(s.write(t, writer, [&](uint64_t n) { done += n; show(done); }));
//   }
//
// What the process holds at a time is one chunk of rows in three forms (source bytes, f32,
// encoded), whatever the size of the tensor or the model: the checkpoint is read with pread,
// not mapped, so no page of it stays resident once converted.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "format/gguf_writer.h"
#include "format/safetensors.h"
#include "toolkit/convert/tensor_plan.h"

namespace pocketlm::convert {

class TensorStreamer {
 public:
  // A chunk holds whole rows (whole heads for reordered tensors) and about this many f32 bytes.
  static constexpr uint64_t kChunkBytes = 4u << 20;

  explicit TensorStreamer(const SafetensorsCheckpoint& checkpoint) : ck_(checkpoint) {}

  // `progress` receives the source bytes consumed after each chunk.
  Status write(const PlannedTensor& t, GgufWriter& w,
               const std::function<void(uint64_t)>& progress = {});

 private:
  Status encode_rows(const PlannedTensor& t, const float* rows, int64_t n_rows, GgufWriter& w);

  const SafetensorsCheckpoint& ck_;
  std::vector<uint8_t> raw_;
  std::vector<float> f32_;
  std::vector<float> reordered_;
  std::vector<uint8_t> encoded_;
};

// Row order of one head for RoPE: output row 2i + j comes from input row j * d/2 + i.
inline int64_t rope_pair_source_row(int64_t out_row, int64_t head_rows) {
  const int64_t half = head_rows / 2;
  return (out_row % 2) * half + out_row / 2;
}

}  // namespace pocketlm::convert
