#include <cstdlib>
#include <cstring>

#include "core/cpu_features.h"
#include "kernels/kernels.h"

namespace pocketlm::kernels {
namespace {

bool host_can_run(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::kRef:
      return true;
    case Isa::kAvx2:
      return f.avx2 && f.fma && f.f16c;
    case Isa::kAvx512:
      return f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.fma && f.f16c;
    case Isa::kNeon:
      return f.neon && f.dotprod;
  }
  return false;
}

bool compiled_in(Isa isa) {
  switch (isa) {
    case Isa::kRef:
      return true;
#if defined(POCKETLM_HAVE_X86_KERNELS)
    case Isa::kAvx2:
    case Isa::kAvx512:
      return true;
#endif
#if defined(POCKETLM_HAVE_NEON_KERNELS)
    case Isa::kNeon:
      return true;
#endif
    default:
      return false;
  }
}

KernelTable build(Isa isa) {
  KernelTable t;
  t.isa = isa;
  fill_dot_ref(t.dot);
  fill_ops_ref(t.ops);
  switch (isa) {
#if defined(POCKETLM_HAVE_X86_KERNELS)
    case Isa::kAvx2:
      fill_dot_avx2(t.dot);
      fill_ops_avx2(t.ops);
      break;
    case Isa::kAvx512:
      // AVX-512 builds on the AVX2 table: entries it does not widen keep the AVX2 version.
      fill_dot_avx2(t.dot);
      fill_ops_avx2(t.ops);
      fill_dot_avx512(t.dot);
      fill_ops_avx512(t.ops);
      break;
#endif
#if defined(POCKETLM_HAVE_NEON_KERNELS)
    case Isa::kNeon:
      fill_dot_neon(t.dot);
      fill_ops_neon(t.ops);
      break;
#endif
    default:
      break;
  }
  return t;
}

struct Tables {
  KernelTable table[4];
  bool usable[4] = {};
  Tables() {
    for (int i = 0; i < 4; ++i) {
      const Isa isa = static_cast<Isa>(i);
      usable[i] = compiled_in(isa) && host_can_run(isa);
      if (usable[i]) table[i] = build(isa);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kRef:
      return "ref";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kNeon:
      return "neon";
  }
  return "?";
}

const KernelTable* kernel_table(Isa isa) {
  const int i = static_cast<int>(isa);
  if (i < 0 || i >= 4 || !tables().usable[i]) return nullptr;
  return &tables().table[i];
}

std::vector<Isa> runnable_isas() {
  std::vector<Isa> out;
  for (int i = 0; i < 4; ++i) {
    if (tables().usable[i]) out.push_back(static_cast<Isa>(i));
  }
  return out;
}

const KernelTable& active_kernels() {
  static const KernelTable* chosen = [] {
    if (const char* want = std::getenv("POCKETLM_ISA")) {
      for (Isa isa : runnable_isas()) {
        if (std::strcmp(want, isa_name(isa)) == 0) return kernel_table(isa);
      }
    }
    const std::vector<Isa> all = runnable_isas();
    return kernel_table(all.back());  // best last: ref < avx2 < avx512, or ref < neon
  }();
  return *chosen;
}

}  // namespace pocketlm::kernels
