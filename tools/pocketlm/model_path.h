// Which model file a verb uses when the user names none, so `pocketlm run -p "Hi"` works from a
// checkout (or anywhere, with POCKETLM_MODEL set) without typing a path every time.
//
// Usage:
//   std::string path, error;
//   if (!resolve_model_path(a.get("--model"), &path, &error)) {
//     return report_error("run", error, kExitUsage);
//   }
//
// Order: the -m value when given; else the POCKETLM_MODEL environment variable; else
// kDefaultModel relative to the current directory, then relative to the source tree the binary
// was built from. A path that was named explicitly (-m or the variable) is never replaced by a
// fallback: a typo should fail loudly, not silently run another model.
#pragma once

#include <string>

namespace pocketlm::cli {

inline constexpr const char* kDefaultModel = "models/SmolLM2-135M-Instruct.Q4_1.gguf";
inline constexpr const char* kModelEnvVar = "POCKETLM_MODEL";

// For --help epilogs.
inline constexpr const char* kModelPathHelp =
    "Without -m the model is $POCKETLM_MODEL, else models/SmolLM2-135M-Instruct.Q4_1.gguf in the\n"
    "current directory, then in the source tree (scripts/setup.sh fetches it).";

// On success stores the path of an existing file in *path. On failure stores one line in *error
// naming every path tried and how to get the default model.
bool resolve_model_path(const std::string& given, std::string* path, std::string* error);

}  // namespace pocketlm::cli
