// The base-model logits file of `perplexity --save-logits` / `--kl-divergence`.
//
// Usage:
//   LogitsHeader h{n_vocab, n_ctx, n_chunks, n_scored, bos};
//   Result<LogitsWriter> w = LogitsWriter::create("base.logits", h, chunks.tokens());
//   PLM_RETURN_IF_ERROR(w->write_row(logits_row));   // n_chunks * n_scored rows, in order
//   PLM_RETURN_IF_ERROR(w->finish());
//
//   Result<LogitsReader> r = LogitsReader::open("base.logits");
//   r->log_probs(row, out);                           // n_vocab normalised log-probabilities
//
// Layout (little-endian): "PLMLOGIT" | u32 version (1) | u32 n_vocab | u32 n_ctx | u32 n_chunks |
// u32 n_scored | i32 bos (-1: none) | i32 tokens[n_chunks * n_ctx] (the text's tokens as cut into
// chunks, before BOS replacement) | n_chunks * n_scored rows of n_vocab log-probabilities as IEEE
// half floats. A row is written as log-softmax of the logits; half precision keeps 11 significant
// bits, which is finest where probabilities are large (log p near 0) and so where KL divergence is
// decided, and the reader renormalises each row so what it returns is an exact distribution.
// Storing log-probabilities rather than logits also makes the file independent of how a model
// offsets its logits.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/status.h"

namespace pocketlm::toolkit {

struct LogitsHeader {
  uint32_t n_vocab = 0;
  uint32_t n_ctx = 0;
  uint32_t n_chunks = 0;
  uint32_t n_scored = 0;  // rows per chunk
  int32_t bos = -1;
};

class LogitsWriter {
 public:
  LogitsWriter() = default;
  ~LogitsWriter();
  LogitsWriter(LogitsWriter&& o) noexcept;
  LogitsWriter& operator=(LogitsWriter&& o) noexcept;
  LogitsWriter(const LogitsWriter&) = delete;
  LogitsWriter& operator=(const LogitsWriter&) = delete;

  static Result<LogitsWriter> create(const std::string& path, const LogitsHeader& h,
                                     const std::vector<int32_t>& tokens);
  // One row: n_vocab raw logits, stored as log-probabilities.
  Status write_row(const float* logits);
  Status finish();  // checks the row count, closes, renames into place

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  std::string tmp_path_;
  LogitsHeader h_;
  uint64_t rows_ = 0;
  std::vector<uint16_t> buf_;
  std::vector<float> lp_;
};

class LogitsReader {
 public:
  static Result<LogitsReader> open(const std::string& path);

  const LogitsHeader& header() const { return h_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  uint64_t n_rows() const { return static_cast<uint64_t>(h_.n_chunks) * h_.n_scored; }
  // Row `row` as normalised log-probabilities (n_vocab floats).
  void log_probs(uint64_t row, float* out) const;

 private:
  MappedFile file_;
  LogitsHeader h_;
  std::vector<int32_t> tokens_;
  uint64_t data_offset_ = 0;
};

// log-softmax of n logits into out (may alias); returns the log of the normaliser's sum (after
// subtracting the maximum), i.e. out[i] = logits[i] - max - returned.
double log_softmax(const float* logits, int64_t n, float* out);

// Renormalises n log-probabilities in place (what the reader does to a stored row).
void renormalise_log_probs(float* lp, int64_t n);

// The log-probabilities of n logits exactly as a saved row reads back: log-softmax, rounded to
// half precision, renormalised. Comparing a model's rows in this form with a base file's makes
// discrete statistics (the top token) compare the same quantity on both sides: half precision
// ties near-equal candidates, and a model compared with its own saved logits must agree.
void stored_log_probs(const float* logits, int64_t n, float* out);

}  // namespace pocketlm::toolkit
