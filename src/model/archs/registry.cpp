#include "model/archs/archs.h"

namespace pocketlm {

const ArchDesc* find_arch(std::string_view name) {
  static const ArchDesc* const kAll[] = {
      &archs::kLlama,
      &archs::kGemma3,
      &archs::kPhi3,
      &archs::kQwen2,
      &archs::kQwen3,
  };
  for (const ArchDesc* a : kAll) {
    if (a->name == name) return a;
  }
  return nullptr;
}

}  // namespace pocketlm
