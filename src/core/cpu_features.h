// What the CPU we run on can do, detected once (cpuid + xgetbv on x86, getauxval on ARM).
#pragma once

#include <cstdint>
#include <string>

namespace pocketlm {

struct CpuFeatures {
  // x86
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool avxvnni = false;
  // ARM
  bool neon = false;
  bool dotprod = false;  // SDOT/UDOT (armv8.2-a+dotprod)
  bool i8mm = false;
  bool fp16 = false;  // half-precision arithmetic

  std::string describe() const;  // "avx2 fma f16c ..." for logs and bench reports
};

const CpuFeatures& cpu_features();

}  // namespace pocketlm
