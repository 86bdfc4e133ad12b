// Scale searches behind the search-based quantizers (quantize_search.h).
//
// Usage:
//   int8_t codes[32];
//   float d = scale_search::fit_symmetric(x, w, 32, -8, 7, scale_search::kWindow4Bit, codes);
//   uint8_t u[32];
//   scale_search::Affine a = scale_search::fit_affine(x, w, 32, 15, false, kWindow4Bit, u);
//
// A group of n values x with importance weights w (w_i >= 0) is to be stored as integer codes and
// a scale (and, for affine grids, an offset). Both fits minimise sum_i w_i (x_i - value_i)^2 over
// every code assignment that rounding x by some inverse scale t produces, for t in a window around
// the natural one (codes spanning the grid): as t grows, each code steps by one at known points
// (x_i * t crosses a half-integer), so sorting those points visits every distinct assignment in
// the window once, and each is scored with its least-squares scale (and offset) in O(1) from
// running sums. That is exhaustive where llama.cpp's make_qx_quants/make_qkx2_quants sample t at
// a few fixed steps, and the affine fit then polishes the winner with a few rounds of
// round-to-nearest / refit (Lloyd iterations), which also move its offset off the group minimum.
//
// Scales come back unrounded; the callers round them to the block's storage (fp16, or integers
// under a super-block scale) and re-round the codes against the stored values.
#pragma once

#include <cstdint>

namespace pocketlm::scale_search {

// The window of inverse scales t searched, as multiples of the natural t = (grid half-width) /
// max|x| (symmetric) or nmax / (max - min) (affine). Wider windows allow more clipping of large
// values, which pays when importance weights favour the small ones -- and when the values come from
// another grid (a file dequantized from a different type), whose best match can lie well off the
// natural scale.
struct Window {
  float lo;
  float hi;
};
inline constexpr Window kWindowLowBit = {0.5f, 1.6f};

// value = scale * code, code in [lo, hi] with lo < 0 < hi. Both signs of the scale are tried (the
// grid is asymmetric, e.g. -8..7, so which end the largest value lands on matters). Returns the
// least-squares scale of the best codes, 0 (codes all 0) for an all-zero group.
float fit_symmetric(const float* x, const float* w, int n, int lo, int hi, Window window,
                    int8_t* codes);

// Lloyd iterations from a given scale: round, refit the least-squares scale, keep it while the
// error drops. For 8-bit grids, where the rounding error is small and an exhaustive sweep would
// visit thousands of breakpoints, this is what the search does. Codes of the result in `codes`.
float refine_symmetric(const float* x, const float* w, int n, int lo, int hi, float scale,
                       int iterations, int8_t* codes);

struct Affine {
  float scale = 0.0f;   // >= 0
  float offset = 0.0f;  // <= 0 when fitted with nonpositive_offset
};

// value = scale * code + offset, code in [0, nmax]. K-quants store the offset as a subtracted
// non-negative minimum, hence `nonpositive_offset`.
Affine fit_affine(const float* x, const float* w, int n, int nmax, bool nonpositive_offset,
                  Window window, uint8_t* codes);

// Nearest code for v, limited to [lo, hi]; ties away from zero. NaN gives 0 clamped into range.
int round_code(float v, int lo, int hi);

// Codes for a fixed stored scale (and offset), and the weighted error of what they reconstruct.
// The value of code q is computed as the dequantizers do: scale * q (+ offset), in float.
void round_symmetric(const float* x, int n, float scale, int lo, int hi, int8_t* codes);
double error_symmetric(const float* x, const float* w, int n, float scale, const int8_t* codes);
void round_affine(const float* x, int n, float scale, float offset, int nmax, uint8_t* codes);
double error_affine(const float* x, const float* w, int n, float scale, float offset,
                    const uint8_t* codes);

}  // namespace pocketlm::scale_search
