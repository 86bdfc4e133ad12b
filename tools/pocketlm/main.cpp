// pocketlm: the command-line front end. main() only dispatches; each verb lives in its own file
// and registers itself (see cli.h).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli.h"

namespace pocketlm::cli {
namespace {

std::vector<Verb>& registry() {
  // Function-local so registration from other files' static initialisers is order-safe.
  static std::vector<Verb> v;
  return v;
}

void print_help() {
  std::printf("pocketlm %s - small language models on small devices\n\n", kVersion);
  std::printf("usage: pocketlm <command> [arguments]\n       pocketlm <command> --help\n\n");
  std::printf("commands:\n");
  for (const Verb& v : verbs()) {
    if (!v.hidden) std::printf("  %-12s %s\n", v.name, v.summary);
  }
  std::printf("\noptions:\n  %-12s %s\n  %-12s %s\n", "--help", "show this help", "--version",
              "print the version");
}

}  // namespace

const std::vector<Verb>& verbs() {
  std::vector<Verb>& v = registry();
  std::sort(v.begin(), v.end(),
            [](const Verb& a, const Verb& b) { return std::strcmp(a.name, b.name) < 0; });
  return v;
}

VerbRegistrar::VerbRegistrar(const Verb& verb) { registry().push_back(verb); }

int report_error(const char* verb, const std::string& message, int exit_code) {
  // One line, whatever the message holds, so callers can rely on "last line of stderr".
  std::string line = message;
  std::replace(line.begin(), line.end(), '\n', ' ');
  if (verb != nullptr && verb[0] != '\0') {
    std::fprintf(stderr, "pocketlm %s: %s\n", verb, line.c_str());
  } else {
    std::fprintf(stderr, "pocketlm: %s\n", line.c_str());
  }
  return exit_code;
}

bool read_int_option(const char* verb, const ParsedArgs& a, const char* name, int64_t lo,
                     int64_t hi, int64_t* out) {
  if (!a.has(name)) return true;
  const std::string v = a.get(name);
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (end == v.c_str() || *end != '\0' || n < lo || n > hi) {
    report_error(verb, "invalid value '" + v + "' for " + name, kExitUsage);
    return false;
  }
  *out = n;
  return true;
}

int report_status(const char* verb, const Status& status) {
  int code = static_cast<int>(status.code());
  return report_error(verb, status.message(),
                      code >= 100 && code < 200 ? kExitUsage : kExitFailure);
}

}  // namespace pocketlm::cli

int main(int argc, char** argv) {
  using namespace pocketlm::cli;
  if (argc < 2) {
    return report_error("", "missing a command (see 'pocketlm --help')", kExitUsage);
  }
  std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    print_help();
    return kExitOk;
  }
  if (first == "--version") {
    std::printf("pocketlm %s\n", kVersion);
    return kExitOk;
  }
  for (const Verb& v : verbs()) {
    if (first == v.name) return v.run(std::vector<std::string>(argv + 2, argv + argc));
  }
  if (first.size() > 1 && first[0] == '-') {
    return report_error("", "unknown option '" + first + "' (see 'pocketlm --help')", kExitUsage);
  }
  return report_error("", "unknown command '" + first + "' (see 'pocketlm --help')", kExitUsage);
}
