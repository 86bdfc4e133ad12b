// `pocketlm imatrix -m MODEL -f TEXT -o FILE`: an importance matrix from calibration text, for
// `pocketlm quantize --imatrix`.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "cli.h"
#include "toolkit/eval/eval_text.h"
#include "toolkit/imatrix/imatrix_collector.h"
#include "toolkit/imatrix/imatrix_file.h"

namespace pocketlm::cli {
namespace {

using namespace pocketlm::toolkit;

constexpr const char* kVerb = "imatrix";

constexpr const char* kHelp =
    "Runs the model over the text in chunks of CTX tokens (as perplexity does) and records, for\n"
    "every weight matrix, the mean square of each input column's activations: how much a\n"
    "rounding error in that column of the weights moves the matrix product. 'pocketlm quantize\n"
    "--imatrix FILE' then minimises errors weighted by it. The file is llama.cpp's GGUF imatrix\n"
    "format. Use calibration text that resembles what the model will see, and not the text you\n"
    "evaluate the quantized model on. The running perplexity of each chunk's second half is\n"
    "printed as a sanity check.\n"
    "Exit status 2: bad arguments, an unreadable model or text, or a text shorter than 2*CTX.";

int run_imatrix(const std::vector<std::string>& args) {
  ArgParser p(kVerb, "pocketlm imatrix -m MODEL -f TEXT -o FILE [-c CTX] [options]");
  p.option("-m", "--model", "MODEL", "the model (GGUF)");
  p.option("-f", "--file", "TEXT", "calibration text");
  p.option("-o", "--output", "FILE", "where to write the importance matrix");
  p.option("-c", "--ctx-size", "CTX", "tokens per chunk (default 512)");
  p.option("", "--chunks", "N", "use at most N chunks (default: all)");
  p.option("-t", "--threads", "N", "threads (default: all cores)");
  p.epilog(kHelp);
  ParsedArgs a;
  if (int rc = p.parse(args, 0, 0, &a); rc >= 0) return rc;
  for (const char* required : {"--model", "--file", "--output"}) {
    if (!a.has(required)) {
      return report_error(kVerb, std::string(required) + " is required", kExitUsage);
    }
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
  Result<std::string> text = read_text_file(a.get("--file"));
  if (!text.ok()) return report_error(kVerb, text.status().message(), kExitUsage);
  Result<EvalChunks> chunks = m->chunk_text(*text, n_ctx, max_chunks);
  if (!chunks.ok()) return report_status(kVerb, chunks.status());

  ImatrixOptions o;
  o.n_threads = static_cast<int>(threads);
  o.dataset = a.get("--file");
  std::printf("%s: %lld chunks of %lld tokens\n", a.get("--model").c_str(),
              static_cast<long long>(chunks->n_chunks()), static_cast<long long>(n_ctx));
  std::fflush(stdout);
  o.on_chunk = [](const ImatrixProgress& pr) {
    std::printf("[%lld]%.4f,", static_cast<long long>(pr.chunk), pr.running_ppl);
    std::fflush(stdout);
    return true;
  };
  Result<Imatrix> im = compute_imatrix(*m->model, *chunks, o);
  std::printf("\n");
  if (!im.ok()) return report_status(kVerb, im.status());
  if (Status s = write_imatrix(*im, a.get("--output")); !s.ok()) return report_status(kVerb, s);
  std::printf("wrote %s: %zu matrices, %u chunks of %u tokens\n", a.get("--output").c_str(),
              im->entries.size(), im->chunk_count, im->chunk_size);
  return kExitOk;
}

const VerbRegistrar kImatrix({"imatrix", "Importance matrix from calibration text, for quantize",
                              run_imatrix});

}  // namespace
}  // namespace pocketlm::cli
