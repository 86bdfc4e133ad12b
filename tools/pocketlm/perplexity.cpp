// `pocketlm perplexity -m MODEL -f TEXT [-c CTX]`: perplexity over a text, llama.cpp's way;
// `--save-logits FILE` keeps a base model's distributions, `--kl-divergence FILE` compares with
// them.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "cli.h"
#include "json_writer.h"
#include "toolkit/eval/eval_text.h"
#include "toolkit/eval/perplexity.h"

namespace pocketlm::cli {
namespace {

using namespace pocketlm::toolkit;

constexpr const char* kVerb = "perplexity";

constexpr const char* kHelp =
    "The text is tokenized whole and cut into chunks of CTX tokens (the rest is dropped); each\n"
    "chunk runs from position 0 (starting with BOS when the vocabulary uses one) and only its\n"
    "second half is scored, as llama.cpp's perplexity does, so figures for the same text and\n"
    "context compare. Prints the running perplexity after each chunk, then the final estimate\n"
    "with its standard error.\n"
    "\n"
    "--save-logits FILE stores the scored positions' log-probabilities (and the tokens) of this\n"
    "model, the base. --kl-divergence FILE runs another model (a quantized one) over the same\n"
    "tokens (-f is then optional: the tokens come from FILE; --chunks N takes the first N) and\n"
    "reports its mean KL divergence from the base, how often both pick the same top token, and\n"
    "the change in the probability of the actual next token (delta p). --format json prints one\n"
    "JSON object instead.\n"
    "Exit status 2: bad arguments, an unreadable model or text, or a text shorter than 2*CTX.";

void write_percentiles(JsonWriter& j, const Percentiles& p) {
  j.begin_object();
  const std::pair<const char*, double> items[] = {
      {"max", p.max}, {"p99.9", p.p99_9},   {"p99", p.p99}, {"p95", p.p95},
      {"p90", p.p90}, {"median", p.median}, {"p10", p.p10}, {"p5", p.p5},
      {"p1", p.p1},   {"p0.1", p.p0_1},     {"min", p.min}};
  for (const auto& [k, v] : items) {
    j.key(k);
    j.f64(v);
  }
  j.end_object();
}

void print_json(const std::string& model, const EvalChunks& ch, const PerplexityResult& r) {
  JsonWriter j(stdout);
  j.begin_object();
  j.key("model");
  j.string(model);
  j.key("n_ctx");
  j.integer(ch.n_ctx());
  j.key("n_chunks");
  j.integer(r.n_chunks);
  j.key("n_scored");
  j.integer(r.n_scored);
  j.key("ppl");
  j.f64(r.ppl);
  j.key("ppl_err");
  j.f64(r.ppl_err);
  j.key("running_ppl");
  j.begin_array();
  for (double v : r.running_ppl) j.f64(v);
  j.end_array();
  j.key("seconds");
  j.f64(r.seconds);
  if (r.kld) {
    const KldSummary& k = *r.kld;
    j.key("kld");
    j.begin_object();
    const std::pair<const char*, double> items[] = {{"ppl_q", k.ppl_q},
                                                    {"ppl_q_err", k.ppl_q_err},
                                                    {"ppl_base", k.ppl_base},
                                                    {"ppl_base_err", k.ppl_base_err},
                                                    {"ln_ppl_ratio", k.ln_ppl_ratio},
                                                    {"ln_ppl_ratio_err", k.ln_ppl_ratio_err},
                                                    {"ln_ppl_correlation", k.ln_ppl_correlation},
                                                    {"kld_mean", k.kld_mean},
                                                    {"kld_err", k.kld_err},
                                                    {"dp_mean", k.dp_mean},
                                                    {"dp_err", k.dp_err},
                                                    {"dp_rms", k.dp_rms},
                                                    {"dp_rms_err", k.dp_rms_err},
                                                    {"same_top", k.same_top},
                                                    {"same_top_err", k.same_top_err}};
    for (const auto& [key, v] : items) {
      j.key(key);
      j.f64(v);
    }
    j.key("kld_percentiles");
    write_percentiles(j, k.kld);
    j.key("dp_percentiles");
    write_percentiles(j, k.dp);
    j.end_object();
  }
  j.end_object();
  j.finish();
}

void print_kld_text(const KldSummary& k) {
  std::printf("\n====== Perplexity statistics ======\n");
  std::printf("Mean PPL(Q)                   : %10.6f +/- %10.6f\n", k.ppl_q, k.ppl_q_err);
  std::printf("Mean PPL(base)                : %10.6f +/- %10.6f\n", k.ppl_base, k.ppl_base_err);
  std::printf("Cor(ln(PPL(Q)), ln(PPL(base))): %9.2f%%\n", 100.0 * k.ln_ppl_correlation);
  std::printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f +/- %10.6f\n", k.ln_ppl_ratio,
              k.ln_ppl_ratio_err);
  std::printf("\n====== KL divergence statistics ======\n");
  std::printf("Mean    KLD: %10.6f +/- %10.6f\n", k.kld_mean, k.kld_err);
  const Percentiles& p = k.kld;
  std::printf("Maximum KLD: %10.6f\n99.9%%   KLD: %10.6f\n99.0%%   KLD: %10.6f\n", p.max, p.p99_9,
              p.p99);
  std::printf("Median  KLD: %10.6f\n10.0%%   KLD: %10.6f\n 1.0%%   KLD: %10.6f\n", p.median, p.p10,
              p.p1);
  std::printf("Minimum KLD: %10.6f\n", p.min);
  std::printf("\n====== Token probability statistics ======\n");
  std::printf("Mean    Δp: %8.3f +/- %.3f %%\n", 100.0 * k.dp_mean, 100.0 * k.dp_err);
  const Percentiles& d = k.dp;
  std::printf("Maximum Δp: %8.3f%%\n99.9%%   Δp: %8.3f%%\n99.0%%   Δp: %8.3f%%\n", 100 * d.max,
              100 * d.p99_9, 100 * d.p99);
  std::printf("95.0%%   Δp: %8.3f%%\nMedian  Δp: %8.3f%%\n 5.0%%   Δp: %8.3f%%\n", 100 * d.p95,
              100 * d.median, 100 * d.p5);
  std::printf(" 1.0%%   Δp: %8.3f%%\n 0.1%%   Δp: %8.3f%%\nMinimum Δp: %8.3f%%\n", 100 * d.p1,
              100 * d.p0_1, 100 * d.min);
  std::printf("RMS Δp    : %8.3f +/- %.3f %%\n", 100.0 * k.dp_rms, 100.0 * k.dp_rms_err);
  std::printf("Same top p: %8.3f +/- %.3f %%\n", 100.0 * k.same_top, 100.0 * k.same_top_err);
}

int run_perplexity_verb(const std::vector<std::string>& args) {
  ArgParser p(kVerb, "pocketlm perplexity -m MODEL -f TEXT [-c CTX] [options]");
  p.option("-m", "--model", "MODEL", "the model (GGUF)");
  p.option("-f", "--file", "TEXT", "the evaluation text");
  p.option("-c", "--ctx-size", "CTX", "tokens per chunk (default 512)");
  p.option("", "--chunks", "N", "score at most N chunks (default: all)");
  p.option("", "--save-logits", "FILE", "save this (base) model's log-probabilities");
  p.option("", "--kl-divergence", "FILE", "compare with the base log-probabilities in FILE");
  p.option("", "--format", "FORMAT", "text (default) or json");
  p.option("-t", "--threads", "N", "threads (default: all cores)");
  p.epilog(kHelp);
  ParsedArgs a;
  if (int rc = p.parse(args, 0, 0, &a); rc >= 0) return rc;
  if (!a.has("--model")) return report_error(kVerb, "-m MODEL is required", kExitUsage);
  const bool kld = a.has("--kl-divergence");
  if (!kld && !a.has("--file")) return report_error(kVerb, "-f TEXT is required", kExitUsage);
  if (kld && a.has("--save-logits")) {
    return report_error(kVerb, "--save-logits and --kl-divergence exclude each other", kExitUsage);
  }
  if (kld && a.has("--ctx-size")) {
    return report_error(kVerb, "with --kl-divergence the context comes from the base file",
                        kExitUsage);
  }
  const std::string format = a.get("--format", "text");
  if (format != "text" && format != "json") {
    return report_error(
        kVerb, "invalid value '" + format + "' for --format (expected text or json)", kExitUsage);
  }
  int64_t n_ctx = 512;
  int64_t max_chunks = -1;
  int64_t threads = std::max(1u, std::thread::hardware_concurrency());
  if (!read_int_option(kVerb, a, "--ctx-size", 4, 1 << 20, &n_ctx) ||
      !read_int_option(kVerb, a, "--chunks", 1, int64_t{1} << 40, &max_chunks) ||
      !read_int_option(kVerb, a, "--threads", 1, 1024, &threads)) {
    return kExitUsage;
  }

  // Inputs that cannot be loaded are the caller's mistake (exit 2), whatever the OS called it.
  Result<EvalModel> m = EvalModel::load(a.get("--model"));
  if (!m.ok()) return report_error(kVerb, m.status().message(), kExitUsage);
  std::optional<LogitsReader> base;
  Result<EvalChunks> chunks = invalid_argument("no chunks");
  if (kld) {
    Result<LogitsReader> br = LogitsReader::open(a.get("--kl-divergence"));
    if (!br.ok()) return report_error(kVerb, br.status().message(), kExitUsage);
    base = std::move(br).value();
    chunks = chunks_from_base(*base, *m->model, max_chunks);
    if (chunks.ok() && a.has("--file")) {
      // The text, when given, must be the one the base was run on.
      Result<std::string> text = read_text_file(a.get("--file"));
      if (!text.ok()) return report_error(kVerb, text.status().message(), kExitUsage);
      Result<EvalChunks> mine = m->chunk_text(*text, chunks->n_ctx(), chunks->n_chunks());
      if (!mine.ok() || mine->tokens() != chunks->tokens()) {
        return report_error(kVerb,
                            "the text does not tokenize to the tokens the base logits "
                            "were saved for",
                            kExitUsage);
      }
    }
  } else {
    Result<std::string> text = read_text_file(a.get("--file"));
    if (!text.ok()) return report_error(kVerb, text.status().message(), kExitUsage);
    chunks = m->chunk_text(*text, n_ctx, max_chunks);
  }
  if (!chunks.ok()) return report_status(kVerb, chunks.status());

  const bool text_out = format == "text";
  PerplexityOptions o;
  o.n_threads = static_cast<int>(threads);
  o.save_logits = a.get("--save-logits");
  o.base = base ? &*base : nullptr;
  if (text_out) {
    std::printf("%s: %lld chunks of %lld tokens, %lld scored in each\n", a.get("--model").c_str(),
                static_cast<long long>(chunks->n_chunks()), static_cast<long long>(chunks->n_ctx()),
                static_cast<long long>(chunks->n_scored()));
    if (kld) std::printf("chunk      PPL   ln(PPL(Q)/PPL(base))   mean KLD   RMS Δp   same top\n");
    std::fflush(stdout);
    o.on_chunk = [&](const ChunkProgress& c) {
      if (c.kld) {
        std::printf("%5lld %8.4f %14.5f %17.6f %7.3f%% %8.3f%%\n", static_cast<long long>(c.chunk),
                    c.kld->ppl_q(), std::log(c.kld->ppl_q() / c.kld->ppl_base()), c.kld->mean_kld(),
                    100.0 * c.kld->dp_rms(), 100.0 * c.kld->same_top());
      } else {
        std::printf("[%lld]%.4f,", static_cast<long long>(c.chunk), c.running_ppl);
      }
      std::fflush(stdout);
      return true;
    };
  }
  Result<PerplexityResult> r = run_perplexity(*m->model, *chunks, o);
  if (!r.ok()) {
    if (text_out && !kld) std::printf("\n");
    return report_status(kVerb, r.status());
  }
  if (!text_out) {
    print_json(a.get("--model"), *chunks, *r);
    return kExitOk;
  }
  if (!kld) std::printf("\n");
  std::printf("Final estimate: PPL = %.4f +/- %.5f\n", r->ppl, r->ppl_err);
  if (r->kld) print_kld_text(*r->kld);
  std::printf("%lld positions scored in %.1f s\n", static_cast<long long>(r->n_scored), r->seconds);
  return kExitOk;
}

const VerbRegistrar kPerplexity({"perplexity",
                                 "Perplexity and KL divergence of a model over a text",
                                 run_perplexity_verb});

}  // namespace
}  // namespace pocketlm::cli
