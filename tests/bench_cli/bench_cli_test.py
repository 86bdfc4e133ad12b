#!/usr/bin/env python3
"""End-to-end tests of `pocketlm bench`: the real binary on the real model (ctest label: e2e).

Each case is one ctest (tests/bench_cli/tests.cmake passes --case NAME); without --case every
case runs. The model is SmolLM2-135M-Instruct Q4_1; when it is missing the script exits 77, which
ctest reports as skipped. Sizes are tiny (-p 8 -n 4 -r 1 or 2) so each case takes seconds.
Nothing here asserts a speed: the figures are checked for shape and internal consistency only.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

SKIP = 77
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# SmolLM2-135M: 30 layers, 3 KV heads of 64.
N_LAYER, KV_WIDTH = 30, 192
TINY = ["-p", "8", "-n", "4", "--probe-mib", "16"]
LLAMA_BENCH_FIELDS = ["model", "model_filename", "model_type", "model_size", "model_n_params",
                      "n_batch", "n_threads", "n_prompt", "n_gen", "test_time", "avg_ns",
                      "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts"]


class Failed(Exception):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise Failed(message)


class Ctx:
    def __init__(self, pocketlm: str, model: str, workdir: str) -> None:
        self.pocketlm = os.path.abspath(pocketlm)
        self.model = os.path.abspath(model)
        self.workdir = workdir

    def run(self, args: list[str]) -> subprocess.CompletedProcess:
        p = subprocess.run([self.pocketlm, "bench"] + args, capture_output=True, text=True,
                           timeout=300)
        print(f"$ pocketlm bench {' '.join(args)}\n  -> exit {p.returncode}, "
              f"stdout {p.stdout!r:.300}, stderr {p.stderr!r:.300}")
        return p

    def ok(self, args: list[str]) -> subprocess.CompletedProcess:
        p = self.run(["-m", self.model] + args)
        check(p.returncode == 0, f"bench exited {p.returncode}: {p.stderr}")
        # stderr is not a terminal here, so there is no progress output.
        check(p.stderr == "", f"unexpected stderr: {p.stderr!r}")
        return p


def case_errors(c: Ctx) -> None:
    bad = [
        (["-m", c.model, "-p", "abc"], "-p"),
        (["-m", c.model, "-p", "128,"], "-p"),
        (["-m", c.model, "-n", "-5"], "-n"),
        (["-m", c.model, "-t", "0"], "-t"),
        (["-m", c.model, "-t", "1,x"], "-t"),
        (["-m", c.model, "-r", "0"], "-r"),
        (["-m", c.model, "--format", "xml"], "--format"),
        (["-m", c.model, "-p", "0", "-n", "0"], "nothing to run"),
        (["-m", c.model, "--bogus"], "--bogus"),
        (["-m", c.model, "-c", "4", "-p", "8", "-n", "0", "--probe-mib", "0"], "context"),
        (["-m", os.path.join(c.workdir, "absent.gguf")], "absent.gguf"),
        (["-m", c.model, "extra"], "extra"),
    ]
    for args, needle in bad:
        p = c.run(args)
        check(p.returncode == 2, f"{args}: exit {p.returncode}, expected 2")
        lines = p.stderr.splitlines()
        check(len(lines) == 1, f"{args}: expected one stderr line, got {lines}")
        check(lines[0].startswith("pocketlm bench: "), f"{args}: {lines[0]!r}")
        check(needle in lines[0], f"{args}: {lines[0]!r} does not mention {needle!r}")
        check(p.stdout == "", f"{args}: stdout {p.stdout!r}")
    # An output that cannot be written is a failure of the work (1), after the report.
    p = c.run(["-m", c.model, "-p", "8", "-n", "0", "-r", "1", "--probe-mib", "0", "--plot",
               os.path.join(c.workdir, "no", "such", "dir", "x.svg")])
    check(p.returncode == 1, f"unwritable plot: exit {p.returncode}, expected 1")
    check(len(p.stderr.splitlines()) == 1 and "x.svg" in p.stderr, f"stderr {p.stderr!r}")
    p = c.run(["--help"])
    check(p.returncode == 0 and "--format" in p.stdout and "--plot" in p.stdout, "help")


def check_rows(rows: list[dict], threads: list[int], reps: int) -> None:
    expected = [(f"pp8", t) for t in threads] + [(f"tg4", t) for t in threads]
    got = [(r["test"], r["threads"]) for r in rows]
    check(sorted(got) == sorted(expected), f"tests {got}, expected {expected}")
    # Thread counts are the outer loop: all of one count's tests, then the next.
    check([r["threads"] for r in rows] == sorted(r["threads"] for r in rows), f"order {got}")
    first = rows[0]
    for r in rows:
        for f in LLAMA_BENCH_FIELDS + ["test", "threads"]:
            check(f in r, f"{r['test']}: no field {f}")
        check(r["n_threads"] == r["threads"], "n_threads")
        check((r["n_prompt"], r["n_gen"]) == ((8, 0) if r["test"] == "pp8" else (0, 4)),
              f"{r['test']}: n_prompt {r['n_prompt']} n_gen {r['n_gen']}")
        check(len(r["samples_ts"]) == reps and len(r["samples_ns"]) == reps, "samples")
        n = r["n_prompt"] + r["n_gen"]
        for ts, ns in zip(r["samples_ts"], r["samples_ns"]):
            check(ns > 0 and math.isclose(ts, n * 1e9 / ns, rel_tol=1e-6), f"ts {ts} ns {ns}")
        mean = sum(r["samples_ts"]) / reps
        check(math.isclose(r["avg_ts"], mean, rel_tol=1e-9), f"avg_ts {r['avg_ts']} vs {mean}")
        if reps == 1:
            check(r["stddev_ts"] == 0, "stddev of one sample")
        else:
            var = sum((x - mean) ** 2 for x in r["samples_ts"]) / (reps - 1)
            check(math.isclose(r["stddev_ts"], math.sqrt(var), rel_tol=1e-6, abs_tol=1e-9),
                  f"stddev_ts {r['stddev_ts']}")
        # One run's facts are the same on every row.
        for f in ("model", "model_size", "model_n_params", "peak_rss_bytes", "kv_cache_bytes",
                  "load_cold_ms", "load_warm_ms", "decode_bytes_per_token"):
            check(r[f] == first[f], f"{f} differs between rows")
        check(r["bandwidth_probe_gb_s"] > 0, "bandwidth probe")
        if r["n_gen"] > 0:
            gbs = r["decode_bytes_per_token"] * r["avg_ts"] / 1e9
            check(math.isclose(r["decode_gb_s"], gbs, rel_tol=1e-6), "decode_gb_s")
            check(math.isclose(r["bandwidth_use"], gbs / r["bandwidth_probe_gb_s"],
                               rel_tol=1e-6), "bandwidth_use")
        else:
            check(r["decode_gb_s"] == 0, "decode_gb_s of a pp test")
    check(first["model"] == "llama 135M Q4_1", f"model {first['model']!r}")
    check(first["model_n_params"] == 134515008, f"params {first['model_n_params']}")
    check(first["model_filename"].endswith(MODEL_NAME), first["model_filename"])
    # SmolLM2's output is tied to the token embedding: a decode step reads every weight.
    check(first["decode_bytes_per_token"] == first["model_size"], "decode bytes of a tied model")
    check(first["model_size"] < os.path.getsize(first["model_filename"]), "model_size")
    # The context is the longest test (8): keys 8 rows per layer, values padded to 32 positions.
    kv = first["kv_cache_bytes"]
    check(2 * N_LAYER * 8 * KV_WIDTH * 2 <= kv <= 2 * N_LAYER * 32 * KV_WIDTH * 2, f"KV {kv}")
    check(first["n_ctx"] == 8, f"n_ctx {first['n_ctx']}")
    check(first["peak_rss_bytes"] > first["rss_before_load_bytes"] > 0, "RSS")
    check(first["load_cold_ms"] > 0 and first["load_warm_ms"] > 0, "load times")


def case_json(c: Ctx) -> None:
    p = c.ok(TINY + ["-t", "1,2", "-r", "2", "--format", "json"])
    rows = json.loads(p.stdout)
    check(isinstance(rows, list) and len(rows) == 4, f"{len(rows)} rows")
    check_rows(rows, [1, 2], 2)


def case_csv(c: Ctx) -> None:
    p = c.ok(TINY + ["-t", "1", "-r", "1", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    check(len(rows) == 2, f"{len(rows)} rows")
    p2 = c.ok(TINY + ["-t", "1", "-r", "1", "--format", "json"])
    json_fields = list(json.loads(p2.stdout)[0].keys())
    check(list(rows[0].keys()) == json_fields, "CSV columns are the JSON fields, in order")
    check([r["test"] for r in rows] == ["pp8", "tg4"], "tests")
    for r in rows:
        check(float(r["avg_ts"]) > 0 and r["threads"] == "1", f"row {r}")
        check(len(r["samples_ts"].split()) == 1, "samples")


def case_markdown(c: Ctx) -> None:
    p = c.ok(TINY + ["-t", "1", "-r", "1"])
    lines = p.stdout.splitlines()
    check(lines[0].startswith("| model") and "t/s" in lines[0] and "threads" in lines[0],
          lines[0])
    check(set(lines[1]) <= set("|-: "), lines[1])
    body = [l for l in lines[2:4]]
    check(all(l.startswith("| llama 135M Q4_1") and "±" in l for l in body), f"{body}")
    check("pp8" in body[0] and "tg4" in body[1], f"{body}")
    for needle in ("load: cold", "peak RSS", "KV cache", "per token", "bandwidth probe",
                   "of bound"):
        check(needle in p.stdout, f"no {needle!r} in the report")


def case_plot(c: Ctx) -> None:
    svg_path = os.path.join(c.workdir, "bench.svg")
    p = c.ok(TINY + ["-t", "1,2", "-r", "1", "--format", "json", "--plot", svg_path])
    rows = json.loads(p.stdout)
    root = ET.parse(svg_path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    check(root.tag == ns + "svg", f"root {root.tag}")
    check(float(root.get("width")) > 0 and float(root.get("height")) > 0, "size")
    texts = [t.text or "" for t in root.iter(ns + "text")]
    check("pp8" in texts and "tg4" in texts, f"panel titles in {texts}")
    # One bar per test and thread count, titled with its figures.
    bars = [r for r in root.iter(ns + "rect") if r.find(ns + "title") is not None]
    check(len(bars) == len(rows), f"{len(bars)} bars for {len(rows)} results")
    for row in rows:
        want = f"{row['test']}, {row['threads']} threads: {row['avg_ts']:.2f}"
        check(any(b.find(ns + "title").text.startswith(want) for b in bars), f"no bar {want}")
    for b in bars:
        check(float(b.get("height")) > 0, "bar height")
    # Self-contained: no external references.
    with open(svg_path) as f:
        text = f.read()
    check("href" not in text and "<script" not in text, "external references")


CASES = {"errors": case_errors, "json": case_json, "csv": case_csv, "markdown": case_markdown,
         "plot": case_plot}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pocketlm", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--case", choices=sorted(CASES))
    args = ap.parse_args()
    model = os.path.join(args.models, MODEL_NAME)
    if not os.path.isfile(model):
        print(f"SKIP: {model} not found (scripts/setup.sh fetches it)")
        return SKIP
    os.makedirs(args.workdir, exist_ok=True)
    c = Ctx(args.pocketlm, model, args.workdir)
    failed = 0
    for name in [args.case] if args.case else sorted(CASES):
        try:
            CASES[name](c)
            print(f"PASS {name}")
        except Failed as e:
            print(f"FAIL {name}: {e}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
