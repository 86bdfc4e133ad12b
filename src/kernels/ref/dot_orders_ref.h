// Scalar models of the float orders in which llama.cpp's x86 AVX2 build computes some K-quant dot
// products: exact integer dots, then the float steps in llama.cpp's order. They are what the
// AVX2 kernels that mirror those orders are tested against, bit for bit; they are not entries of
// the reference table (its K-quant dots stay the plain truth, and other ISAs do not follow x86's
// orders).
//
// Usage:
//   float s;
//   ref::vec_dot_q4_k_interleaved(n, &s, q4k_row, q8k_row);
#pragma once

#include <cstdint>

namespace pocketlm::kernels::ref {

// Q4_K weights repacked into 8-row interleaved blocks, one activation row at a time (llama.cpp's
// q4_K_8x8 gemv): per super-block b, the sub-block dots weighted by their scales and the
// sub-block activation sums weighted by the mins are two exact integers;
// acc = fma(float(dots), d_b * dy_b, acc) and acc_min = fma(float(mins), dmin_b * dy_b, acc_min)
// run over the super-blocks; s = acc - acc_min.
void vec_dot_q4_k_interleaved(int64_t n, float* s, const void* w, const void* a);

// The same weights four activation rows at a time (its gemm): as above, but the integers and the
// two fused multiply-adds are per pair of sub-blocks (four per super-block).
void vec_dot_q4_k_interleaved_x4(int64_t n, float* s, const void* w, const void* a);

// Q6_K in the tiled K-quant matrix kernel (batches of 8 rows or more): per super-block the whole
// dot sum(scale_j * sum((q - 32) * a)) is one exact integer i_b; s = sum over b of
// fma(d_b * float(i_b), dy_b, s), in order.
void vec_dot_q6_k_tiled(int64_t n, float* s, const void* w, const void* a);

}  // namespace pocketlm::kernels::ref
