#include "model_path.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace pocketlm::cli {
namespace {

// Empty when `path` names a regular file, else why not.
std::string why_unusable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "it is a directory";
  return "";
}

}  // namespace

bool resolve_model_path(const std::string& given, std::string* path, std::string* error) {
  if (!given.empty()) {
    std::string why = why_unusable(given);
    if (why.empty()) {
      *path = given;
      return true;
    }
    *error = "cannot open model '" + given + "': " + why;
    return false;
  }
  if (const char* env = std::getenv(kModelEnvVar); env != nullptr && env[0] != '\0') {
    std::string why = why_unusable(env);
    if (why.empty()) {
      *path = env;
      return true;
    }
    *error = std::string("cannot open model '") + env + "' (from " + kModelEnvVar + "): " + why;
    return false;
  }
  std::vector<std::string> tried = {kDefaultModel};
#ifdef POCKETLM_SOURCE_DIR
  tried.push_back(std::string(POCKETLM_SOURCE_DIR) + "/" + kDefaultModel);
#endif
  for (const std::string& candidate : tried) {
    if (why_unusable(candidate).empty()) {
      *path = candidate;
      return true;
    }
  }
  std::string list;
  for (const std::string& candidate : tried) {
    list += (list.empty() ? "'" : ", '") + candidate + "'";
  }
  *error = std::string("no model: -m not given, ") + kModelEnvVar + " not set, and not found at " +
           list + "; run scripts/setup.sh to fetch it";
  return false;
}

}  // namespace pocketlm::cli
