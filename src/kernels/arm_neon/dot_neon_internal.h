// The NEON dot-product kernels, one function per (weight type, activation type) pair, spread over
// dot_neon*.cpp by block family; fill_dot_neon (dot_neon.cpp) puts them into the table.
// Private to src/kernels/arm_neon/. Semantics are those of kernels.h (VecDotFn, VecDotF32Fn,
// QuantizeRowFn): n is a multiple of the weight type's block size.
#pragma once

#include <cstdint>

namespace pocketlm::kernels::neon {

// dot_neon_legacy.cpp: 32-element blocks against Q8_0 / Q8_1 activations.
void vec_dot_q4_0_q8_0(int64_t n, float* s, const void* w, const void* a);
void vec_dot_q4_1_q8_1(int64_t n, float* s, const void* w, const void* a);
void vec_dot_q5_0_q8_0(int64_t n, float* s, const void* w, const void* a);
void vec_dot_q5_1_q8_1(int64_t n, float* s, const void* w, const void* a);
void vec_dot_q8_0_q8_0(int64_t n, float* s, const void* w, const void* a);

// dot_neon_kquants.cpp: 256-element super-blocks against Q8_K activations.
void vec_dot_q2_K_q8_K(int64_t n, float* s, const void* w, const void* a);
void vec_dot_q3_K_q8_K(int64_t n, float* s, const void* w, const void* a);
void vec_dot_q4_K_q8_K(int64_t n, float* s, const void* w, const void* a);
void vec_dot_q5_K_q8_K(int64_t n, float* s, const void* w, const void* a);
void vec_dot_q6_K_q8_K(int64_t n, float* s, const void* w, const void* a);

// dot_neon_f32.cpp: weight rows against float activations (no activation quantization).
void vec_dot_f32_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_f16_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_bf16_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q4_0_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q4_1_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q5_0_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q5_1_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q8_0_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q2_K_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q3_K_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q4_K_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q5_K_f32(int64_t n, float* s, const void* w, const float* a);
void vec_dot_q6_K_f32(int64_t n, float* s, const void* w, const float* a);

}  // namespace pocketlm::kernels::neon
