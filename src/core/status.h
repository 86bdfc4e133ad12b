// Status and Result<T>: the error currency of pocketlm.
//
// Usage:
//   Result<GgufFile> f = GgufFile::open(path);
//   if (!f.ok()) { std::fprintf(stderr, "%s\n", f.status().message().c_str()); return 2; }
//   const GgufFile& file = f.value();
//
// No exceptions cross module boundaries (DESIGN.md); user input that is wrong becomes a Status
// whose message says what was wrong and where. Codes are grouped by range like the C API's.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <variant>

namespace pocketlm {

enum class StatusCode : int {
  kOk = 0,
  // 100..199: the caller's input is wrong.
  kInvalidArgument = 100,
  kMalformedFile = 101,
  kUnsupported = 102,
  kNotFound = 103,
  kOutOfRange = 104,
  // 200..299: a resource could not be had.
  kIoError = 200,
  kOutOfMemory = 201,
  kCancelled = 202,
  // 300..399: our own bug.
  kInternal = 300,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status malformed(std::string m) { return Status(StatusCode::kMalformedFile, std::move(m)); }
inline Status unsupported(std::string m) { return Status(StatusCode::kUnsupported, std::move(m)); }
inline Status not_found(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status io_error(std::string m) { return Status(StatusCode::kIoError, std::move(m)); }
inline Status internal_error(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

// printf-style message building for error paths (never on hot paths).
template <typename... Args>
std::string strfmt(const char* fmt, Args... args) {
  int n = std::snprintf(nullptr, 0, fmt, args...);
  if (n <= 0) return std::string();
  std::string s(static_cast<size_t>(n), '\0');
  std::snprintf(s.data(), s.size() + 1, fmt, args...);
  return s;
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pocketlm

// Propagate an error Status out of the current function.
#define PLM_RETURN_IF_ERROR(expr)          \
  do {                                     \
    ::pocketlm::Status plm_s_ = (expr);    \
    if (!plm_s_.ok()) return plm_s_;       \
  } while (0)
