#include "args.h"

#include <cstdio>

#include "cli.h"

namespace pocketlm::cli {

void ArgParser::option(std::string short_name, std::string long_name, std::string value_name,
                       std::string help) {
  specs_.push_back(
      {std::move(short_name), std::move(long_name), std::move(value_name), std::move(help), true});
}

void ArgParser::flag(std::string long_name, std::string help, std::string short_name) {
  specs_.push_back({std::move(short_name), std::move(long_name), "", std::move(help), false});
}

const ArgParser::Spec* ArgParser::find(const std::string& name) const {
  for (const Spec& s : specs_) {
    if (name == s.long_name || (!s.short_name.empty() && name == s.short_name)) return &s;
  }
  return nullptr;
}

int ArgParser::usage_error(const std::string& message) const {
  return report_error(verb_.c_str(),
                      message + " (usage: " + usage_ + "; see 'pocketlm " + verb_ + " --help')",
                      kExitUsage);
}

void ArgParser::print_help() const {
  std::printf("usage: %s\n", usage_.c_str());
  if (!specs_.empty()) std::printf("\noptions:\n");
  for (const Spec& s : specs_) {
    std::string names = s.short_name.empty() ? s.long_name : s.short_name + ", " + s.long_name;
    if (s.takes_value) names += " " + s.value_name;
    std::printf("  %-24s %s\n", names.c_str(), s.help.c_str());
  }
  std::printf("  %-24s %s\n", "-h, --help", "show this help");
  if (!epilog_.empty()) std::printf("\n%s\n", epilog_.c_str());
}

int ArgParser::parse(const std::vector<std::string>& args, size_t min_positional,
                     size_t max_positional, ParsedArgs* out) const {
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      // A lone "-" is a positional (conventionally stdin/stdout).
      out->positional.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      print_help();
      return kExitOk;
    }
    std::string name = a;
    std::string value;
    bool inline_value = false;
    if (size_t eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    const Spec* spec = find(name);
    if (spec == nullptr) return usage_error("unknown option '" + name + "'");
    if (spec->takes_value) {
      if (!inline_value) {
        if (i + 1 >= args.size()) return usage_error("option '" + name + "' needs a value");
        value = args[++i];
      }
    } else if (inline_value) {
      return usage_error("option '" + name + "' takes no value");
    }
    if (out->options.count(spec->long_name) != 0) {
      return usage_error("option '" + spec->long_name + "' given twice");
    }
    out->options[spec->long_name] = value;
  }
  if (out->positional.size() < min_positional) {
    return usage_error(min_positional - out->positional.size() == 1
                           ? std::string("missing an argument")
                           : std::string("missing arguments"));
  }
  if (out->positional.size() > max_positional) {
    return usage_error("unexpected argument '" + out->positional[max_positional] + "'");
  }
  return -1;
}

}  // namespace pocketlm::cli
