// Matrix products of a quantized weight matrix with float activations, split over a thread pool.
//
// Usage:
//   const KernelTable& kt = active_kernels();
//   Workspace ws;  // keep it: it grows once, then is reused
//   ThreadPool pool(4);
//   // y (rows) = W (rows x k, type wtype) * x (k)
//   PLM_RETURN_IF_ERROR(matvec(kt, TensorType::kQ4_K, w, rows, k, x, y, &pool, ws));
//   // Y (n x rows) = X (n x k, one token per row) * W^T
//   PLM_RETURN_IF_ERROR(matmul(kt, TensorType::kQ4_K, w, rows, k, X, n, Y, &pool, ws));
//
// Activations are quantized once into the weight type's vec_dot_type (Q8_0, Q8_1, Q8_K, F16, ...)
// with the table's quantize_act, then every output is one vec_dot of a weight row with a quantized
// activation row, so each output value is independent of the thread count and of the tiling.
// Where llama.cpp's matrix kernels sum in another order than its one-row dot, the table's
// vec_dot_interleaved / vec_dot_tiled entries stand in for vec_dot (kernels.h says when), so the
// choice depends on the weight rows and the batch size, never on the threads or the tiling.
// ActivationPath::kFloat instead pairs the weights with the float activations (vec_dot_f32): no
// activation rounding, for types and places where accuracy matters more than speed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "quant/types.h"

namespace pocketlm::kernels {

// Caller-owned scratch memory for the drivers. It grows when a call needs more and otherwise
// keeps its buffer, so steady-state calls allocate nothing. Not shared between concurrent calls.
class Workspace {
 public:
  Workspace() = default;
  ~Workspace();
  Workspace(Workspace&& other) noexcept;
  Workspace& operator=(Workspace&& other) noexcept;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // At least `bytes` of 64-byte aligned memory; earlier contents are not kept when it grows.
  void* reserve(size_t bytes);
  size_t capacity() const { return capacity_; }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

enum class ActivationPath : int {
  kQuantized = 0,  // quantize activations to the weight type's vec_dot_type (the fast path)
  kFloat = 1,      // dot the weight rows with the float activations directly
};

// y[r] = dot(W row r, x) for r < rows. W holds rows x k elements of type wtype; k must be a
// multiple of its block size. Fails (without touching y) when the table has no kernel for the
// type or the shape is invalid. pool may be null (single-threaded).
Status matvec(const KernelTable& kt, TensorType wtype, const void* w, int64_t rows, int64_t k,
              const float* x, float* y, ThreadPool* pool, Workspace& ws,
              ActivationPath path = ActivationPath::kQuantized);

// y[t * rows + r] = dot(W row r, x row t) for t < n, r < rows; x is n x k row-major floats.
// Work is tiled in blocks of weight rows against all tokens so a block of weights is read from
// memory once per call and reused from cache for every token.
Status matmul(const KernelTable& kt, TensorType wtype, const void* w, int64_t rows, int64_t k,
              const float* x, int64_t n, float* y, ThreadPool* pool, Workspace& ws,
              ActivationPath path = ActivationPath::kQuantized);

}  // namespace pocketlm::kernels
