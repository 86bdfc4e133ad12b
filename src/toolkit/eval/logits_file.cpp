#include "toolkit/eval/logits_file.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "quant/fp16.h"

namespace pocketlm::toolkit {
namespace {

constexpr char kMagic[8] = {'P', 'L', 'M', 'L', 'O', 'G', 'I', 'T'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 8 + 6 * 4;

void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

double log_softmax(const float* logits, int64_t n, float* out) {
  float mx = logits[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
  const double lse = std::log(sum);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(logits[i] - mx - lse);
  return lse;
}

LogitsWriter::~LogitsWriter() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_path_.c_str());
  }
}

LogitsWriter::LogitsWriter(LogitsWriter&& o) noexcept { *this = std::move(o); }

LogitsWriter& LogitsWriter::operator=(LogitsWriter&& o) noexcept {
  if (this != &o) {
    if (f_) {
      std::fclose(f_);
      std::remove(tmp_path_.c_str());
    }
    f_ = o.f_;
    o.f_ = nullptr;
    path_ = std::move(o.path_);
    tmp_path_ = std::move(o.tmp_path_);
    h_ = o.h_;
    rows_ = o.rows_;
    buf_ = std::move(o.buf_);
    lp_ = std::move(o.lp_);
  }
  return *this;
}

Result<LogitsWriter> LogitsWriter::create(const std::string& path, const LogitsHeader& h,
                                          const std::vector<int32_t>& tokens) {
  if (tokens.size() != static_cast<size_t>(h.n_chunks) * h.n_ctx) {
    return internal_error("logits file: token count does not match the header");
  }
  LogitsWriter w;
  w.path_ = path;
  w.tmp_path_ = path + ".tmp-" + std::to_string(::getpid());
  w.h_ = h;
  w.f_ = std::fopen(w.tmp_path_.c_str(), "wb");
  if (!w.f_) {
    return io_error("cannot create '" + w.tmp_path_ + "': " + std::strerror(errno));
  }
  std::vector<uint8_t> head(kMagic, kMagic + 8);
  put_u32(head, kVersion);
  put_u32(head, h.n_vocab);
  put_u32(head, h.n_ctx);
  put_u32(head, h.n_chunks);
  put_u32(head, h.n_scored);
  put_u32(head, static_cast<uint32_t>(h.bos));
  for (int32_t t : tokens) put_u32(head, static_cast<uint32_t>(t));
  if (std::fwrite(head.data(), 1, head.size(), w.f_) != head.size()) {
    return io_error("writing '" + w.tmp_path_ + "' failed: " + std::strerror(errno));
  }
  w.buf_.resize(h.n_vocab);
  w.lp_.resize(h.n_vocab);
  return w;
}

Status LogitsWriter::write_row(const float* logits) {
  if (!f_) return internal_error("logits file: write after finish");
  log_softmax(logits, h_.n_vocab, lp_.data());
  for (uint32_t i = 0; i < h_.n_vocab; ++i) buf_[i] = fp32_to_fp16(lp_[i]);
  if (std::fwrite(buf_.data(), sizeof(uint16_t), buf_.size(), f_) != buf_.size()) {
    return io_error("writing '" + tmp_path_ + "' failed: " + std::strerror(errno));
  }
  ++rows_;
  return Status();
}

Status LogitsWriter::finish() {
  if (!f_) return internal_error("logits file: finished twice");
  if (rows_ != static_cast<uint64_t>(h_.n_chunks) * h_.n_scored) {
    return internal_error("logits file: row count does not match the header");
  }
  const bool ok = std::fflush(f_) == 0 && std::fclose(f_) == 0;
  f_ = nullptr;
  if (!ok || std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    std::remove(tmp_path_.c_str());
    return io_error("cannot write '" + path_ + "': " + std::strerror(errno));
  }
  return Status();
}

Result<LogitsReader> LogitsReader::open(const std::string& path) {
  Result<MappedFile> mf = MappedFile::open(path);
  if (!mf.ok()) return mf.status();
  LogitsReader r;
  r.file_ = std::move(mf).value();
  const uint8_t* p = r.file_.data();
  const uint64_t size = r.file_.size();
  if (size < kHeaderBytes || std::memcmp(p, kMagic, 8) != 0) {
    return malformed(path + " is not a pocketlm logits file (saved by perplexity --save-logits)");
  }
  if (get_u32(p + 8) != kVersion) {
    return malformed(
        strfmt("%s: logits file version %u is not supported", path.c_str(), get_u32(p + 8)));
  }
  LogitsHeader& h = r.h_;
  h.n_vocab = get_u32(p + 12);
  h.n_ctx = get_u32(p + 16);
  h.n_chunks = get_u32(p + 20);
  h.n_scored = get_u32(p + 24);
  h.bos = static_cast<int32_t>(get_u32(p + 28));
  const uint64_t n_tokens = static_cast<uint64_t>(h.n_chunks) * h.n_ctx;
  const uint64_t expect =
      kHeaderBytes + 4 * n_tokens + 2 * static_cast<uint64_t>(h.n_vocab) * h.n_chunks * h.n_scored;
  if (h.n_vocab == 0 || h.n_ctx < 4 || h.n_scored >= h.n_ctx || n_tokens > (uint64_t{1} << 32) ||
      size != expect) {
    return malformed(
        strfmt("%s: header (n_vocab %u, n_ctx %u, %u chunks of %u scored rows) does "
               "not match the file size %llu",
               path.c_str(), h.n_vocab, h.n_ctx, h.n_chunks, h.n_scored,
               static_cast<unsigned long long>(size)));
  }
  r.tokens_.resize(n_tokens);
  for (uint64_t i = 0; i < n_tokens; ++i) {
    r.tokens_[i] = static_cast<int32_t>(get_u32(p + kHeaderBytes + 4 * i));
  }
  r.data_offset_ = kHeaderBytes + 4 * n_tokens;
  return r;
}

void LogitsReader::log_probs(uint64_t row, float* out) const {
  const uint8_t* p = file_.data() + data_offset_ + row * 2 * h_.n_vocab;
  for (uint32_t i = 0; i < h_.n_vocab; ++i) {
    uint16_t v;
    std::memcpy(&v, p + 2 * i, 2);
    out[i] = fp16_to_fp32(v);
  }
  renormalise_log_probs(out, h_.n_vocab);
}

void renormalise_log_probs(float* lp, int64_t n) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, lp[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(lp[i] - mx));
  const float shift = static_cast<float>(mx + std::log(sum));
  for (int64_t i = 0; i < n; ++i) lp[i] -= shift;
}

void stored_log_probs(const float* logits, int64_t n, float* out) {
  log_softmax(logits, n, out);
  for (int64_t i = 0; i < n; ++i) out[i] = fp16_to_fp32(fp32_to_fp16(out[i]));
  renormalise_log_probs(out, n);
}

}  // namespace pocketlm::toolkit
