// Compute kernels: plain functions over raw pointers, one table per instruction set.
//
// Usage:
//   const KernelTable& k = active_kernels();               // best table for this CPU, chosen once
//   k.dot.quantize_act[int(TensorType::kQ8_0)](x, xq, n); // activations -> the weight's pair type
//   float s; k.dot.vec_dot[int(TensorType::kQ4_0)](n, &s, w_row, xq);
//   k.ops.rms_norm(y, x, weight, n, 1e-5f);
//
// Every table starts as a copy of the scalar reference (ref/) and each ISA overrides the entries
// it accelerates, so a missing SIMD variant falls back to the truth instead of crashing. Tests run
// every table the host can execute against ref/. POCKETLM_ISA=ref|avx2|avx512|neon in the
// environment forces a table (for tests and benchmarks); an unknown or unrunnable value is ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "quant/types.h"

namespace pocketlm::kernels {

enum class Isa : int { kRef = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };
const char* isa_name(Isa isa);

// s = dot(weight row w of the table's type, activation row a already in that type's
// vec_dot_type); n elements, a multiple of the block size.
using VecDotFn = void (*)(int64_t n, float* s, const void* w, const void* a);
// s = dot(weight row w, float activations a).
using VecDotF32Fn = void (*)(int64_t n, float* s, const void* w, const float* a);
// Quantize n float activations into an activation type (Q8_0, Q8_1, Q8_K, F16, BF16, F32).
using QuantizeRowFn = void (*)(const float* x, void* y, int64_t n);
// A block of outputs at once: y[t * y_stride + r] = dot(weight row r, activation row t) for
// r < n_rows, t < n_tok, k elements each; rows are w_row_bytes and a_row_bytes apart. Each output
// is computed with exactly the float operations of the type's vec_dot, so results do not depend
// on the tiling; what is shared is the loading and decoding of blocks, and independent
// accumulators hide the latency that a single dot's one accumulator chain exposes.
using VecDotTileFn = void (*)(int64_t k, const void* w, size_t w_row_bytes, int64_t n_rows,
                              const void* a, size_t a_row_bytes, int64_t n_tok, float* y,
                              int64_t y_stride);

inline constexpr int64_t kInterleavedRows = 8;
inline constexpr int64_t kTiledMinRows = 8;

struct DotKernels {
  VecDotFn vec_dot[kTensorTypeIdLimit] = {};          // by weight type id
  // F16 x F16 in the order of a tiled matrix-matrix kernel (one 8-lane accumulator per output,
  // then a horizontal sum), which llama.cpp uses when a batch has two or more rows; vec_dot[F16]
  // has the order of its one-row kernel. n must be a multiple of 8.
  VecDotFn vec_dot_f16_tiled = nullptr;
  // vec_dot_f16_tiled for many rows at once (VecDotTileFn), where a table has it; a table that
  // replaces vec_dot_f16_tiled must replace or clear this too. Attention's score and value dots.
  VecDotTileFn vec_dot_f16_tiled_tile = nullptr;
  // Per-output orders of llama.cpp's matrix kernels where they differ from vec_dot's, by weight
  // type; null where this table has none (matmul() then uses vec_dot). Their activations are
  // vec_dot's (the same quantizer), only the order of the float operations differs.
  //  - interleaved: weights llama.cpp repacks at load into blocks interleaving 8 rows (AVX2:
  //    Q4_K), in matrices of a multiple of kInterleavedRows rows. It takes the activation rows
  //    of a batch four at a time (_x4) and the last n % 4 one at a time (no suffix);
  //  - tiled: its tiled K-quant matrix kernel (AVX2: Q6_K), for batches of kTiledMinRows rows or
  //    more.
  VecDotFn vec_dot_interleaved[kTensorTypeIdLimit] = {};
  VecDotFn vec_dot_interleaved_x4[kTensorTypeIdLimit] = {};
  VecDotFn vec_dot_tiled[kTensorTypeIdLimit] = {};
  // The same two orders for many outputs at once (VecDotTileFn), where a table has them; a table
  // that replaces one of the orders above must replace or clear its tile too.
  VecDotTileFn vec_dot_interleaved_x4_tile[kTensorTypeIdLimit] = {};
  VecDotTileFn vec_dot_tiled_tile[kTensorTypeIdLimit] = {};
  // vec_dot[type] for many outputs at once (VecDotTileFn), where a table has it. A table that
  // replaces vec_dot[type] must replace or clear this entry too, since they must agree.
  VecDotTileFn vec_dot_tile[kTensorTypeIdLimit] = {};
  VecDotF32Fn vec_dot_f32[kTensorTypeIdLimit] = {};   // by weight type id
  QuantizeRowFn quantize_act[kTensorTypeIdLimit] = {};  // by activation type id
};

enum class RopeStyle : int {
  kNormal = 0,  // rotate adjacent pairs (x[2i], x[2i+1]): Llama-style GGUF weights
  kNeox = 1,    // rotate halves (x[i], x[i + n_rot/2]): GPT-NeoX, Gemma, Qwen, Phi-3
};

struct OpKernels {
  // y = x / sqrt(mean(x^2) + eps) * w; w may be null (no weight). y may alias x.
  void (*rms_norm)(float* y, const float* x, const float* w, int64_t n, float eps) = nullptr;
  // In place, max-subtracted; a row of all -inf becomes all zeros rather than NaN.
  void (*softmax)(float* x, int64_t n) = nullptr;
  // Rotates the first n_rot dims of each of n_heads heads of length head_dim (stored back to
  // back) by the angles whose cosines and sines are given (n_rot / 2 of each, for one position).
  void (*rope)(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cos_theta,
               const float* sin_theta, RopeStyle style) = nullptr;
  void (*silu)(float* y, const float* x, int64_t n) = nullptr;       // x * sigmoid(x)
  void (*gelu_tanh)(float* y, const float* x, int64_t n) = nullptr;  // tanh approximation
  void (*swiglu)(float* y, const float* gate, const float* up, int64_t n) = nullptr;  // silu(g)*u
  void (*geglu_tanh)(float* y, const float* gate, const float* up, int64_t n) = nullptr;
  // GELU (tanh) looked up in a table of fp16 results indexed by the input rounded to fp16, with
  // inputs <= -10 giving 0 and >= 10 themselves: llama.cpp's CPU gelu and geglu, which the
  // transformer uses so its FFN rounds as llama.cpp's does. The table is computed once, on first
  // use; the same on every ISA.
  void (*gelu_tanh_fp16)(float* y, const float* x, int64_t n) = nullptr;
  void (*geglu_tanh_fp16)(float* y, const float* gate, const float* up, int64_t n) = nullptr;
  void (*add)(float* y, const float* a, const float* b, int64_t n) = nullptr;
  void (*mul)(float* y, const float* a, const float* b, int64_t n) = nullptr;
  void (*scale)(float* y, const float* x, float s, int64_t n) = nullptr;
  void (*axpy)(float* y, const float* x, float a, int64_t n) = nullptr;  // y += a * x
  float (*dot_f32)(const float* a, const float* b, int64_t n) = nullptr;
};

struct KernelTable {
  Isa isa = Isa::kRef;
  DotKernels dot;
  OpKernels ops;
};

// Each ISA folder provides these; dispatch.cpp calls the ones compiled for the target.
void fill_dot_ref(DotKernels& t);
void fill_ops_ref(OpKernels& t);
void fill_dot_avx2(DotKernels& t);
void fill_ops_avx2(OpKernels& t);
void fill_dot_avx512(DotKernels& t);
void fill_ops_avx512(OpKernels& t);
void fill_dot_neon(DotKernels& t);
void fill_ops_neon(OpKernels& t);

// The table for `isa`, or nullptr when it is not compiled in or this CPU cannot run it.
const KernelTable* kernel_table(Isa isa);
// Tables this host can run, reference first.
std::vector<Isa> runnable_isas();
// The best runnable table (or the one POCKETLM_ISA names), chosen once at first use.
const KernelTable& active_kernels();

}  // namespace pocketlm::kernels
