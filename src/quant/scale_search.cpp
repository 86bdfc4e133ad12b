#include "quant/scale_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace pocketlm::scale_search {
namespace {

constexpr int kMaxGroup = 256;

// An event -- code of element i reaches level k (in magnitude) once the inverse scale passes t --
// packed into one integer whose order is (t, k, i): t > 0, so its float bits order as it does.
// Sorting plain integers is several times faster than sorting structs with a comparator, and the
// sort is most of a group's cost.
inline uint64_t event_key(float t, int k, int i) {
  uint32_t bits;
  std::memcpy(&bits, &t, 4);
  return (static_cast<uint64_t>(bits) << 32) | (static_cast<uint64_t>(k) << 16) |
         static_cast<uint64_t>(i);
}
inline float event_t(uint64_t e) {
  const uint32_t bits = static_cast<uint32_t>(e >> 32);
  float t;
  std::memcpy(&t, &bits, 4);
  return t;
}
inline int event_k(uint64_t e) { return static_cast<int>((e >> 16) & 0xffff); }
inline int event_i(uint64_t e) { return static_cast<int>(e & 0xffff); }

// Events of magnitudes a[i] >= 0 from level c0[i] + 1 up to `top` while t <= t1, sorted.
void collect_events(const float* a, int n, const int* c0, int top, float t1,
                    std::vector<uint64_t>& ev) {
  ev.clear();
  for (int i = 0; i < n; ++i) {
    if (!(a[i] > 0.0f)) continue;
    const float inv = 1.0f / a[i];
    for (int k = c0[i] + 1; k <= top; ++k) {
      const float t = (static_cast<float>(k) - 0.5f) * inv;
      if (t > t1) break;
      ev.push_back(event_key(t, k, i));
    }
  }
  std::sort(ev.begin(), ev.end());
}

// Running state of one sweep of a symmetric grid: codes and the sums that score them.
struct SymState {
  int c[kMaxGroup];
  double sxl = 0.0;  // sum w y c
  double sll = 0.0;  // sum w c^2
  double best = -1.0;
  size_t best_events = 0;

  void score(size_t applied) {
    if (sll > 0.0 && sxl > 0.0) {
      const double obj = sxl * sxl / sll;
      // A relative margin keeps an earlier (larger-scale) state on a tie: exact ties happen when
      // the values lie on a grid (codes k and 2k fit equally), and the larger scale is the one the
      // second level of the K-quants can represent.
      if (obj > best * (1.0 + 1e-9)) {
        best = obj;
        best_events = applied;
      }
    }
  }
};

struct AffineSums {
  double sw = 0, sx = 0, sxx = 0;   // fixed by the group
  double sc = 0, scc = 0, sxc = 0;  // change with the codes
};

// Least-squares scale and offset of codes whose sums are `s`, with the error they leave.
bool solve_affine(const AffineSums& s, bool nonpositive_offset, double* d, double* m, double* err) {
  const double det = s.scc * s.sw - s.sc * s.sc;
  double dd = 0.0;
  double mm = 0.0;
  if (det > 1e-12 * s.scc * s.sw) {
    dd = (s.sw * s.sxc - s.sc * s.sx) / det;
    mm = (s.scc * s.sx - s.sc * s.sxc) / det;
  } else if (nonpositive_offset) {
    // Every code equal (a constant group): the scale alone carries it.
    mm = 1.0;  // forces the scale-only fit below
  } else {
    return false;  // any scale fits; the callers' reference rounding covers this case
  }
  if (nonpositive_offset && mm > 0.0) {
    mm = 0.0;
    dd = s.scc > 0.0 ? s.sxc / s.scc : 0.0;
  }
  if (!(dd > 0.0)) return false;
  *d = dd;
  *m = mm;
  *err = s.sxx - 2.0 * dd * s.sxc - 2.0 * mm * s.sx + dd * dd * s.scc + 2.0 * dd * mm * s.sc +
         mm * mm * s.sw;
  return true;
}

AffineSums affine_sums(const float* x, const float* w, int n, const int* c) {
  AffineSums s;
  for (int i = 0; i < n; ++i) {
    const double wi = w[i];
    s.sw += wi;
    s.sx += wi * x[i];
    s.sxx += wi * x[i] * x[i];
    s.sc += wi * c[i];
    s.scc += wi * c[i] * c[i];
    s.sxc += wi * x[i] * c[i];
  }
  return s;
}

}  // namespace

int round_code(float v, int lo, int hi) {
  if (!(v > static_cast<float>(lo))) return v == v ? lo : std::clamp(0, lo, hi);
  if (v >= static_cast<float>(hi)) return hi;
  return static_cast<int>(std::round(v));
}

float fit_symmetric(const float* x, const float* w, int n, int lo, int hi, Window window,
                    int8_t* codes) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  if (!(amax > 0.0f) || !std::isfinite(amax) || n > kMaxGroup) {
    for (int i = 0; i < n; ++i) codes[i] = 0;
    return 0.0f;
  }
  // Both signs of the scale are swept at once over one sorted event list: element i's code
  // magnitude steps at the same t either way, only the end of the grid it stops at differs
  // (hi when its value has the scale's sign, -lo when not).
  thread_local std::vector<uint64_t> ev;
  float a[kMaxGroup];
  int c0[kMaxGroup];
  // The window runs from the smaller end of the grid (hi for -8..7) to beyond the larger one.
  const float t0 = window.lo * static_cast<float>(hi) / amax;
  const float t1 = window.hi * static_cast<float>(-lo) / amax;
  const int top = std::max(hi, -lo);
  SymState st[2];  // [0]: positive scale, [1]: negative
  for (int i = 0; i < n; ++i) {
    a[i] = std::fabs(x[i]);
    // At t0 nothing reaches either end of the grid (t0 * amax <= hi), so no clamping.
    c0[i] = round_code(a[i] * t0, 0, top);
    for (int s = 0; s < 2; ++s) {
      const bool same_sign = (x[i] >= 0.0f) == (s == 0);
      const int ci = std::min(c0[i], same_sign ? hi : -lo);
      st[s].c[i] = ci;
      st[s].sxl += static_cast<double>(w[i]) * a[i] * ci;
      st[s].sll += static_cast<double>(w[i]) * ci * ci;
    }
  }
  collect_events(a, n, c0, top, t1, ev);
  st[0].score(0);
  st[1].score(0);
  for (size_t e = 0; e < ev.size();) {
    const uint32_t tbits = static_cast<uint32_t>(ev[e] >> 32);
    for (; e < ev.size() && static_cast<uint32_t>(ev[e] >> 32) == tbits; ++e) {
      const int i = event_i(ev[e]);
      const int k = event_k(ev[e]);
      for (int s = 0; s < 2; ++s) {
        const bool same_sign = (x[i] >= 0.0f) == (s == 0);
        if (k > (same_sign ? hi : -lo)) continue;  // that end of the grid is reached
        st[s].sxl += static_cast<double>(w[i]) * a[i];
        st[s].sll += static_cast<double>(w[i]) * (2 * k - 1);
        st[s].c[i] = k;
      }
    }
    st[0].score(e);
    st[1].score(e);
  }
  const int side = st[1].best > st[0].best * (1.0 + 1e-9) ? 1 : 0;
  if (st[side].best < 0.0) {
    for (int i = 0; i < n; ++i) codes[i] = 0;
    return 0.0f;
  }
  // Replay the winner up to its best state. Codes carry the sign of their value, flipped for a
  // negative scale.
  int c[kMaxGroup];
  for (int i = 0; i < n; ++i) {
    const bool same_sign = (x[i] >= 0.0f) == (side == 0);
    c[i] = std::min(c0[i], same_sign ? hi : -lo);
  }
  for (size_t e = 0; e < st[side].best_events; ++e) {
    const int i = event_i(ev[e]);
    const int k = event_k(ev[e]);
    const bool same_sign = (x[i] >= 0.0f) == (side == 0);
    if (k <= (same_sign ? hi : -lo)) c[i] = k;
  }
  double sxl = 0.0;
  double sll = 0.0;
  for (int i = 0; i < n; ++i) {
    const int code = ((x[i] >= 0.0f) == (side == 0)) ? c[i] : -c[i];
    codes[i] = static_cast<int8_t>(code);
    sxl += static_cast<double>(w[i]) * x[i] * code;
    sll += static_cast<double>(w[i]) * code * code;
  }
  return static_cast<float>(sxl / sll);
}

float refine_symmetric(const float* x, const float* w, int n, int lo, int hi, float scale,
                       int iterations, int8_t* codes) {
  round_symmetric(x, n, scale, lo, hi, codes);
  double best = error_symmetric(x, w, n, scale, codes);
  int8_t trial[kMaxGroup];
  for (int it = 0; it < iterations && n <= kMaxGroup; ++it) {
    double sxl = 0.0;
    double sll = 0.0;
    for (int i = 0; i < n; ++i) {
      sxl += static_cast<double>(w[i]) * x[i] * codes[i];
      sll += static_cast<double>(w[i]) * codes[i] * codes[i];
    }
    if (!(sll > 0.0)) break;
    const float s = static_cast<float>(sxl / sll);
    round_symmetric(x, n, s, lo, hi, trial);
    const double e = error_symmetric(x, w, n, s, trial);
    if (!(e < best)) break;
    best = e;
    scale = s;
    std::copy(trial, trial + n, codes);
  }
  return scale;
}

Affine fit_affine(const float* x, const float* w, int n, int nmax, bool nonpositive_offset,
                  Window window, uint8_t* codes) {
  Affine out;
  float mn = x[0];
  float mx = x[0];
  for (int i = 1; i < n; ++i) {
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
  }
  if (nonpositive_offset) mn = std::min(mn, 0.0f);
  if (!(mx > mn) || !std::isfinite(mx - mn) || n > kMaxGroup) {
    for (int i = 0; i < n; ++i) codes[i] = 0;
    out.offset = std::isfinite(mn) ? mn : 0.0f;
    return out;
  }
  thread_local std::vector<uint64_t> ev;
  float y[kMaxGroup];
  int c0[kMaxGroup];
  int c[kMaxGroup];
  const float range = mx - mn;
  const float t0 = window.lo * static_cast<float>(nmax) / range;
  const float t1 = window.hi * static_cast<float>(nmax) / range;
  for (int i = 0; i < n; ++i) {
    y[i] = x[i] - mn;
    c0[i] = round_code(y[i] * t0, 0, nmax);
    c[i] = c0[i];
  }
  AffineSums s = affine_sums(x, w, n, c);
  collect_events(y, n, c0, nmax, t1, ev);

  double best_err = 0.0;
  double d = 0.0;
  double m = 0.0;
  bool have = solve_affine(s, nonpositive_offset, &d, &m, &best_err);
  size_t best_events = 0;
  for (size_t e = 0; e < ev.size();) {
    const uint32_t tbits = static_cast<uint32_t>(ev[e] >> 32);
    for (; e < ev.size() && static_cast<uint32_t>(ev[e] >> 32) == tbits; ++e) {
      const int i = event_i(ev[e]);
      const int k = event_k(ev[e]);
      const double wi = w[i];
      c[i] = k;
      s.sc += wi;
      s.scc += wi * (2 * k - 1);  // k^2 - (k-1)^2
      s.sxc += wi * x[i];
    }
    double dd = 0.0;
    double mm = 0.0;
    double err = 0.0;
    // The same tie rule as the symmetric sweep: keep the larger scale unless clearly worse.
    if (solve_affine(s, nonpositive_offset, &dd, &mm, &err) &&
        (!have || err < best_err - 1e-9 * std::fabs(best_err) - 1e-300)) {
      have = true;
      best_err = err;
      best_events = e;
    }
  }
  if (!have) {
    for (int i = 0; i < n; ++i) codes[i] = 0;
    out.offset = mn;
    return out;
  }
  for (int i = 0; i < n; ++i) c[i] = c0[i];
  for (size_t e = 0; e < best_events; ++e) c[event_i(ev[e])] = event_k(ev[e]);
  s = affine_sums(x, w, n, c);
  solve_affine(s, nonpositive_offset, &d, &m, &best_err);

  // Lloyd polish: re-round against the fitted scale and offset, refit, while the error drops.
  int c2[kMaxGroup];
  for (int iter = 0; iter < 4; ++iter) {
    const float fd = static_cast<float>(d);
    const float fm = static_cast<float>(m);
    bool changed = false;
    for (int i = 0; i < n; ++i) {
      c2[i] = round_code((x[i] - fm) / fd, 0, nmax);
      changed |= c2[i] != c[i];
    }
    if (!changed) break;
    double d2 = 0.0;
    double m2 = 0.0;
    double err2 = 0.0;
    if (!solve_affine(affine_sums(x, w, n, c2), nonpositive_offset, &d2, &m2, &err2) ||
        !(err2 < best_err)) {
      break;
    }
    d = d2;
    m = m2;
    best_err = err2;
    std::copy(c2, c2 + n, c);
  }
  for (int i = 0; i < n; ++i) codes[i] = static_cast<uint8_t>(c[i]);
  out.scale = static_cast<float>(d);
  out.offset = static_cast<float>(m);
  return out;
}

void round_symmetric(const float* x, int n, float scale, int lo, int hi, int8_t* codes) {
  if (scale == 0.0f) {
    for (int i = 0; i < n; ++i) codes[i] = 0;
    return;
  }
  for (int i = 0; i < n; ++i) codes[i] = static_cast<int8_t>(round_code(x[i] / scale, lo, hi));
}

double error_symmetric(const float* x, const float* w, int n, float scale, const int8_t* codes) {
  double err = 0.0;
  for (int i = 0; i < n; ++i) {
    const double diff = static_cast<double>(x[i]) - scale * static_cast<float>(codes[i]);
    err += w[i] * diff * diff;
  }
  return err;
}

void round_affine(const float* x, int n, float scale, float offset, int nmax, uint8_t* codes) {
  if (scale == 0.0f) {
    for (int i = 0; i < n; ++i) codes[i] = 0;
    return;
  }
  for (int i = 0; i < n; ++i) {
    codes[i] = static_cast<uint8_t>(round_code((x[i] - offset) / scale, 0, nmax));
  }
}

double error_affine(const float* x, const float* w, int n, float scale, float offset,
                    const uint8_t* codes) {
  double err = 0.0;
  for (int i = 0; i < n; ++i) {
    const double diff = static_cast<double>(x[i]) - (scale * static_cast<float>(codes[i]) + offset);
    err += w[i] * diff * diff;
  }
  return err;
}

}  // namespace pocketlm::scale_search
