#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <new>
#include <utility>

namespace pocketlm::kernels {
namespace {

constexpr size_t kAlign = 64;
// Weight rows per work item: 32 rows of a 4096-wide Q4_K matrix are 72 KiB, which stays in L2
// while every token of the batch passes over them.
constexpr int64_t kMaxRowBlock = 32;
// Below this, work items get too small for the atomic counter and the row setup to pay off; also
// the rows of a register tile (VecDotTileFn), so blocks are made of whole tiles.
constexpr int64_t kMinRowBlock = 4;
// Tokens handled against one block of rows before moving on, so their activation rows stay in L1.
constexpr int64_t kTokenTile = 8;
constexpr int64_t kTileTokenTile = 32;  // the same for register tiles (VecDotTileFn)
// Work items per thread to aim for: with dynamic scheduling, a few per thread even out threads
// that run slower (big.LITTLE cores, a busy core) without much counter traffic.
constexpr int64_t kItemsPerThread = 4;

struct Job {
  // One of the two is set: quantized activation dot, or float activation dot.
  VecDotFn vec_dot = nullptr;
  VecDotFn vec_dot_x4 = nullptr;  // for activation rows [0, n_x4), when set
  int64_t n_x4 = 0;
  VecDotF32Fn vec_dot_f32 = nullptr;
  // The dot of activation rows [0, n_tile) for a block of rows and tokens at once, when set; the
  // rows from n_tile on take the per-output dots above.
  VecDotTileFn tile = nullptr;
  int64_t n_tile = 0;
  const uint8_t* w = nullptr;
  size_t w_row_bytes = 0;
  const uint8_t* act = nullptr;  // quantized activations, or the float rows
  size_t act_row_bytes = 0;
  int64_t rows = 0;
  int64_t k = 0;
  int64_t n = 0;
  float* y = nullptr;
  int64_t row_block = kMaxRowBlock;
  int64_t n_items = 0;
  std::atomic<int64_t> next{0};
};

void run_item(const Job& j, int64_t item) {
  const int64_t r0 = item * j.row_block;
  const int64_t r1 = std::min(j.rows, r0 + j.row_block);
  int64_t first = 0;  // the first token for the per-output dots
  if (j.tile) {
    // Larger token tiles: a tile decodes its weight rows once per call, and 32 activation rows
    // (70 KiB at k = 2048) still sit in L2 while the rows pass over them.
    for (int64_t t0 = 0; t0 < j.n_tile; t0 += kTileTokenTile) {
      const int64_t t1 = std::min(j.n_tile, t0 + kTileTokenTile);
      j.tile(j.k, j.w + static_cast<size_t>(r0) * j.w_row_bytes, j.w_row_bytes, r1 - r0,
             j.act + static_cast<size_t>(t0) * j.act_row_bytes, j.act_row_bytes, t1 - t0,
             j.y + t0 * j.rows + r0, j.rows);
    }
    first = j.n_tile;
  }
  for (int64_t t0 = first; t0 < j.n; t0 += kTokenTile) {
    const int64_t t1 = std::min(j.n, t0 + kTokenTile);
    for (int64_t r = r0; r < r1; ++r) {
      const void* wr = j.w + static_cast<size_t>(r) * j.w_row_bytes;
      for (int64_t t = t0; t < t1; ++t) {
        const uint8_t* a = j.act + static_cast<size_t>(t) * j.act_row_bytes;
        float* out = j.y + t * j.rows + r;
        if (t < j.n_x4) {
          j.vec_dot_x4(j.k, out, wr, a);
        } else if (j.vec_dot) {
          j.vec_dot(j.k, out, wr, a);
        } else {
          j.vec_dot_f32(j.k, out, wr, reinterpret_cast<const float*>(a));
        }
      }
    }
  }
}

void run_job(void* ctx, int /*ith*/, int /*nth*/) {
  Job& j = *static_cast<Job*>(ctx);
  for (int64_t item = j.next.fetch_add(1, std::memory_order_relaxed); item < j.n_items;
       item = j.next.fetch_add(1, std::memory_order_relaxed)) {
    run_item(j, item);
  }
}

// The dots whose float orders llama.cpp's matrix kernels would use for this product
// (kernels.h): interleaved weights take the activation rows four at a time, then one at a time.
void pick_vec_dot(const DotKernels& d, uint32_t wid, int64_t rows, int64_t n, Job& job) {
  if (d.vec_dot_interleaved[wid] && rows % kInterleavedRows == 0) {
    job.vec_dot = d.vec_dot_interleaved[wid];
    if (d.vec_dot_interleaved_x4[wid]) {
      job.vec_dot_x4 = d.vec_dot_interleaved_x4[wid];
      job.n_x4 = n - n % 4;
      job.tile = d.vec_dot_interleaved_x4_tile[wid];
      job.n_tile = job.tile ? job.n_x4 : 0;
    }
  } else if (d.vec_dot_tiled[wid] && n >= kTiledMinRows) {
    job.vec_dot = d.vec_dot_tiled[wid];
    job.tile = d.vec_dot_tiled_tile[wid];
    job.n_tile = job.tile ? n : 0;
  } else {
    job.vec_dot = d.vec_dot[wid];
    // For one token too: a tile then reads the rows one after another, as vec_dot would (what
    // the hardware prefetchers follow best: interleaving four rows halved decode speed on Zen 3),
    // and shares only the activation side.
    if (d.vec_dot_tile[wid]) {
      job.tile = d.vec_dot_tile[wid];
      job.n_tile = n;
    }
  }
}

Status check_shape(const TypeTraits* tr, TensorType wtype, int64_t rows, int64_t k, int64_t n) {
  if (!tr) return invalid_argument(strfmt("matmul: unknown weight type id %u", unsigned(wtype)));
  if (rows < 0 || n < 0 || k <= 0) {
    return invalid_argument(strfmt("matmul: bad shape rows=%lld k=%lld n=%lld",
                                   static_cast<long long>(rows), static_cast<long long>(k),
                                   static_cast<long long>(n)));
  }
  if (k % tr->block_size != 0) {
    return invalid_argument(strfmt("matmul: k=%lld is not a multiple of the %s block size %lld",
                                   static_cast<long long>(k), tr->name,
                                   static_cast<long long>(tr->block_size)));
  }
  return Status();
}

}  // namespace

Workspace::~Workspace() {
  if (data_) ::operator delete(data_, std::align_val_t(kAlign));
}

Workspace::Workspace(Workspace&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}

Workspace& Workspace::operator=(Workspace&& other) noexcept {
  if (this != &other) {
    if (data_) ::operator delete(data_, std::align_val_t(kAlign));
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void* Workspace::reserve(size_t bytes) {
  if (bytes <= capacity_ && data_) return data_;
  if (data_) ::operator delete(data_, std::align_val_t(kAlign));
  // Round up so slightly larger requests later (another matrix width) do not reallocate again.
  const size_t want = std::max<size_t>((bytes + 4095) & ~size_t{4095}, 4096);
  data_ = ::operator new(want, std::align_val_t(kAlign));
  capacity_ = want;
  return data_;
}

Status matvec(const KernelTable& kt, TensorType wtype, const void* w, int64_t rows, int64_t k,
              const float* x, float* y, ThreadPool* pool, Workspace& ws, ActivationPath path) {
  return matmul(kt, wtype, w, rows, k, x, 1, y, pool, ws, path);
}

Status matmul(const KernelTable& kt, TensorType wtype, const void* w, int64_t rows, int64_t k,
              const float* x, int64_t n, float* y, ThreadPool* pool, Workspace& ws,
              ActivationPath path) {
  const TypeTraits* tr = find_type_traits(static_cast<uint32_t>(wtype));
  PLM_RETURN_IF_ERROR(check_shape(tr, wtype, rows, k, n));
  if (rows == 0 || n == 0) return Status();
  const uint32_t wid = static_cast<uint32_t>(wtype);

  Job job;
  job.w = static_cast<const uint8_t*>(w);
  job.w_row_bytes = row_size(wtype, k);
  job.rows = rows;
  job.k = k;
  job.n = n;
  job.y = y;

  if (path == ActivationPath::kFloat) {
    job.vec_dot_f32 = kt.dot.vec_dot_f32[wid];
    if (!job.vec_dot_f32) {
      return unsupported(strfmt("matmul: no %s kernel for %s weights with float activations",
                                isa_name(kt.isa), tr->name));
    }
    job.act = reinterpret_cast<const uint8_t*>(x);
    job.act_row_bytes = static_cast<size_t>(k) * sizeof(float);
  } else {
    pick_vec_dot(kt.dot, wid, rows, n, job);
    if (!job.vec_dot) {
      return unsupported(
          strfmt("matmul: no %s dot kernel for %s weights", isa_name(kt.isa), tr->name));
    }
    const TensorType act_type = tr->vec_dot_type;
    if (act_type == TensorType::kF32) {
      job.act = reinterpret_cast<const uint8_t*>(x);  // the activations already are the pair type
      job.act_row_bytes = static_cast<size_t>(k) * sizeof(float);
    } else {
      const QuantizeRowFn quantize = kt.dot.quantize_act[static_cast<uint32_t>(act_type)];
      if (!quantize) {
        return unsupported(strfmt("matmul: no %s quantizer for %s activations", isa_name(kt.isa),
                                  type_traits(act_type).name));
      }
      job.act_row_bytes = row_size(act_type, k);
      uint8_t* act = static_cast<uint8_t*>(ws.reserve(job.act_row_bytes * static_cast<size_t>(n)));
      const size_t stride = job.act_row_bytes;
      parallel_for(n > 1 ? pool : nullptr, n, [&](int64_t t0, int64_t t1, int) {
        for (int64_t t = t0; t < t1; ++t) {
          quantize(x + t * k, act + static_cast<size_t>(t) * stride, k);
        }
      });
      job.act = act;
    }
  }

  const int max_threads = pool ? pool->n_threads() : 1;
  job.row_block = std::clamp<int64_t>(rows / (int64_t{max_threads} * kItemsPerThread), kMinRowBlock,
                                      kMaxRowBlock);
  job.row_block -= job.row_block % kMinRowBlock;  // whole register tiles of rows
  job.n_items = (rows + job.row_block - 1) / job.row_block;
  const int nth = static_cast<int>(std::min<int64_t>(max_threads, job.n_items));
  if (nth <= 1) {
    run_job(&job, 0, 1);
  } else {
    pool->run(nth, run_job, &job);
  }
  return Status();
}

}  // namespace pocketlm::kernels
