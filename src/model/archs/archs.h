// The architecture descriptions compiled into pocketlm; registry.cpp lists them.
#pragma once

#include "model/arch.h"

namespace pocketlm::archs {

extern const ArchDesc kLlama;
extern const ArchDesc kGemma3;

}  // namespace pocketlm::archs
