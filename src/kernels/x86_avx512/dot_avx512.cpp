// AVX-512 dot products (F, BW, VL, DQ, and VNNI where the CPU has it). The table starts from the
// AVX2 one (dispatch.cpp), so types not widened here keep their AVX2 kernels.
//
// - 32-element block types: two blocks per 512-bit register. VNNI's dpbusd multiplies unsigned by
//   signed bytes and sums 4 products straight into int32, so the weights are fed unsigned and
//   their zero point is removed afterwards: sum((q - o) * a) = sum(q * a) - sum(o * a), the second
//   term a dpbusd of the constant o. Q8_0 becomes unsigned by flipping the sign bit (o = 128),
//   which stays exact for every int8 value, -128 included.
// - K-quants: 64 elements per register (one Q4_K/Q5_K sub-block pair, or two Q6_K groups of 32),
//   maddubs into int16 and madd with the sub-block scales, spread over lanes by one permute.
//   Q6_K's -32 is applied through bsums as in the AVX2 kernels.
// - Activation quantizers for Q8_0 and Q8_K, byte-identical to the scalar ones (see the AVX2
//   quantizers for the rounding argument).
#include "kernels/x86_avx512/simd_avx512.h"  // first: may rename fill_dot_avx512 (SIMDe tests)

#include <cstdint>

#include "core/cpu_features.h"
#include "kernels/kernels.h"
#include "kernels/ref/kquant_scales.h"
#include "kernels/x86_avx2/simd_avx2.h"
#include "quant/blocks.h"
#include "quant/types.h"

namespace pocketlm::kernels {
namespace {

// ---- float types ----

struct LoadF32 {
  static __m512 load16(const void* p, int64_t i) {
    return _mm512_loadu_ps(static_cast<const float*>(p) + i);
  }
  static __m256 load8(const void* p, int64_t i) {
    return _mm256_loadu_ps(static_cast<const float*>(p) + i);
  }
  static float load1(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
};
struct LoadF16 {
  static __m512 load16(const void* p, int64_t i) {
    return avx512_cvtph_ps(avx2_load(static_cast<const uint16_t*>(p) + i));
  }
  static __m256 load8(const void* p, int64_t i) {
    return _mm256_cvtph_ps(avx2_load128(static_cast<const uint16_t*>(p) + i));
  }
  static float load1(const void* p, int64_t i) {
    return avx2_half_to_float(static_cast<const uint16_t*>(p)[i]);
  }
};

template <typename LoadW, typename LoadA>
float dot_float_types(int64_t n, const void* w, const void* a) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm512_fmadd_ps(LoadW::load16(w, i), LoadA::load16(a, i), acc0);
    acc1 = _mm512_fmadd_ps(LoadW::load16(w, i + 16), LoadA::load16(a, i + 16), acc1);
    acc2 = _mm512_fmadd_ps(LoadW::load16(w, i + 32), LoadA::load16(a, i + 32), acc2);
    acc3 = _mm512_fmadd_ps(LoadW::load16(w, i + 48), LoadA::load16(a, i + 48), acc3);
  }
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm512_fmadd_ps(LoadW::load16(w, i), LoadA::load16(a, i), acc0);
  }
  const __m512 acc = _mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3));
  __m256 acc8 = _mm256_add_ps(avx512_lo256(acc), avx512_hi256(acc));
  for (; i + 8 <= n; i += 8) acc8 = _mm256_fmadd_ps(LoadW::load8(w, i), LoadA::load8(a, i), acc8);
  float sum = avx2_hsum(acc8);
  for (; i < n; ++i) sum += LoadW::load1(w, i) * LoadA::load1(a, i);
  return sum;
}

void vec_dot_f32(int64_t n, float* s, const void* w, const void* a) {
  *s = dot_float_types<LoadF32, LoadF32>(n, w, a);
}
void vec_dot_f16(int64_t n, float* s, const void* w, const void* a) {
  *s = dot_float_types<LoadF16, LoadF16>(n, w, a);
}
void vec_dot_f32_weights_f32(int64_t n, float* s, const void* w, const float* a) {
  *s = dot_float_types<LoadF32, LoadF32>(n, w, a);
}
void vec_dot_f32_weights_f16(int64_t n, float* s, const void* w, const float* a) {
  *s = dot_float_types<LoadF16, LoadF32>(n, w, a);
}

// ---- 32-element block types (VNNI) ----

// Each type gives its 32 quants as unsigned bytes in element order and the zero point kOffset
// that the format subtracts from them; kHasMin types add m per element instead.
struct Q4_0 {
  using Block = BlockQ4_0;
  using Act = BlockQ8_0;
  static constexpr int kOffset = 8;
  static constexpr bool kHasMin = false;
  static __m256i quants(const Block& b) { return avx2_nibbles_32(b.qs); }
};
struct Q4_1 {
  using Block = BlockQ4_1;
  using Act = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static __m256i quants(const Block& b) { return avx2_nibbles_32(b.qs); }
};
inline __m256i q5_quants(const uint8_t* qs, const uint8_t* qh) {
  const __m256i high = avx2_bits_to_bytes(avx2_load_u32(qh));
  return _mm256_or_si256(avx2_nibbles_32(qs), _mm256_and_si256(high, _mm256_set1_epi8(0x10)));
}
struct Q5_0 {
  using Block = BlockQ5_0;
  using Act = BlockQ8_0;
  static constexpr int kOffset = 16;
  static constexpr bool kHasMin = false;
  static __m256i quants(const Block& b) { return q5_quants(b.qs, b.qh); }
};
struct Q5_1 {
  using Block = BlockQ5_1;
  using Act = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static __m256i quants(const Block& b) { return q5_quants(b.qs, b.qh); }
};
struct Q8_0 {
  using Block = BlockQ8_0;
  using Act = BlockQ8_0;
  static constexpr int kOffset = 128;
  static constexpr bool kHasMin = false;
  static __m256i quants(const Block& b) {
    return _mm256_xor_si256(avx2_load(b.qs), _mm256_set1_epi8(static_cast<char>(0x80)));
  }
};

template <typename Q>
float block_scale(const typename Q::Block& x, const typename Q::Act& y) {
  return avx2_half_to_float(x.d) * avx2_half_to_float(y.d);
}
template <typename Q>
float block_min(const typename Q::Block& x, const typename Q::Act& y) {
  if constexpr (Q::kHasMin) {
    return avx2_half_to_float(x.m) * avx2_half_to_float(y.s);
  } else {
    (void)x;
    (void)y;
    return 0.0f;
  }
}

// Blocks b and b+1: acc += [d0 x8, d1 x8] * dot lanes.
template <typename Q>
__m512 accumulate_pair(const typename Q::Block* x, const typename Q::Act* y, __m512 acc,
                       float& mins) {
  const __m512i qx = avx512_join(Q::quants(x[0]), Q::quants(x[1]));
  const __m512i qy = avx512_join(avx2_load(y[0].qs), avx2_load(y[1].qs));
  __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), qx, qy);
  if constexpr (Q::kOffset != 0) {
    const __m512i offset = _mm512_set1_epi8(static_cast<char>(Q::kOffset));
    dot = _mm512_sub_epi32(dot, _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, qy));
  }
  if constexpr (Q::kHasMin) mins += block_min<Q>(x[0], y[0]) + block_min<Q>(x[1], y[1]);
  const __m512 d = avx512_join(_mm256_set1_ps(block_scale<Q>(x[0], y[0])),
                               _mm256_set1_ps(block_scale<Q>(x[1], y[1])));
  return _mm512_fmadd_ps(avx512_cvtepi32_ps(dot), d, acc);
}

// A last odd block, with the 256-bit form of the same instructions.
template <typename Q>
__m256 accumulate_one(const typename Q::Block& x, const typename Q::Act& y, __m256 acc,
                      float& mins) {
  const __m256i qy = avx2_load(y.qs);
  __m256i dot = _mm256_dpbusd_epi32(_mm256_setzero_si256(), Q::quants(x), qy);
  if constexpr (Q::kOffset != 0) {
    const __m256i offset = _mm256_set1_epi8(static_cast<char>(Q::kOffset));
    dot = _mm256_sub_epi32(dot, _mm256_dpbusd_epi32(_mm256_setzero_si256(), offset, qy));
  }
  if constexpr (Q::kHasMin) mins += block_min<Q>(x, y);
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(block_scale<Q>(x, y)), acc);
}

template <typename Q>
void vec_dot_blocks(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const typename Q::Block*>(w);
  const auto* y = static_cast<const typename Q::Act*>(a);
  const int64_t nb = n / 32;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  float mins = 0.0f;
  int64_t b = 0;
  for (; b + 4 <= nb; b += 4) {
    acc0 = accumulate_pair<Q>(x + b, y + b, acc0, mins);
    acc1 = accumulate_pair<Q>(x + b + 2, y + b + 2, acc1, mins);
  }
  if (b + 2 <= nb) {
    acc0 = accumulate_pair<Q>(x + b, y + b, acc0, mins);
    b += 2;
  }
  const __m512 acc = _mm512_add_ps(acc0, acc1);
  __m256 acc8 = _mm256_add_ps(avx512_lo256(acc), avx512_hi256(acc));
  if (b < nb) acc8 = accumulate_one<Q>(x[b], y[b], acc8, mins);
  *s = avx2_hsum(acc8) + mins;
}

// ---- K-quants ----

// Lane l of 32 int16 lanes -> l / 8 and l / 16: with permutexvar_epi16 these spread 16 int16
// scales over the pair lanes of maddubs results (16-element groups, 32-element sub-blocks).
alignas(64) constexpr int16_t kLaneDiv8[32] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                               2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
alignas(64) constexpr int16_t kLaneDiv16[32] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

// int16 scales for 64 elements whose scale index is first + lane / (8 or 16).
inline __m512i spread_scales(__m512i scales16, const int16_t* lane_div, int first) {
  const __m512i idx =
      _mm512_add_epi16(avx512_load(lane_div), _mm512_set1_epi16(static_cast<int16_t>(first)));
  return _mm512_permutexvar_epi16(idx, scales16);
}

// 16-bit lane shift counts: a in the low 256 bits, b in the high.
inline __m512i shifts(int a, int b) {
  return avx512_join(_mm256_set1_epi16(static_cast<int16_t>(a)),
                     _mm256_set1_epi16(static_cast<int16_t>(b)));
}

// Q4_K/Q5_K: scales (int16, lanes 0..7 of the result) and the min term for one super-block.
inline __m512i k45_scales(const uint8_t packed[12], const BlockQ8_K& y, int32_t* min_dot) {
  uint8_t sm[16];
  unpack_q4_k_scales(packed, sm);
  const __m256i sm16 = _mm256_cvtepu8_epi16(avx2_load128(sm));  // scales, then mins
  const __m256i bsums = avx2_load(y.bsums);
  const __m128i sums32 =
      _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
  __m128i m = _mm_madd_epi16(_mm256_extracti128_si256(sm16, 1), sums32);
  m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0x4e));
  m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0xb1));
  *min_dot = _mm_cvtsi128_si32(m);
  return avx512_join(sm16, sm16);
}

template <bool kFiveBit, typename Block>
void vec_dot_q45_k(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  const __m512i nibble_shift = shifts(0, 4);  // low nibbles in the low half, high in the high
  __m512 acc = _mm512_setzero_ps();
  float mins = 0.0f;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int32_t min_dot = 0;
    const __m512i scales = k45_scales(x[b].scales, y[b], &min_dot);
    mins += y[b].d * avx2_half_to_float(x[b].dmin) * static_cast<float>(min_dot);
    __m512i high = _mm512_setzero_si512();
    if constexpr (kFiveBit) high = avx512_dup256(x[b].qh);
    __m512i sumi = _mm512_setzero_si512();
    for (int j = 0; j < 4; ++j) {
      __m512i q =
          _mm512_and_si512(_mm512_srlv_epi16(avx512_dup256(x[b].qs + 32 * j), nibble_shift), m4);
      if constexpr (kFiveBit) {
        // Run j takes its 5th bits from bit 2j (low nibbles) and 2j+1 (high nibbles) of qh.
        const __m512i h = _mm512_and_si512(_mm512_srlv_epi16(high, shifts(2 * j, 2 * j + 1)),
                                           _mm512_set1_epi8(1));
        q = _mm512_or_si512(q, _mm512_slli_epi16(h, 4));
      }
      const __m512i p = _mm512_maddubs_epi16(q, avx512_load(y[b].qs + 64 * j));
      sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(p, spread_scales(scales, kLaneDiv16, 2 * j)));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(y[b].d * avx2_half_to_float(x[b].d)),
                          avx512_cvtepi32_ps(sumi), acc);
  }
  *s = avx512_hsum(acc) - mins;
}

void vec_dot_q6_k(int64_t n, float* s, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  const __m512i m30 = _mm512_set1_epi8(0x30);
  // Elements 0..31 / 32..63 of each half take qh bit pairs 0 / 1 (register A), 64..95 / 96..127
  // pairs 2 / 3 (register B); these shifts bring each pair to bits 4..5.
  const __m512i shift_a = shifts(4, 2);
  const __m512i shift_b = shifts(0, 2);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m256i scales = _mm256_cvtepi8_epi16(avx2_load128(x[b].scales));
    const __m256i bias = _mm256_madd_epi16(scales, avx2_load(y[b].bsums));  // quants taken +32
    const __m512i scales16 = avx512_join(scales, scales);
    __m512i sumi = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      const __m512i l = avx512_load(x[b].ql + 64 * h);
      const __m512i hb = avx512_dup256(x[b].qh + 32 * h);
      const __m512i qa = _mm512_or_si512(_mm512_and_si512(l, m4),
                                         _mm512_and_si512(_mm512_sllv_epi16(hb, shift_a), m30));
      const __m512i qb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                         _mm512_and_si512(_mm512_srlv_epi16(hb, shift_b), m30));
      const __m512i pa = _mm512_maddubs_epi16(qa, avx512_load(y[b].qs + 128 * h));
      const __m512i pb = _mm512_maddubs_epi16(qb, avx512_load(y[b].qs + 128 * h + 64));
      sumi =
          _mm512_add_epi32(sumi, _mm512_madd_epi16(pa, spread_scales(scales16, kLaneDiv8, 8 * h)));
      sumi = _mm512_add_epi32(sumi,
                              _mm512_madd_epi16(pb, spread_scales(scales16, kLaneDiv8, 8 * h + 4)));
    }
    const __m256i total = _mm256_sub_epi32(_mm256_add_epi32(avx512_lo256(sumi), avx512_hi256(sumi)),
                                           _mm256_slli_epi32(bias, 5));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(avx2_half_to_float(x[b].d) * y[b].d),
                          _mm256_cvtepi32_ps(total), acc);
  }
  *s = avx2_hsum(acc);
}

// ---- activation quantizers ----

inline uint16_t float_to_half(float f) {
  return static_cast<uint16_t>(
      _mm_cvtsi128_si32(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT)) & 0xffff);
}

void quantize_q8_0(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const __m512 v0 = _mm512_loadu_ps(x + 32 * b);
    const __m512 v1 = _mm512_loadu_ps(x + 32 * b + 16);
    // llama.cpp's x86 rounding (see dot_avx2_quantize.cpp): 127 / amax, nearest even.
    const float amax = avx512_hmax(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    y[b].d = float_to_half(d);
    const __m512 idv = _mm512_set1_ps(id);
    const __m512i q0 = avx512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v0, idv),
                                                               _MM_FROUND_TO_NEAREST_INT));
    const __m512i q1 = avx512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v1, idv),
                                                               _MM_FROUND_TO_NEAREST_INT));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs), _mm512_cvtsepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + 16), _mm512_cvtsepi32_epi8(q1));
  }
}

void quantize_q8_k(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + kQK_K * b;
    __m512 amax16 = _mm512_setzero_ps();
    for (int i = 0; i < kQK_K; i += 16) {
      amax16 = _mm512_max_ps(amax16, _mm512_abs_ps(_mm512_loadu_ps(xb + i)));
    }
    const float amax = avx512_hmax(amax16);
    if (amax == 0.0f) {
      y[b].d = 0.0f;
      for (int i = 0; i < kQK_K; i += 64) _mm512_storeu_si512(y[b].qs + i, _mm512_setzero_si512());
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[b].bsums), _mm256_setzero_si256());
      continue;
    }
    // The scale follows the first element of largest magnitude, sign included.
    int first = 0;
    for (int i = 0; i < kQK_K; i += 16) {
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(xb + i)),
                                               _mm512_set1_ps(amax), _CMP_EQ_OQ);
      if (hit) {
        first = i + __builtin_ctz(static_cast<unsigned>(hit));
        break;
      }
    }
    const float iscale = -127.0f / xb[first];
    const __m512 is = _mm512_set1_ps(iscale);
    for (int i = 0; i < kQK_K; i += 16) {
      const __m512i q = avx512_cvtps_epi32(_mm512_mul_ps(is, _mm512_loadu_ps(xb + i)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y[b].qs + i), _mm512_cvtsepi32_epi8(q));
    }
    avx2_sums_of_16(y[b].qs, y[b].bsums);
    avx2_sums_of_16(y[b].qs + 128, y[b].bsums + 8);
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace

void fill_dot_avx512(DotKernels& t) {
  using T = TensorType;
  t.vec_dot[static_cast<int>(T::kF32)] = vec_dot_f32;
  t.vec_dot[static_cast<int>(T::kF16)] = vec_dot_f16;
  t.vec_dot_f32[static_cast<int>(T::kF32)] = vec_dot_f32_weights_f32;
  t.vec_dot_f32[static_cast<int>(T::kF16)] = vec_dot_f32_weights_f16;
  t.vec_dot[static_cast<int>(T::kQ4_K)] = vec_dot_q45_k<false, BlockQ4_K>;
  t.vec_dot[static_cast<int>(T::kQ5_K)] = vec_dot_q45_k<true, BlockQ5_K>;
  t.vec_dot[static_cast<int>(T::kQ6_K)] = vec_dot_q6_k;
  t.quantize_act[static_cast<int>(T::kQ8_0)] = quantize_q8_0;
  t.quantize_act[static_cast<int>(T::kQ8_K)] = quantize_q8_k;

  // dpbusd needs AVX512-VNNI, which the AVX-512 table as such does not require (Skylake-X has
  // F/BW/VL/DQ without it): those CPUs keep the AVX2 kernels of the 32-element block types.
#if defined(POCKETLM_AVX512_VIA_SIMDE)
  const bool vnni = true;  // emulated
#else
  const bool vnni = cpu_features().avx512vnni;
#endif
  if (vnni) {
    t.vec_dot[static_cast<int>(T::kQ4_0)] = vec_dot_blocks<Q4_0>;
    t.vec_dot[static_cast<int>(T::kQ4_1)] = vec_dot_blocks<Q4_1>;
    t.vec_dot[static_cast<int>(T::kQ5_0)] = vec_dot_blocks<Q5_0>;
    t.vec_dot[static_cast<int>(T::kQ5_1)] = vec_dot_blocks<Q5_1>;
    t.vec_dot[static_cast<int>(T::kQ8_0)] = vec_dot_blocks<Q8_0>;
    // The AVX2 tiles inherited from the table below take the AVX2 dots' order, not these.
    for (T type : {T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1, T::kQ8_0}) {
      t.vec_dot_tile[static_cast<int>(type)] = nullptr;
    }
  }
}

}  // namespace pocketlm::kernels
