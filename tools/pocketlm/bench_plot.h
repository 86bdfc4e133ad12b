// `pocketlm bench --plot FILE.svg`: the run's tokens per second as a bar chart, written as one
// self-contained SVG file (no fonts, scripts or images from elsewhere).
//
// Usage:
//   if (Status s = write_bench_plot("bench.svg", run); !s.ok()) report(s);
//
// One panel per test (pp512, tg128, ...), each with its own y scale, since prefill runs an order
// of magnitude faster than decode; within a panel one bar per thread count with its standard
// deviation as an error bar and its mean written above it.
#pragma once

#include <string>

#include "bench_runner.h"
#include "core/status.h"

namespace pocketlm::cli {

// The SVG text of the chart.
std::string bench_plot_svg(const BenchRun& run);

// Writes bench_plot_svg(run) to `path`; kIoError naming the path when it cannot.
Status write_bench_plot(const std::string& path, const BenchRun& run);

}  // namespace pocketlm::cli
