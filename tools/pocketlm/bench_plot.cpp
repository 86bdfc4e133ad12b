#include "bench_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace pocketlm::cli {
namespace {

constexpr double kPanelW = 230.0;
constexpr double kPanelH = 260.0;
constexpr double kLeft = 60.0;    // room for the y labels of a panel
constexpr double kTop = 70.0;     // title and legend
constexpr double kBottom = 40.0;  // x labels
constexpr double kGap = 30.0;     // between panels
constexpr const char* kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                   "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A round tick step (1, 2 or 5 times a power of ten) giving about five ticks up to `top`.
double tick_step(double top) {
  if (top <= 0) return 1.0;
  const double raw = top / 5.0;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * p >= raw) return m * p;
  }
  return 10.0 * p;
}

std::string number(double v) {
  if (v >= 100) return strfmt("%.0f", v);
  if (v >= 10) return strfmt("%.1f", v);
  return strfmt("%.2f", v);
}

// Tick labels with as many decimals as the step needs (0, 50, 100 or 0, 0.5, 1.0).
std::string tick_label(double v, double step) {
  if (step >= 1) return strfmt("%.0f", v);
  return strfmt("%.*f", static_cast<int>(std::ceil(-std::log10(step))), v);
}

}  // namespace

std::string bench_plot_svg(const BenchRun& run) {
  // Panels in the order tests first appear; thread counts in the order they were run.
  std::vector<std::string> tests;
  std::vector<int> threads;
  for (const TestResult& t : run.tests) {
    if (std::find(tests.begin(), tests.end(), t.test) == tests.end()) tests.push_back(t.test);
    if (std::find(threads.begin(), threads.end(), t.threads) == threads.end()) {
      threads.push_back(t.threads);
    }
  }
  const double panels = static_cast<double>(std::max<size_t>(1, tests.size()));
  // At least wide enough for the title and the legend.
  const double width = std::max(560.0, kLeft + panels * (kPanelW + kGap));
  const double height = kTop + kPanelH + kBottom;
  std::string svg = strfmt(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
      width, height, width, height);
  svg += strfmt("<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", width, height);
  svg += strfmt("<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
                xml_escape("pocketlm bench: " + run.model.desc + " (CPU " + run.isa + ")").c_str());
  svg += strfmt(
      "<text x=\"%.0f\" y=\"43\" text-anchor=\"end\" fill=\"#555\">tokens/s: mean, "
      "error bar = standard deviation</text>\n",
      width - 10);
  // Legend: one swatch per thread count.
  for (size_t k = 0; k < threads.size(); ++k) {
    const double x = 10.0 + 110.0 * static_cast<double>(k);
    svg += strfmt("<rect x=\"%.0f\" y=\"32\" width=\"12\" height=\"12\" fill=\"%s\"/>", x,
                  kColors[k % 8]);
    svg += strfmt("<text x=\"%.0f\" y=\"43\">%d thread%s</text>\n", x + 16, threads[k],
                  threads[k] == 1 ? "" : "s");
  }
  for (size_t p = 0; p < tests.size(); ++p) {
    const double x0 = kLeft + static_cast<double>(p) * (kPanelW + kGap);
    const double y0 = kTop;  // top of the plot area
    double top = 0.0;
    for (const TestResult& t : run.tests) {
      if (t.test == tests[p]) top = std::max(top, t.avg_ts() + t.stddev_ts());
    }
    const double step = tick_step(top * 1.1);
    const double y_max = std::max(step, std::ceil(top * 1.1 / step) * step);
    auto y_of = [&](double v) { return y0 + kPanelH - kPanelH * v / y_max; };
    svg += strfmt(
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">%s"
        "</text>\n",
        x0 + kPanelW / 2, y0 - 8, xml_escape(tests[p]).c_str());
    for (double v = 0.0; v <= y_max + step / 2; v += step) {
      svg += strfmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", x0,
                    y_of(v), x0 + kPanelW, y_of(v));
      svg += strfmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", x0 - 4,
                    y_of(v) + 4, tick_label(v, step).c_str());
    }
    svg += strfmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", x0,
                  y0, x0, y0 + kPanelH);
    const double slot = kPanelW / static_cast<double>(std::max<size_t>(1, threads.size()));
    for (size_t k = 0; k < threads.size(); ++k) {
      const TestResult* r = nullptr;
      for (const TestResult& t : run.tests) {
        if (t.test == tests[p] && t.threads == threads[k]) r = &t;
      }
      if (r == nullptr) continue;
      const double bx = x0 + slot * static_cast<double>(k) + slot * 0.15;
      const double bw = slot * 0.7;
      const double avg = r->avg_ts(), sd = r->stddev_ts();
      svg += strfmt(
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
          "<title>%s, %d threads: %.2f &#177; %.2f tokens/s</title></rect>\n",
          bx, y_of(avg), bw, y0 + kPanelH - y_of(avg), kColors[k % 8], xml_escape(tests[p]).c_str(),
          threads[k], avg, sd);
      if (sd > 0) {
        const double cx = bx + bw / 2;
        svg += strfmt("<path d=\"M%.1f %.1fV%.1fM%.1f %.1fh10M%.1f %.1fh10\" stroke=\"black\"/>\n",
                      cx, y_of(avg + sd), y_of(std::max(0.0, avg - sd)), cx - 5, y_of(avg + sd),
                      cx - 5, y_of(std::max(0.0, avg - sd)));
      }
      svg += strfmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", bx + bw / 2,
                    y_of(avg + sd) - 4, number(avg).c_str());
      svg += strfmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">t=%d</text>\n", bx + bw / 2,
                    y0 + kPanelH + 16, threads[k]);
    }
  }
  svg += "</svg>\n";
  return svg;
}

Status write_bench_plot(const std::string& path, const BenchRun& run) {
  const std::string svg = bench_plot_svg(run);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status(StatusCode::kIoError, "cannot write the plot to " + path);
  const size_t written = std::fwrite(svg.data(), 1, svg.size(), f);
  const bool closed = std::fclose(f) == 0;
  if (written != svg.size() || !closed) {
    return Status(StatusCode::kIoError, "cannot write the plot to " + path);
  }
  return Status();
}

}  // namespace pocketlm::cli
