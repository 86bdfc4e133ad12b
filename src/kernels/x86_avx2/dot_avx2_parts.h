// Private to src/kernels/x86_avx2: the AVX2 dot table is filled by several files, one per family
// of types (float types and the table itself in dot_avx2.cpp).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace pocketlm::kernels::avx2 {

void fill_dot_legacy(DotKernels& t);  // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (dot_avx2_legacy.cpp)
void fill_tile_legacy(DotKernels& t);  // their register tiles (tile_avx2_legacy.cpp)
void fill_dot_k(DotKernels& t);       // Q2_K .. Q6_K (dot_avx2_k.cpp)
void fill_tile_k(DotKernels& t);      // tiles of their matrix-kernel orders (tile_avx2_k.cpp)
void fill_dot_k_f32(DotKernels& t);   // K-quants against float activations (dot_avx2_k_f32.cpp)
void fill_quantize(DotKernels& t);    // activation quantizers (dot_avx2_quantize.cpp)

// llama.cpp's matrix-kernel orders (dot_avx2_k.cpp), which the tiles fall back to.
void vec_dot_q4_k_interleaved_x4(int64_t n, float* s, const void* w, const void* a);
void vec_dot_q6_k_tiled(int64_t n, float* s, const void* w, const void* a);

}  // namespace pocketlm::kernels::avx2
