// The pocketlm command line: one binary, one verb per file.
//
// Usage (a new verb is one new file under tools/pocketlm/):
//   namespace {
//   int run_hello(const std::vector<std::string>& args) {
//     ArgParser p("hello", "pocketlm hello NAME [--loud]");
//     p.flag("--loud", "shout");
//     ParsedArgs a;
//     if (int rc = p.parse(args, 1, 1, &a); rc >= 0) return rc;   // --help or a usage error
//     std::printf("hello %s\n", a.positional[0].c_str());
//     return kExitOk;
//   }
//   const VerbRegistrar kHello({"hello", "Say hello", run_hello});
//   }  // namespace
//
// Exit status: 0 success, 1 the work failed (e.g. an output could not be written), 2 the input
// was wrong (arguments, or a malformed/unreadable input file). Every failure prints exactly one
// line on stderr, "pocketlm <verb>: <what went wrong>", so scripts can show it as it is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "args.h"
#include "core/status.h"

namespace pocketlm::cli {

// Must match project(VERSION) in the top-level CMakeLists.txt (a ctest checks it).
inline constexpr const char* kVersion = "0.1.0";

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Verb {
  const char* name;
  const char* summary;                               // one line for `pocketlm --help`
  int (*run)(const std::vector<std::string>& args);  // the arguments after the verb
  bool hidden = false;                               // left out of --help (developer tools)
};

// All registered verbs, sorted by name.
const std::vector<Verb>& verbs();

// Adds a verb at static-initialisation time; each verb file holds one of these.
struct VerbRegistrar {
  explicit VerbRegistrar(const Verb& verb);
};

// Prints "pocketlm <verb>: <message>" on stderr and returns `exit_code`.
int report_error(const char* verb, const std::string& message, int exit_code);
// Same, with the exit code chosen from the status: input errors 2, everything else 1.
int report_status(const char* verb, const Status& status);

// Reads the integer option `name` into *out when it is given. A value that is not a whole
// decimal number in [lo, hi] is reported ("invalid value 'V' for NAME", exit 2) and gives false.
bool read_int_option(const char* verb, const ParsedArgs& a, const char* name, int64_t lo,
                     int64_t hi, int64_t* out);

}  // namespace pocketlm::cli
