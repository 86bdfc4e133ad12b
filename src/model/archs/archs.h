// The architecture descriptions compiled into pocketlm; registry.cpp lists them.
#pragma once

#include "model/arch.h"

namespace pocketlm::archs {

extern const ArchDesc kLlama;
extern const ArchDesc kGemma3;
extern const ArchDesc kPhi3;
extern const ArchDesc kQwen2;
extern const ArchDesc kQwen3;

}  // namespace pocketlm::archs
