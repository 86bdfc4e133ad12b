#!/usr/bin/env python3
"""pocketlm against llama.cpp, side by side: the same GGUF file, threads, prompt and generation
lengths, measured alternately (A B A B ...) so both see the same machine conditions.

  scripts/bench_compare.py                       # every row, 1 and 2 threads, 5 pairs
  scripts/bench_compare.py --quick               # SmolLM2 Q4_1 only, 2 pairs
  scripts/bench_compare.py --rows smollm2-q4_1,gemma3-q4_k_m --threads 2 --pairs 3
      [--json out.json] [--plot chart.svg] [--markdown table.md]
  scripts/bench_compare.py --from-json a.json,b.json --plot chart.svg --markdown table.md
      # re-render (and merge) saved runs without measuring

Each measurement runs in a fresh subprocess, so peak RSS and load time are per side and per run:
 - A: `pocketlm bench -m MODEL -p 128,512 -n 128 -t T -r 1 -c N_CTX --format json --probe-mib 0`
 - B: this script under the llama-cpp-python environment (.venv-ref), `--llama-worker`: the
   library's low-level API, timed with time.perf_counter around the C calls.
Both sides do the same work in the same order: load the model (timed: pocketlm's
LoadedModel::load, llama.cpp's llama_model_load_from_file, which includes its weight repacking);
then for pp128 and pp512 one unmeasured run and one timed run of N pseudo-random token ids in one
batch into an empty cache (batch size 512, logits of the last token only); then for tg128 one
unmeasured decode step and 128 timed steps of one token each from an empty cache. Same n_ctx,
F16 KV cache, no flash attention on either side.

Per row and thread count the script takes the median of each figure over the pairs and reports
pocketlm / llama.cpp: above 1 is better for pocketlm in tokens/s, worse in memory and load time.
Peak RSS is the process's high-water mark (ru_maxrss); the table also subtracts what each process
held just before loading the model (the Python interpreter and llama.cpp's libraries on the
llama.cpp side), so the ratio compares what the model and the run themselves cost.

Rows (models/bench/ files come from scripts/make_bench_models.py; missing files are skipped):
  smollm2-q4_1   models/SmolLM2-135M-Instruct.Q4_1.gguf (as shipped)
  smollm2-q8_0   models/bench/SmolLM2-135M-Instruct.Q8_0.gguf
  smollm2-q4_0   models/bench/SmolLM2-135M-Instruct.Q4_0.gguf
  gemma3-q4_k_m  models/gemma-3-270m-q4_k_m.gguf
  llama1b-q4_0   models/bench/llama-3.2-1b-shape.random.Q4_0.gguf
  llama1b-q8_0   models/bench/llama-3.2-1b-shape.random.Q8_0.gguf
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = [
    ("smollm2-q4_1", "SmolLM2-135M Q4_1 (shipped)", "models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("smollm2-q8_0", "SmolLM2-135M Q8_0", "models/bench/SmolLM2-135M-Instruct.Q8_0.gguf"),
    ("smollm2-q4_0", "SmolLM2-135M Q4_0", "models/bench/SmolLM2-135M-Instruct.Q4_0.gguf"),
    ("gemma3-q4_k_m", "Gemma 3 270M Q4_K_M", "models/gemma-3-270m-q4_k_m.gguf"),
    ("llama1b-q4_0", "Llama-3.2-1B shape Q4_0", "models/bench/llama-3.2-1b-shape.random.Q4_0.gguf"),
    ("llama1b-q8_0", "Llama-3.2-1B shape Q8_0", "models/bench/llama-3.2-1b-shape.random.Q8_0.gguf"),
]
TESTS = [("pp128", 128, 0), ("pp512", 512, 0), ("tg128", 0, 128)]
N_CTX = 768  # holds the longest test (512); a multiple of 256, which llama.cpp pads n_ctx to
N_BATCH = 512
SEED = 1234
MIB = 1024.0 * 1024.0


# ----------------------------------------------------------------------------------------------
# The llama.cpp side: runs inside the llama-cpp-python environment.

def current_rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def llama_worker(model_path: str, threads: int, n_ctx: int) -> int:
    import ctypes
    import random

    import llama_cpp as L

    # Silence llama.cpp's log (it goes to stderr): the parent reads only our JSON line.
    log_cb = L.llama_log_callback(lambda level, text, user_data: None)
    L.llama_log_set(log_cb, ctypes.c_void_p())
    L.llama_backend_init()
    rss_before = current_rss_bytes()

    mp = L.llama_model_default_params()
    mp.n_gpu_layers = 0
    mp.use_mmap = True
    t0 = time.perf_counter()
    model = L.llama_model_load_from_file(model_path.encode(), mp)
    load_ms = (time.perf_counter() - t0) * 1e3
    if not model:
        print(f"llama.cpp cannot load {model_path}", file=sys.stderr)
        return 1
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)

    cp = L.llama_context_default_params()
    cp.n_ctx = n_ctx
    cp.n_batch = N_BATCH
    cp.n_ubatch = N_BATCH
    cp.n_seq_max = 1
    cp.n_threads = threads
    cp.n_threads_batch = threads
    cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
    cp.no_perf = True
    ctx = L.llama_init_from_model(model, cp)
    if not ctx:
        print("llama.cpp cannot create a context", file=sys.stderr)
        return 1
    mem = L.llama_get_memory(ctx)
    rng = random.Random(SEED)

    def decode(ids: list[int]) -> None:
        arr = (L.llama_token * len(ids))(*ids)
        rc = L.llama_decode(ctx, L.llama_batch_get_one(arr, len(ids)))
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        L.llama_synchronize(ctx)

    def prompt(n: int) -> float:
        ids = [rng.randrange(n_vocab) for _ in range(n)]
        L.llama_memory_clear(mem, True)
        t = time.perf_counter()
        for i in range(0, n, N_BATCH):
            decode(ids[i:i + N_BATCH])
        return time.perf_counter() - t

    def gen(n: int) -> float:
        L.llama_memory_clear(mem, True)
        t = time.perf_counter()
        for _ in range(n):
            decode([rng.randrange(n_vocab)])
        return time.perf_counter() - t

    result = {"load_ms": load_ms, "rss_before_load_bytes": rss_before, "tests": {}}
    for name, n_prompt, n_gen in TESTS:
        run = (lambda n=n_prompt: prompt(n)) if n_prompt else (lambda n=n_gen: gen(n))
        if n_prompt:
            run()  # warm-up: the whole test, as llama-bench does
        else:
            gen(1)  # warm-up: one decode step
        sec = run()
        result["tests"][name] = (n_prompt + n_gen) / sec
    result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    L.llama_free(ctx)
    L.llama_model_free(model)
    print(json.dumps(result))
    return 0


# ----------------------------------------------------------------------------------------------
# The driver.

def run_pocketlm(pocketlm: str, model: str, threads: int) -> dict:
    cmd = [pocketlm, "bench", "-m", model, "-p", "128,512", "-n", "128", "-t", str(threads),
           "-r", "1", "-c", str(N_CTX), "-b", str(N_BATCH), "--format", "json", "--probe-mib", "0",
           "--seed", str(SEED)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"pocketlm bench failed: {p.stderr.strip()}")
    rows = json.loads(p.stdout)
    first = rows[0]
    return {"load_ms": first["load_cold_ms"], "peak_rss_bytes": first["peak_rss_bytes"],
            "rss_before_load_bytes": first["rss_before_load_bytes"],
            "tests": {r["test"]: r["avg_ts"] for r in rows}}


def run_llama(ref_python: str, model: str, threads: int) -> dict:
    cmd = [ref_python, os.path.abspath(__file__), "--llama-worker", model, "--threads",
           str(threads), "--n-ctx", str(N_CTX)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"llama.cpp worker failed: {p.stderr.strip()[-500:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def metrics(m: dict) -> dict:
    """The figures compared, from one measurement."""
    out = {name: m["tests"][name] for name, _, _ in TESTS}
    out["rss_mib"] = m["peak_rss_bytes"] / MIB
    out["rss_model_mib"] = (m["peak_rss_bytes"] - m["rss_before_load_bytes"]) / MIB
    out["load_ms"] = m["load_ms"]
    return out


METRICS = [("pp128", "pp128 t/s"), ("pp512", "pp512 t/s"), ("tg128", "tg128 t/s"),
           ("rss_model_mib", "peak RSS above pre-load, MiB"), ("rss_mib", "peak RSS, MiB"),
           ("load_ms", "load ms")]


def fmt(v: float) -> str:
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def markdown(results: list[dict]) -> str:
    head = "| model | threads | " + " | ".join(label for _, label in METRICS) + " |"
    sep = "| --- | ---: | " + " | ".join("---:" for _ in METRICS) + " |"
    lines = [
        "Each cell: pocketlm / llama.cpp (ratio pocketlm ÷ llama.cpp), medians over the pairs.",
        "",
        head, sep]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['label']} | {r['threads']} | " +
                         " | ".join("—" for _ in METRICS) + " |")
            continue
        cells = []
        for key, _ in METRICS:
            a, b = r["median"]["pocketlm"][key], r["median"]["llama.cpp"][key]
            cells.append(f"{fmt(a)} / {fmt(b)} ({a / b:.2f}×)" if b else f"{fmt(a)} / {fmt(b)}")
        lines.append(f"| {r['label']} | {r['threads']} | " + " | ".join(cells) + " |")
    errors = [r for r in results if "error" in r]
    if errors:
        lines.append("")
        for r in errors:
            lines.append(f"- {r['label']}, {r['threads']} threads: {r['error']}")
    return "\n".join(lines) + "\n"


def plot_svg(results: list[dict]) -> str:
    """Ratio pocketlm / llama.cpp per row and thread count, one bar per metric, a line at 1."""
    keys = [("pp128", "pp128", "#4e79a7"), ("pp512", "pp512", "#f28e2b"),
            ("tg128", "tg128", "#59a14f"), ("rss_model_mib", "peak RSS", "#e15759"),
            ("load_ms", "load time", "#b07aa1")]
    ok = [r for r in results if "error" not in r]
    ratios = [[r["median"]["pocketlm"][k] / r["median"]["llama.cpp"][k]
               if r["median"]["llama.cpp"][k] else 0.0 for k, _, _ in keys] for r in ok]
    # Ratios far from 1 (a side starved of CPU) would flatten the rest: the axis stops at 3 and
    # taller bars are cut there, their value still written above them.
    top = min(3.0, max([1.0] + [v for row in ratios for v in row]) * 1.1)
    group_w, bar_w, left, top_pad, plot_h = 165.0, 22.0, 60.0, 70.0, 300.0
    width = max(620.0, left + group_w * max(1, len(ok)) + 20)
    height = top_pad + plot_h + 70

    def y(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
           '<text x="10" y="20" font-size="14" font-weight="bold">pocketlm / llama.cpp, '
           'medians</text>',
           f'<text x="{width - 10:.0f}" y="20" text-anchor="end" fill="#555">above 1: pocketlm '
           'faster (t/s), or larger (RSS, load time)</text>']
    for k, (_, label, color) in enumerate(keys):
        x = 10 + 95 * k
        out.append(f'<rect x="{x}" y="32" width="12" height="12" fill="{color}"/>'
                   f'<text x="{x + 16}" y="43">{label}</text>')
    step = 0.25 if top <= 2 else 0.5
    v = 0.0
    while v <= top + 1e-9:
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - 20:.0f}" y2="{y(v):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 4}" y="{y(v) + 4:.1f}" '
                   f'text-anchor="end">{v:.2f}</text>')
        v += step
    out.append(f'<line x1="{left}" y1="{y(1):.1f}" x2="{width - 20:.0f}" y2="{y(1):.1f}" '
               'stroke="black" stroke-dasharray="4 3"/>')
    for g, (r, row) in enumerate(zip(ok, ratios)):
        x0 = left + g * group_w + (group_w - bar_w * len(keys)) / 2
        for k, ((_, label, color), val) in enumerate(zip(keys, row)):
            x = x0 + k * bar_w
            shown = min(val, top)
            out.append(f'<rect x="{x:.1f}" y="{y(shown):.1f}" width="{bar_w - 3:.1f}" '
                       f'height="{y(0) - y(shown):.1f}" fill="{color}"><title>{esc(r["label"])}, '
                       f'{r["threads"]} threads, {label}: {val:.2f}</title></rect>')
            if val > top:  # cut: a zigzag marks the break
                out.append(f'<path d="M{x:.1f} {y(shown) + 6:.1f}l{(bar_w - 3) / 2:.1f} -4'
                           f'l{(bar_w - 3) / 2:.1f} 4" stroke="white" stroke-width="2" '
                           'fill="none"/>')
            out.append(f'<text x="{x + (bar_w - 3) / 2:.1f}" y="{y(shown) - 3:.1f}" '
                       f'text-anchor="middle" font-size="8">{val:.2f}</text>')
        cx = left + g * group_w + group_w / 2
        n_pairs = len(r["pocketlm"])
        out.append(f'<text x="{cx:.1f}" y="{y(0) + 16:.1f}" text-anchor="middle">'
                   f'{esc(r["label"].split(" (")[0])}</text>')
        out.append(f'<text x="{cx:.1f}" y="{y(0) + 30:.1f}" text-anchor="middle">'
                   f'{r["threads"]} thread{"s" if r["threads"] != 1 else ""}, '
                   f'{n_pairs} pair{"s" if n_pairs != 1 else ""}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", help="comma-separated row names (default: all): " +
                    ", ".join(r[0] for r in ROWS))
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--pairs", type=int, default=5, help="A B pairs per row and thread count")
    ap.add_argument("--quick", action="store_true", help="SmolLM2 Q4_1 only, 2 pairs")
    ap.add_argument("--pocketlm", default=None, help="the pocketlm binary "
                    "(default: build-bench/pocketlm, else build/pocketlm)")
    ap.add_argument("--ref-python", default=os.path.join(ROOT, ".venv-ref", "bin", "python"),
                    help="python with llama-cpp-python (default .venv-ref)")
    ap.add_argument("--json", help="write every measurement and the medians here")
    ap.add_argument("--plot", help="write the ratio chart (SVG) here")
    ap.add_argument("--markdown", help="also write the table here")
    ap.add_argument("--from-json", help="comma-separated --json files of earlier runs: merge "
                    "their rows and write the table, chart and json without measuring")
    ap.add_argument("--llama-worker", metavar="MODEL", help=argparse.SUPPRESS)
    ap.add_argument("--n-ctx", type=int, default=N_CTX, help=argparse.SUPPRESS)
    args = ap.parse_args()

    threads = [int(t) for t in args.threads.split(",")]
    if args.llama_worker:
        return llama_worker(args.llama_worker, threads[0], args.n_ctx)

    if args.from_json:
        results, envs = [], []
        for path in args.from_json.split(","):
            with open(path) as f:
                saved = json.load(f)
            results += saved["results"]
            envs.append(saved["environment"])
        env = {"merged_from": envs, "load_average_start": envs[0]["load_average_start"]}
        save(results, env, args)
        print(markdown(results), end="")
        return 0

    pocketlm = args.pocketlm
    if pocketlm is None:
        for cand in ("build-bench/pocketlm", "build/pocketlm"):
            if os.path.isfile(os.path.join(ROOT, cand)):
                pocketlm = os.path.join(ROOT, cand)
                break
    if pocketlm is None or not os.path.isfile(pocketlm):
        print("bench_compare.py: no pocketlm binary (build it, or pass --pocketlm)",
              file=sys.stderr)
        return 2
    if not os.path.isfile(args.ref_python):
        print(f"bench_compare.py: {args.ref_python} not found (llama-cpp-python's environment)",
              file=sys.stderr)
        return 2
    names = [r[0] for r in ROWS]
    wanted = args.rows.split(",") if args.rows else names
    pairs = args.pairs
    if args.quick:
        wanted, pairs = ["smollm2-q4_1"], 2
    unknown = [w for w in wanted if w not in names]
    if unknown:
        print(f"bench_compare.py: unknown row(s) {', '.join(unknown)}; rows: {', '.join(names)}",
              file=sys.stderr)
        return 2

    env = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": platform.machine(), "cpus": os.cpu_count(),
           "load_average_start": load_average(), "pairs": pairs, "n_ctx": N_CTX,
           "n_batch": N_BATCH}
    print(f"bench_compare: {env['date']}, load average {env['load_average_start']}, "
          f"{pairs} pairs", file=sys.stderr)
    results = []
    for name, label, rel in ROWS:
        if name not in wanted:
            continue
        path = os.path.join(ROOT, rel)
        for t in threads:
            entry = {"row": name, "label": label, "threads": t, "model": rel,
                     "pocketlm": [], "llama.cpp": []}
            results.append(entry)
            if not os.path.isfile(path):
                entry["error"] = f"{rel} not found (scripts/make_bench_models.py writes it)"
                print(f"  {label}: skipped, {entry['error']}", file=sys.stderr)
                continue
            try:
                for i in range(pairs):
                    entry["pocketlm"].append(metrics(run_pocketlm(pocketlm, path, t)))
                    entry["llama.cpp"].append(metrics(run_llama(args.ref_python, path, t)))
                    a, b = entry["pocketlm"][-1], entry["llama.cpp"][-1]
                    print(f"  {label} t={t} pair {i + 1}/{pairs}: " + ", ".join(
                        f"{k} {fmt(a[k])}/{fmt(b[k])}" for k, _ in METRICS[:3]), file=sys.stderr)
            except (RuntimeError, json.JSONDecodeError, KeyError, IndexError) as e:
                entry["error"] = str(e).splitlines()[-1] if str(e) else type(e).__name__
                print(f"  {label} t={t}: {entry['error']}", file=sys.stderr)
                continue
            entry["median"] = {
                side: {k: statistics.median(m[k] for m in entry[side]) for k, _ in METRICS}
                for side in ("pocketlm", "llama.cpp")}
            save(results, env, args)
    save(results, env, args)
    print(markdown(results), end="")
    print(f"\nload average: {env['load_average_start']} at the start, "
          f"{env['load_average_end']} at the end ({env['cpus']} CPUs)")
    return 0


def save(results: list[dict], env: dict, args: argparse.Namespace) -> None:
    """Writes the requested files; called after every row, so an interrupted run keeps what it
    measured."""
    if "merged_from" not in env:
        env["load_average_end"] = load_average()
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"environment": env, "results": results}, f, indent=1)
    if args.plot:
        with open(args.plot, "w") as f:
            f.write(plot_svg(results))


if __name__ == "__main__":
    sys.exit(main())
