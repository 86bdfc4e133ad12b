// `pocketlm quantize IN.gguf OUT.gguf --type TYPE [options]`: write a model with its weights
// quantized (or converted to a float type).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "cli.h"
#include "format/gguf_reader.h"
#include "quant/types.h"
#include "toolkit/imatrix/imatrix_file.h"
#include "toolkit/quantize/quantize_model.h"

namespace pocketlm::cli {
namespace {

using namespace pocketlm::toolkit;

constexpr const char* kVerb = "quantize";

std::string types_help() {
  std::string s = "types:\n";
  for (const PresetInfo& p : all_presets()) s += strfmt("  %-8s %s\n", p.name, p.summary);
  s += "\n"
       "The _S/_M types and Q2_K are mixes: attn_v, attn_output, ffn_down and the output head get\n"
       "more bits on the layers where it pays, by llama.cpp's rules, so files match theirs in\n"
       "size. K-quants need rows that are a multiple of 256 values; other tensors fall back to\n"
       "the 32-block type of about the same size (Q4_K -> Q5_0, Q6_K -> Q8_0, ...).\n"
       "\n"
       "Scales and minimums are searched to minimise each block's squared error, weighted by the\n"
       "importance matrix when --imatrix is given (make one with 'pocketlm imatrix').\n"
       "--tensor-type may be given several times; the first pattern that matches a tensor's name\n"
       "decides. Input tensors that are already quantized are only re-quantized with\n"
       "--allow-requantize (F32 needs nothing: '--type f32' dequantizes a whole model).\n"
       "Exit status 2: bad arguments or an unreadable/malformed input.";
  return s;
}

std::string mib(uint64_t bytes) {
  return strfmt("%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

// Pulls every "--tensor-type X" / "--tensor-type=X" out of args (the parser takes an option once).
std::vector<std::string> take_repeated(std::vector<std::string>& args, const std::string& name,
                                       std::string* error) {
  std::vector<std::string> values;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    if (args[i] == name) {
      if (i + 1 >= args.size()) {
        *error = "option '" + name + "' needs a value";
        return {};
      }
      values.push_back(args[++i]);
    } else if (args[i].rfind(name + "=", 0) == 0) {
      values.push_back(args[i].substr(name.size() + 1));
    } else {
      rest.push_back(args[i]);
    }
  }
  args = std::move(rest);
  return values;
}

void print_plan(const QuantizeReport& r) {
  for (const TensorPlan& t : r.plan) {
    std::printf("%-36s %-6s -> %-6s %s\n", t.name.c_str(), type_traits(t.from).name,
                type_traits(t.to).name, t.convert ? t.why.c_str() : "copied");
  }
}

int run_quantize(const std::vector<std::string>& raw_args) {
  std::vector<std::string> args = raw_args;
  std::string error;
  const std::vector<std::string> tensor_types = take_repeated(args, "--tensor-type", &error);
  ArgParser p(kVerb, "pocketlm quantize IN.gguf OUT.gguf --type TYPE [options]");
  p.option("", "--type", "TYPE", "what to quantize to (see below)");
  p.option("", "--imatrix", "FILE", "importance matrix to weight the rounding errors with");
  p.option("", "--tensor-type", "REGEX=TYPE", "tensors whose name matches REGEX get TYPE");
  p.option("", "--output-type", "TYPE", "type of the output head (output.weight)");
  p.option("", "--embd-type", "TYPE", "type of the token embedding (token_embd.weight)");
  p.flag("--allow-requantize", "allow re-quantizing tensors that are already quantized");
  p.flag("--dry-run", "list each tensor's planned type and the sizes; write nothing");
  p.option("-t", "--threads", "N", "threads (default: all cores)");
  p.epilog(types_help());
  ParsedArgs a;
  if (int rc = p.parse(args, 0, 2, &a); rc >= 0) return rc;
  if (!error.empty()) return report_error(kVerb, error, kExitUsage);
  const bool dry_run = a.has("--dry-run");
  if (a.positional.size() < (dry_run ? 1u : 2u)) {
    return report_error(kVerb, "give the input and output files (see 'pocketlm quantize --help')",
                        kExitUsage);
  }
  if (!a.has("--type")) return report_error(kVerb, "--type is required", kExitUsage);

  QuantizeOptions o;
  std::optional<QuantPreset> preset = preset_from_name(a.get("--type"));
  if (!preset) {
    std::string names;
    for (const PresetInfo& pi : all_presets())
      names += std::string(names.empty() ? "" : ", ") + pi.name;
    return report_error(kVerb, "unknown --type '" + a.get("--type") + "' (expected " + names + ")",
                        kExitUsage);
  }
  o.plan.preset = *preset;
  o.plan.allow_requantize = a.has("--allow-requantize");
  for (const std::string& spec : tensor_types) {
    Result<TypeOverride> ov = parse_type_override(spec);
    if (!ov.ok()) return report_error(kVerb, ov.status().message(), kExitUsage);
    o.plan.overrides.push_back(std::move(ov).value());
  }
  for (const char* opt : {"--output-type", "--embd-type"}) {
    if (!a.has(opt)) continue;
    Result<TensorType> t = parse_weight_type(a.get(opt));
    if (!t.ok())
      return report_error(kVerb, std::string(opt) + ": " + t.status().message(), kExitUsage);
    (std::string(opt) == "--output-type" ? o.plan.output_type : o.plan.embd_type) = *t;
  }
  int64_t threads = std::max(1u, std::thread::hardware_concurrency());
  if (!read_int_option(kVerb, a, "--threads", 1, 1024, &threads)) return kExitUsage;
  o.n_threads = static_cast<int>(threads);
  Imatrix imatrix;
  if (a.has("--imatrix")) {
    Result<Imatrix> im = read_imatrix(a.get("--imatrix"));
    if (!im.ok()) return report_error(kVerb, im.status().message(), kExitUsage);
    imatrix = std::move(im).value();
    o.imatrix = &imatrix;
    o.imatrix_path = a.get("--imatrix");
  }
  o.dry_run = dry_run;

  const bool tty = isatty(fileno(stderr)) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  if (tty && !dry_run) {
    o.progress = [&](const QuantizeProgress& pr) {
      const double s = seconds();
      const double mbs = s > 0 ? static_cast<double>(pr.bytes_done) / (1e6 * s) : 0.0;
      std::fprintf(stderr, "\r\033[K[%4zu/%4zu] %-32s %-5s %3.0f%%  %7.1f MB/s", pr.tensor + 1,
                   pr.n_tensors, pr.plan->name.c_str(), type_traits(pr.plan->to).name,
                   100.0 * static_cast<double>(pr.bytes_done) /
                       static_cast<double>(std::max<uint64_t>(1, pr.bytes_total)),
                   mbs);
      std::fflush(stderr);
      return true;
    };
  }
  const std::string out = a.positional.size() > 1 ? a.positional[1] : "";
  // A missing or malformed input is the caller's mistake (exit 2), whatever the OS called it.
  if (Result<GgufFile> in = GgufFile::open(a.positional[0]); !in.ok()) {
    return report_error(kVerb, in.status().message(), kExitUsage);
  }
  Result<QuantizeReport> r = quantize_model(a.positional[0], out, o);
  if (tty && !dry_run) std::fprintf(stderr, "\r\033[K");
  if (!r.ok()) return report_status(kVerb, r.status());
  if (dry_run) print_plan(*r);
  const char* name = preset_info(o.plan.preset).name;
  std::printf("%s %s: %zu tensors (%zu converted), %s -> %s of tensor data, %.2f bits per weight",
              dry_run ? "would write" : "wrote", dry_run ? name : (out + " (" + name + ")").c_str(),
              r->plan.size(), r->n_converted, mib(r->bytes_in).c_str(), mib(r->bytes_out).c_str(),
              r->bits_per_weight());
  if (!dry_run) std::printf(", %.1f s", seconds());
  std::printf("\n");
  if (o.imatrix) {
    std::printf("importance data used for %zu tensors", r->n_with_importance);
    if (!r->without_importance.empty()) {
      std::printf("; none for %zu (first: %s)", r->without_importance.size(),
                  r->without_importance[0].c_str());
    }
    std::printf("\n");
  }
  return kExitOk;
}

const VerbRegistrar kQuantize({"quantize", "Quantize a model's weights (Q8_0 ... Q2_K mixes)",
                               run_quantize});

}  // namespace
}  // namespace pocketlm::cli
