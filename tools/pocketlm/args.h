// ArgParser: the small flag parser every verb shares, so all verbs treat flags, --help and usage
// errors the same way.
//
// Usage:
//   ArgParser p("dump", "pocketlm dump FILE TENSOR -o OUT");
//   p.option("-o", "--output", "OUT", "where to write");   // takes a value
//   p.flag("--all", "every tensor");                         // takes none
//   ParsedArgs a;
//   if (int rc = p.parse(args, 1, 2, &a); rc >= 0) return rc;
//   if (a.has("--all")) ...;   std::string out = a.get("--output");
//
// Options are named by their long form; "-o X", "--output X" and "--output=X" are the same.
// "--" ends the options. parse() returns -1 when the verb should go on, or an exit code: 0 after
// printing --help, 2 after printing one usage error line on stderr.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pocketlm::cli {

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // long name -> value ("" for flags)

  bool has(const std::string& long_name) const { return options.count(long_name) != 0; }
  std::string get(const std::string& long_name, const std::string& fallback = "") const {
    auto it = options.find(long_name);
    return it == options.end() ? fallback : it->second;
  }
};

class ArgParser {
 public:
  ArgParser(std::string verb, std::string usage)
      : verb_(std::move(verb)), usage_(std::move(usage)) {}

  // short_name may be empty.
  void option(std::string short_name, std::string long_name, std::string value_name,
              std::string help);
  void flag(std::string long_name, std::string help, std::string short_name = "");
  // Extra text printed by --help after the options.
  void epilog(std::string text) { epilog_ = std::move(text); }

  int parse(const std::vector<std::string>& args, size_t min_positional, size_t max_positional,
            ParsedArgs* out) const;
  void print_help() const;

 private:
  struct Spec {
    std::string short_name, long_name, value_name, help;
    bool takes_value;
  };
  const Spec* find(const std::string& name) const;
  int usage_error(const std::string& message) const;

  std::string verb_;
  std::string usage_;
  std::string epilog_;
  std::vector<Spec> specs_;
};

}  // namespace pocketlm::cli
