// The printed forms of a `pocketlm bench` run: a markdown table like llama-bench's, JSON (a list
// of objects, one per test and thread count, with llama-bench's field names) and CSV (the same
// fields, one row each).
//
// Usage:
//   std::optional<BenchFormat> f = bench_format_from_name("json");
//   write_bench_report(stdout, run, *f);
#pragma once

#include <cstdio>
#include <optional>
#include <string_view>

#include "bench_runner.h"

namespace pocketlm::cli {

enum class BenchFormat { kMarkdown, kJson, kCsv };

// "md", "json" or "csv"; nullopt for anything else.
std::optional<BenchFormat> bench_format_from_name(std::string_view name);

void write_bench_report(std::FILE* out, const BenchRun& run, BenchFormat format);

}  // namespace pocketlm::cli
