#!/usr/bin/env python3
"""Reproduces the quantization tables of docs/quantization.md -- one command:

    scripts/quant_report.py                      # both models, Q8_0/Q4_K_M/Q4_0; results + tables
    scripts/quant_report.py --types all          # ... every preset (hours on two cores)
    scripts/quant_report.py --update-docs        # ... and rewrite the tables in the doc
    scripts/quant_report.py --models smollm2 --types Q4_K_M,Q8_0   # a subset

For each model (models/*.gguf, as scripts/fetch_models.py fetches them):
  1. the reference: the model dequantized to F32 (`pocketlm quantize --type f32`);
  2. its log-probabilities on data/text/evaluation.txt (`pocketlm perplexity --save-logits`);
  3. an importance matrix from data/text/calibration.txt (`pocketlm imatrix`), a different text;
  4. for every type, three files from that same F32 input: pocketlm's quantizer without and with
     the importance matrix, and llama.cpp's quantizer (llama_model_quantize through
     llama-cpp-python in .venv-ref, no importance matrix: its Python binding cannot pass one);
  5. each file's size, bits per weight, perplexity, mean KL divergence from the reference and
     top-1 agreement ("same top p"), measured by `pocketlm perplexity --kl-divergence`; the
     source file itself is measured the same way (the "source file" row): re-quantized to its own
     type, no quantizer can go below it.
Files that pocketlm's engine cannot run (an architecture it does not support yet) are evaluated by
llama-cpp-python instead, with the same chunking and statistics (reference included, so both
sides of every KL divergence come from one engine); the table says which engine measured.

Evaluation uses every 512-token chunk of SmolLM2's evaluation text and the first four of Gemma 3's
(--chunks), whose 262144-token vocabulary makes each evaluated position expensive; changing the
chunks of a model drops its results and measures them again. --threads 1 keeps a core free.

Everything goes under --work (default build-q/quant_report); finished steps are skipped when
their outputs exist, so an interrupted run resumes. results.json there holds every number.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "quantization.md")
EVAL_TEXT = os.path.join(ROOT, "data", "text", "evaluation.txt")
CALIB_TEXT = os.path.join(ROOT, "data", "text", "calibration.txt")

MODELS = {
    "smollm2": {"file": "SmolLM2-135M-Instruct.Q4_1.gguf", "title": "SmolLM2-135M-Instruct",
                "source": "Q4_1"},
    "gemma3": {"file": "gemma-3-270m-q4_k_m.gguf", "title": "Gemma 3 270M",
               "source": "Q4_K_M"},
}
# llama.cpp's file type ids (LLAMA_FTYPE_MOSTLY_*) of the presets.
FTYPES = {"Q8_0": 7, "Q6_K": 18, "Q5_K_M": 17, "Q5_1": 9, "Q5_0": 8, "Q4_K_M": 15, "Q4_K_S": 14,
          "Q4_1": 3, "Q4_0": 2, "Q3_K_M": 12, "Q2_K": 10}
TYPES = list(FTYPES)
# The types the doc's tables hold by default: the acceptance types, so that the whole report stays
# within half an hour on a shared two-core machine. `--types all` measures every preset.
REPORT_TYPES = ["Q8_0", "Q4_K_M", "Q4_0"]
N_CTX = 512


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    log("$ " + " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return p


def tensor_stats(path: str) -> tuple[int, int]:
    """(tensor data bytes, parameter count) of a GGUF file, via the gguf package."""
    import gguf  # noqa: PLC0415 (only needed here)
    r = gguf.GGUFReader(path)
    nbytes = sum(int(t.n_bytes) for t in r.tensors)
    nelem = sum(int(t.n_elements) for t in r.tensors)
    return nbytes, nelem


# ---- llama.cpp side (llama-cpp-python, run in the reference venv) ----------------------------

LLAMA_QUANTIZE = r"""
import ctypes, sys, llama_cpp
p = llama_cpp.llama_model_quantize_default_params()
p.ftype = int(sys.argv[3]); p.nthread = int(sys.argv[4])
sys.exit(llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(p)))
"""

# Perplexity / KL divergence with llama.cpp as the engine, for files pocketlm cannot run: the same
# chunking (second half of each chunk of N_CTX scored, BOS first when the vocabulary adds it) and
# the same statistics. --save writes the reference's log-probabilities (float16) to an .npy file.
LLAMA_EVAL = r"""
import json, sys, numpy as np, llama_cpp
model, text, n_ctx, chunks, threads, save, base = sys.argv[1:8]
n_ctx, chunks, threads = int(n_ctx), int(chunks), int(threads)
llm = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_batch=n_ctx, logits_all=True,
                      n_threads=threads, verbose=False)
vocab = llm._model.vocab
add_bos = llama_cpp.llama_vocab_get_add_bos(vocab)
bos = llama_cpp.llama_vocab_bos(vocab)
toks = llm.tokenize(open(text, 'rb').read(), add_bos=add_bos, special=False)
n_chunks = min(len(toks) // n_ctx, chunks) if chunks > 0 else len(toks) // n_ctx
first = n_ctx // 2
base_lp = np.load(base, mmap_mode='r') if base != '-' else None
out = []
nll, kld, same, dp2, count = [], [], 0, [], 0
for c in range(n_chunks):
    t = list(toks[c * n_ctx:(c + 1) * n_ctx])
    if add_bos: t[0] = bos
    llm.reset(); llm.eval(t)
    lg = np.array(llm.scores[first:n_ctx - 1], dtype=np.float64)
    lp = lg - lg.max(axis=1, keepdims=True)
    lp -= np.log(np.exp(lp).sum(axis=1, keepdims=True))
    tgt = np.array(t[first + 1:n_ctx])
    q_t = lp[np.arange(len(tgt)), tgt]
    nll.extend((-q_t).tolist())
    if save != '-': out.append(lp.astype(np.float16))
    if base_lp is not None:
        b = np.array(base_lp[c * (n_ctx - 1 - first):(c + 1) * (n_ctx - 1 - first)], dtype=np.float64)
        b -= np.log(np.exp(b).sum(axis=1, keepdims=True))
        pb = np.exp(b)
        kld.extend((pb * (b - lp)).sum(axis=1).tolist())
        same += int((b.argmax(axis=1) == lp.argmax(axis=1)).sum())
        dp2.extend(((np.exp(q_t) - pb[np.arange(len(tgt)), tgt]) ** 2).tolist())
    count += len(tgt)
if save != '-': np.save(save, np.concatenate(out))
res = {'ppl': float(np.exp(np.mean(nll))), 'n_scored': count, 'n_chunks': n_chunks}
if base_lp is not None:
    res['kld'] = {'kld_mean': float(np.mean(kld)),
                  'kld_err': float(np.std(kld) / np.sqrt(len(kld) - 1)),
                  'same_top': same / count, 'dp_rms': float(np.sqrt(np.mean(dp2))),
                  'ppl_q': res['ppl']}
print(json.dumps(res))
"""


class Report:
    def __init__(self, args: argparse.Namespace) -> None:
        self.a = args
        self.work = os.path.abspath(args.work)
        os.makedirs(self.work, exist_ok=True)
        self.results_path = os.path.join(self.work, "results.json")
        self.results = {}
        if os.path.exists(self.results_path):
            with open(self.results_path) as f:
                self.results = json.load(f)

    def save(self) -> None:
        with open(self.results_path, "w") as f:
            json.dump(self.results, f, indent=1, sort_keys=True)

    def pocketlm(self, *args: str) -> subprocess.CompletedProcess:
        return run([self.a.pocketlm, *args])

    def path(self, model: str, what: str) -> str:
        return os.path.join(self.work, f"{model}-{what}")

    # -- steps --

    def engine_for(self, model: str, f32: str) -> str:
        """pocketlm when its engine runs the model, else llama.cpp."""
        if self.a.engine != "auto":
            return self.a.engine
        p = subprocess.run([self.a.pocketlm, "perplexity", "-m", f32, "-f", EVAL_TEXT, "-c", "8",
                            "--chunks", "1", "-t", "1"], capture_output=True, text=True)
        if p.returncode == 0:
            return "pocketlm"
        log(f"pocketlm cannot run {model} ({p.stderr.strip()}); evaluating with llama.cpp")
        return "llama.cpp"

    def evaluate(self, model: str, engine: str, path: str, base: str, save: bool) -> dict:
        chunks = str(self.a.chunks.get(model, -1))
        if engine == "pocketlm":
            args = ["perplexity", "-m", path, "-t", str(self.a.threads), "--format", "json"]
            if save:
                args += ["-f", EVAL_TEXT, "-c", str(N_CTX), "--save-logits", base]
                if int(chunks) > 0:
                    args += ["--chunks", chunks]
            else:
                args += ["--kl-divergence", base]
            return json.loads(self.pocketlm(*args).stdout)
        p = run([self.a.ref_python, "-c", LLAMA_EVAL, path, EVAL_TEXT, str(N_CTX), chunks,
                 str(self.a.threads), base if save else "-", "-" if save else base])
        return json.loads(p.stdout.strip().splitlines()[-1])

    def measure(self, model: str, engine: str, path: str, base: str) -> dict:
        r = self.evaluate(model, engine, path, base, save=False)
        nbytes, nelem = tensor_stats(path)
        k = r["kld"]
        return {"size": os.path.getsize(path), "bpw": 8.0 * nbytes / nelem, "ppl": k["ppl_q"],
                "kld": k["kld_mean"], "kld_err": k["kld_err"], "same_top": k["same_top"],
                "dp_rms": k.get("dp_rms")}

    def model(self, model: str) -> None:
        info = MODELS[model]
        src = os.path.join(ROOT, "models", info["file"])
        if not os.path.exists(src):
            log(f"skipping {model}: {src} is missing (scripts/fetch_models.py fetches it)")
            return
        res = self.results.setdefault(model, {})
        f32 = self.path(model, "F32.gguf")
        if not os.path.exists(f32):
            self.pocketlm("quantize", src, f32, "--type", "f32")
        engine = self.engine_for(model, f32)
        if res.get("engine") not in (None, engine):
            res.clear()  # numbers from another engine do not compare
        res["engine"] = engine
        base = self.path(model, "base.logits" if engine == "pocketlm" else "base.npy")
        chunks = self.a.chunks.get(model, -1)
        if res.get("chunks") != chunks:
            # Figures over another stretch of the evaluation text do not compare: start again.
            res.clear()
            res["engine"] = engine
            res["chunks"] = chunks
            if os.path.exists(base):
                os.remove(base)
        if not os.path.exists(base) or "reference" not in res:
            r = self.evaluate(model, engine, f32, base, save=True)
            nbytes, nelem = tensor_stats(f32)
            res["reference"] = {"ppl": r["ppl"], "size": os.path.getsize(f32),
                                "bpw": 8.0 * nbytes / nelem, "n_scored": r["n_scored"]}
            self.save()
        imatrix = self.path(model, "imatrix.gguf")
        if not os.path.exists(imatrix):
            self.pocketlm("imatrix", "-m", f32, "-f", CALIB_TEXT, "-o", imatrix, "-c", str(N_CTX),
                          "--chunks", str(self.a.imatrix_chunks.get(model, 10)), "-t",
                          str(self.a.threads))
        rows = res.setdefault("rows", {})
        # The file the reference was made from, measured like the others: when a quantizer
        # reproduces it (same type, same grid), this is the floor it cannot go below -- what is
        # left is not weight error but the 8-bit activations of the quantized matrix products.
        key = f"{info['source']}/source file"
        if key not in rows:
            rows[key] = self.measure(model, engine, src, base)
            self.save()
            log(f"{model} {key}: {rows[key]}")
        for t in self.a.types:
            for who in ("pocketlm", "pocketlm+imatrix", "llama.cpp"):
                key = f"{t}/{who}"
                if key in rows:
                    continue
                out = self.path(model, f"{t}-{who.replace('+', '-')}.gguf")
                if not os.path.exists(out):
                    if who == "llama.cpp":
                        run([self.a.ref_python, "-c", LLAMA_QUANTIZE, f32, out + ".tmp",
                             str(FTYPES[t]), str(self.a.threads)])
                        os.replace(out + ".tmp", out)
                    else:
                        extra = ["--imatrix", imatrix] if who.endswith("imatrix") else []
                        self.pocketlm("quantize", f32, out, "--type", t, "-t",
                                      str(self.a.threads), *extra)
                rows[key] = self.measure(model, engine, out, base)
                self.save()
                log(f"{model} {key}: {rows[key]}")
                if not self.a.keep_files:
                    os.remove(out)


def table(model: str, res: dict, types: list[str]) -> str:
    info = MODELS[model]
    ref = res["reference"]
    lines = [
        f"| type | quantizer | size (MiB) | bits/weight | PPL | mean KLD | same top |",
        f"|---|---|---:|---:|---:|---:|---:|",
        f"| F32 | reference | {ref['size'] / 2**20:.1f} | {ref['bpw']:.2f} | {ref['ppl']:.4f} "
        f"| 0 | 100 % |",
    ]
    for t in types:
        whos = ("pocketlm", "pocketlm+imatrix", "llama.cpp")
        if t == info["source"]:
            whos += ("source file",)
        for who in whos:
            r = res.get("rows", {}).get(f"{t}/{who}")
            if not r:
                continue
            lines.append(
                f"| {t} | {who} | {r['size'] / 2**20:.2f} | {r['bpw']:.3f} | {r['ppl']:.4f} | "
                f"{r['kld']:.5f} ± {r['kld_err']:.5f} | {100 * r['same_top']:.2f} % |")
    head = (f"**{info['title']}** (source file {info['source']}; {ref['n_scored']} scored "
            f"tokens in {ref['n_scored'] // (N_CTX // 2 - 1)} chunks of {N_CTX}; measured with "
            f"{res['engine']})\n\n")
    return head + "\n".join(lines) + "\n"


def targets(model: str, res: dict, types: list[str]) -> list[str]:
    out = []
    rows = res.get("rows", {})
    for t in types:
        p, l = rows.get(f"{t}/pocketlm"), rows.get(f"{t}/llama.cpp")
        if p and l:
            ok = p["kld"] <= l["kld"] and p["size"] <= l["size"]
            out.append(f"{model} {t}: pocketlm KLD {p['kld']:.5f} vs llama.cpp {l['kld']:.5f}, "
                       f"size {p['size']} vs {l['size']} -> {'met' if ok else 'NOT met'}")
    for t in types:
        p, q = rows.get(f"{t}/pocketlm"), rows.get(f"{t}/pocketlm+imatrix")
        if p and q:
            gain = 1 - q["kld"] / p["kld"]
            verdict = f" -> {'met' if gain >= 0.10 else 'NOT met'} (target 10%)" \
                if t == "Q4_K_M" else ""
            out.append(f"{model} {t} imatrix gain: {100 * gain:.1f}% lower KLD{verdict}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="smollm2,gemma3")
    ap.add_argument("--types", default=",".join(REPORT_TYPES),
                    help="comma-separated presets, or 'all' (default: %(default)s)")
    ap.add_argument("--work", default=os.path.join(ROOT, "build-q", "quant_report"))
    ap.add_argument("--pocketlm", default=os.path.join(ROOT, "build-q", "pocketlm"))
    ap.add_argument("--ref-python", default=os.path.join(ROOT, ".venv-ref", "bin", "python"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--chunks", default="smollm2=-1,gemma3=4",
                    help="evaluation chunks per model (MODEL=N,...); -1 means all")
    ap.add_argument("--imatrix-chunks", default="smollm2=10,gemma3=4",
                    help="calibration chunks per model (MODEL=N,...)")
    ap.add_argument("--engine", choices=["auto", "pocketlm", "llama.cpp"], default="auto")
    ap.add_argument("--keep-files", action="store_true", help="keep the quantized files")
    ap.add_argument("--tables-only", action="store_true",
                    help="measure nothing: print (and with --update-docs write) the tables from "
                         "the results already in --work")
    ap.add_argument("--update-docs", action="store_true",
                    help="rewrite the tables between the markers in docs/quantization.md")
    args = ap.parse_args()
    if args.types.strip().lower() == "all":
        args.types = ",".join(TYPES)
    args.types = [t.strip().upper() for t in args.types.split(",") if t.strip()]
    for t in args.types:
        if t not in FTYPES:
            ap.error(f"unknown type {t}")
    args.chunks = {k: int(v) for k, v in (kv.split("=") for kv in args.chunks.split(","))}
    args.imatrix_chunks = {k: int(v) for k, v in
                           (kv.split("=") for kv in args.imatrix_chunks.split(","))}
    if not os.path.exists(args.pocketlm):
        ap.error(f"{args.pocketlm} is missing: build it first (ninja -C build-q pocketlm_cli)")
    if not os.path.exists(args.ref_python):
        ap.error(f"{args.ref_python} is missing: the llama.cpp rows need llama-cpp-python "
                 "(scripts/setup.sh makes .venv-ref)")

    rep = Report(args)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not args.tables_only:
        for m in models:
            rep.model(m)

    tables = {}
    notes = []
    for m in models:
        if m in rep.results and "reference" in rep.results[m]:
            tables[m] = table(m, rep.results[m], TYPES)
            notes += targets(m, rep.results[m], TYPES)
    print("\n".join(tables.values()))
    print("\n".join(notes))
    if args.update_docs:
        # Each model's table sits between its own markers, so a run over one model leaves the
        # other models' tables as they are.
        with open(DOC) as f:
            doc = f.read()
        for m, text in tables.items():
            begin, end = f"<!-- quant_report:{m}:begin -->", f"<!-- quant_report:{m}:end -->"
            pat = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
            if not pat.search(doc):
                raise SystemExit(f"{DOC} has no {begin} ... {end} markers")
            doc = pat.sub(lambda _, t=text, b=begin, e=end: b + "\n" + t + e, doc)
        with open(DOC, "w") as f:
            f.write(doc)
        log(f"updated {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
