#!/usr/bin/env python3
"""`pocketlm quantize` against the `gguf` package, on a tiny synthetic llama model (label unit).

The gguf package writes a small F32 model with random weights (two blocks, 256-wide rows, so
K-quants apply, and one 96-wide matrix that needs a fallback); pocketlm quantizes it to every
preset. For each output the gguf package must read the file, find the metadata copied and
general.file_type set, the tensor types of the preset's rules, and dequantize every tensor to
what `pocketlm dump` gives, bit for bit, within the type's error of the input. Then the CLI's
contract: --dry-run, overrides, importance matrices (a hand-made one), refusals (exit 2, one
line on stderr), and `--type f32` restoring a quantized file exactly.

Exits 77 (skipped) when numpy or the gguf package is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
    import gguf
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIP: needs numpy and the gguf package ({e})", file=sys.stderr)
    sys.exit(77)

QT = gguf.GGMLQuantizationType
N_EMBD, N_FF, N_LAYER, N_VOCAB = 256, 512, 2, 64
# Relative RMS error each type may leave on Gaussian weights (generous: these check the format,
# the unit tests check the quantizers' quality).
MAX_REL_ERR = {"F32": 0.0, "F16": 1e-3, "BF16": 8e-3, "Q8_0": 0.01, "Q6_K": 0.03, "Q5_1": 0.05,
               "Q5_0": 0.06, "Q5_K": 0.06, "Q4_1": 0.1, "Q4_0": 0.11, "Q4_K": 0.1, "Q3_K": 0.2,
               "Q2_K": 0.35}
FILE_TYPES = {"F32": 0, "F16": 1, "BF16": 32, "Q8_0": 7, "Q6_K": 18, "Q5_K_M": 17, "Q5_1": 9,
              "Q5_0": 8, "Q4_K_M": 15, "Q4_K_S": 14, "Q4_1": 3, "Q4_0": 2, "Q3_K_M": 12,
              "Q2_K": 10}


class Failed(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failed(msg)


class Ctx:
    def __init__(self, pocketlm: str, workdir: str) -> None:
        self.pocketlm = os.path.abspath(pocketlm)
        self.dir = workdir

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run([self.pocketlm, *args], capture_output=True, text=True, timeout=600)
        if ok and p.returncode != 0:
            raise Failed(f"pocketlm {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    def usage_error(self, *args: str, expect: str) -> None:
        p = self.run(*args, ok=False)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2, f"pocketlm {' '.join(args)}: exit {p.returncode}, wanted 2")
        check(len(lines) == 1, f"pocketlm {' '.join(args)}: stderr is not one line: {p.stderr!r}")
        check(expect in lines[0], f"pocketlm {' '.join(args)}: {lines[0]!r} lacks {expect!r}")


def tensor_names() -> list[tuple[str, tuple[int, ...]]]:
    """(name, numpy shape) in file order; numpy shape is (rows, cols)."""
    kv = N_EMBD // 4
    out = [("token_embd.weight", (N_VOCAB, N_EMBD))]
    for il in range(N_LAYER):
        p = f"blk.{il}."
        out += [(p + "attn_norm.weight", (N_EMBD,)), (p + "attn_q.weight", (N_EMBD, N_EMBD)),
                (p + "attn_k.weight", (kv, N_EMBD)), (p + "attn_v.weight", (kv, N_EMBD)),
                (p + "attn_output.weight", (N_EMBD, N_EMBD)), (p + "ffn_norm.weight", (N_EMBD,)),
                (p + "ffn_gate.weight", (N_FF, N_EMBD)), (p + "ffn_up.weight", (N_FF, N_EMBD)),
                (p + "ffn_down.weight", (N_EMBD, N_FF))]
    # A matrix with 96-wide rows: K-quants cannot hold it, so every K preset falls back.
    out += [("blk.0.ffn_extra.weight", (8, 96)), ("output_norm.weight", (N_EMBD,)),
            ("output.weight", (N_VOCAB, N_EMBD))]
    return out


def make_model(path: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    w = gguf.GGUFWriter(path, "llama")
    w.add_block_count(N_LAYER)
    w.add_embedding_length(N_EMBD)
    w.add_head_count(8)
    w.add_head_count_kv(2)
    w.add_feed_forward_length(N_FF)
    w.add_string("general.name", "tiny quant test")
    w.add_array("test.list", [1, 2, 3])
    arrays = {}
    for name, shape in tensor_names():
        a = (rng.standard_normal(shape) * 0.02).astype(np.float32)
        if name.endswith("_norm.weight"):
            a = 1.0 + a
        arrays[name] = a
        w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return arrays


def use_more_bits(i: int, n: int) -> bool:
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def expected_types(preset: str) -> dict[str, str]:
    """The rules of quant_plan.h for this model (2 layers, 4 query heads per KV head)."""
    base = {"Q8_0": "Q8_0", "Q6_K": "Q6_K", "Q5_K_M": "Q5_K", "Q5_1": "Q5_1", "Q5_0": "Q5_0",
            "Q4_K_M": "Q4_K", "Q4_K_S": "Q4_K", "Q4_1": "Q4_1", "Q4_0": "Q4_0",
            "Q3_K_M": "Q3_K", "Q2_K": "Q2_K", "F32": "F32", "F16": "F16", "BF16": "BF16"}[preset]
    fallback = {"Q2_K": "Q4_0", "Q3_K": "Q4_0", "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0"}
    out = {}
    for name, shape in tensor_names():
        if len(shape) == 1:
            out[name] = "F32"
            continue
        if preset in ("F32", "F16", "BF16"):
            out[name] = base
            continue
        t = base
        layer = int(name.split(".")[1]) if name.startswith("blk.") else -1
        more = use_more_bits(layer, N_LAYER)
        if name == "output.weight":
            t = "Q8_0" if base == "Q8_0" else "Q6_K"
        elif "attn_v" in name:
            t = {"Q2_K": "Q4_K", "Q3_K_M": "Q5_K", "Q4_K_S": "Q5_K",
                 "Q4_K_M": "Q6_K" if more else base, "Q5_K_M": "Q6_K" if more else base
                 }.get(preset, base)
        elif "ffn_down" in name:
            # Q3_K_M: the first n/16 layers (none of 2) get Q5_K; Q4_K_S: the first n/8 (none).
            t = {"Q2_K": "Q3_K", "Q3_K_M": "Q4_K", "Q4_K_M": "Q6_K" if more else base,
                 "Q5_K_M": "Q6_K" if more else base}.get(preset, base)
        elif "attn_output" in name:
            t = {"Q2_K": "Q3_K", "Q3_K_M": "Q4_K"}.get(preset, base)
        if shape[-1] % 256 != 0 and t in fallback:
            t = fallback[t]
        out[name] = t
    return out


def dump(ctx: Ctx, path: str, tensor: str) -> np.ndarray:
    out = ctx.path("dump.f32")
    ctx.run("dump", path, tensor, "-o", out)
    return np.fromfile(out, dtype=np.float32)


def check_file(ctx: Ctx, path: str, preset: str, arrays: dict[str, np.ndarray]) -> None:
    r = gguf.GGUFReader(path)
    f = r.fields
    check(f["general.file_type"].contents() == FILE_TYPES[preset],
          f"{preset}: general.file_type {f['general.file_type'].contents()}")
    check(f["general.quantization_version"].contents() == 2, f"{preset}: quantization_version")
    check(f["general.name"].contents() == "tiny quant test", f"{preset}: metadata not copied")
    check(list(f["test.list"].contents()) == [1, 2, 3], f"{preset}: array metadata not copied")
    want = expected_types(preset)
    got = {t.name: t.tensor_type.name for t in r.tensors}
    check([t.name for t in r.tensors] == [n for n, _ in tensor_names()], f"{preset}: tensor order")
    for name, t in want.items():
        check(got[name] == t, f"{preset}: {name} is {got[name]}, the rules say {t}")
    for t in r.tensors:
        x = arrays[t.name].reshape(-1)
        y = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        check(y.shape == x.shape, f"{preset}: {t.name} has {y.shape} values, not {x.shape}")
        err = float(np.sqrt(((x - y) ** 2).sum() / (x ** 2).sum()))
        bound = MAX_REL_ERR[t.tensor_type.name]
        check(err <= bound, f"{preset}: {t.name} ({t.tensor_type.name}) error {err:.4f} > {bound}")
        if t.name in ("blk.0.attn_v.weight", "blk.1.ffn_down.weight", "blk.0.ffn_extra.weight"):
            d = dump(ctx, path, t.name)
            check(np.array_equal(d.view(np.uint32), y.view(np.uint32)),
                  f"{preset}: pocketlm dump of {t.name} differs from gguf's dequantization")


def test_presets(ctx: Ctx, model: str, arrays: dict[str, np.ndarray]) -> None:
    for preset in FILE_TYPES:
        out = ctx.path(f"tiny-{preset}.gguf")
        p = ctx.run("quantize", model, out, "--type", preset.lower(), "-t", "2")
        check(f"({preset})" in p.stdout and "bits per weight" in p.stdout,
              f"{preset}: summary line {p.stdout!r}")
        check_file(ctx, out, preset, arrays)
        print(f"ok {preset}: {os.path.getsize(out)} bytes")


def test_cli(ctx: Ctx, model: str, arrays: dict[str, np.ndarray]) -> None:
    q4 = ctx.path("tiny-Q4_0.gguf")
    # --dry-run lists each tensor and writes nothing.
    p = ctx.run("quantize", model, "--type", "q4_k_m", "--dry-run")
    check("blk.0.attn_v.weight" in p.stdout and "q6_K" in p.stdout, f"dry run: {p.stdout[:300]}")
    check("would write Q4_K_M" in p.stdout, f"dry run summary: {p.stdout[-200:]}")

    # Overrides: regex (first match wins), output and embedding types.
    out = ctx.path("override.gguf")
    ctx.run("quantize", model, out, "--type", "q4_k_m", "--tensor-type", "attn_(q|k)=q8_0",
            "--tensor-type=ffn_up=f16", "--output-type", "q5_0", "--embd-type", "q8_0")
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(out).tensors}
    check(types["blk.1.attn_q.weight"] == "Q8_0" and types["blk.0.attn_k.weight"] == "Q8_0",
          f"--tensor-type: {types}")
    check(types["blk.0.ffn_up.weight"] == "F16", "--tensor-type=...")
    check(types["output.weight"] == "Q5_0" and types["token_embd.weight"] == "Q8_0",
          "--output-type/--embd-type")

    # An importance matrix (llama.cpp's GGUF layout, made here by hand): recorded in the output.
    im = ctx.path("tiny.imatrix.gguf")
    w = gguf.GGUFWriter(im, arch="")
    w.add_string("general.type", "imatrix")
    w.add_array("imatrix.datasets", ["hand-made"])
    w.add_uint32("imatrix.chunk_count", 3)
    w.add_uint32("imatrix.chunk_size", 64)
    rng = np.random.default_rng(3)
    for name, shape in tensor_names():
        if len(shape) == 2 and name != "token_embd.weight":
            w.add_tensor(name + ".in_sum2", (rng.random(shape[1]) * 10).astype(np.float32))
            w.add_tensor(name + ".counts", np.array([192.0], dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    out = ctx.path("imatrix-q4_k_m.gguf")
    p = ctx.run("quantize", model, out, "--type", "q4_k_m", "--imatrix", im)
    check("importance data used for" in p.stdout, f"imatrix summary: {p.stdout!r}")
    f = gguf.GGUFReader(out).fields
    check(f["quantize.imatrix.dataset"].contents() == "hand-made", "imatrix dataset not recorded")
    check(f["quantize.imatrix.chunks_count"].contents() == 3, "imatrix chunk count not recorded")
    check_file(ctx, out, "Q4_K_M", arrays)

    # Re-quantizing needs --allow-requantize; dequantizing does not, and is exact.
    ctx.usage_error("quantize", q4, ctx.path("x.gguf"), "--type", "q4_k_m",
                    expect="--allow-requantize")
    ctx.run("quantize", q4, ctx.path("requant.gguf"), "--type", "q5_k_m", "--allow-requantize")
    back = ctx.path("back-f32.gguf")
    ctx.run("quantize", q4, back, "--type", "f32")
    qr = {t.name: t for t in gguf.GGUFReader(q4).tensors}
    for t in gguf.GGUFReader(back).tensors:
        check(t.tensor_type == QT.F32, f"--type f32 left {t.name} as {t.tensor_type.name}")
        src = qr[t.name]
        want = gguf.quants.dequantize(src.data, src.tensor_type).astype(np.float32)
        check(np.array_equal(np.asarray(t.data).reshape(-1), want.reshape(-1)),
              f"--type f32: {t.name} is not the exact dequantization")

    # Refusals: one line on stderr, exit status 2.
    ctx.usage_error("quantize", model, ctx.path("x.gguf"), "--type", "q4_k", expect="unknown --type")
    ctx.usage_error("quantize", model, ctx.path("x.gguf"), expect="--type is required")
    ctx.usage_error("quantize", ctx.path("missing.gguf"), ctx.path("x.gguf"), "--type", "q8_0",
                    expect="missing.gguf")
    ctx.usage_error("quantize", model, ctx.path("x.gguf"), "--type", "q8_0", "--tensor-type",
                    "attn_(=q8_0", expect="invalid regular expression")
    ctx.usage_error("quantize", model, ctx.path("x.gguf"), "--type", "q8_0", "--output-type",
                    "q8_K", expect="unknown weight type")
    ctx.usage_error("quantize", model, ctx.path("x.gguf"), "--type", "q8_0", "--imatrix", model,
                    expect="no importance data")
    ctx.usage_error("quantize", model, ctx.path("x.gguf"), "--type", "q8_0", "-t", "0",
                    expect="--threads")
    bad_im = ctx.path("bad.imatrix.gguf")
    w = gguf.GGUFWriter(bad_im, arch="")
    w.add_string("general.type", "imatrix")
    w.add_tensor("blk.0.attn_q.weight.in_sum2", np.ones(100, dtype=np.float32))
    w.add_tensor("blk.0.attn_q.weight.counts", np.array([1.0], dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    ctx.usage_error("quantize", model, ctx.path("x.gguf"), "--type", "q4_0", "--imatrix", bad_im,
                    expect="another model")
    check(not os.path.exists(ctx.path("x.gguf")), "a refused quantization left an output file")
    print("ok cli")


def test_eval_cli_errors(ctx: Ctx, model: str) -> None:
    """perplexity and imatrix refuse bad input the same way (the tiny model loads but has no
    vocabulary, so it cannot be evaluated: that, too, is an input error)."""
    text = ctx.path("text.txt")
    with open(text, "w") as f:
        f.write("a few words of text\n" * 50)
    ctx.usage_error("perplexity", "-f", text, expect="-m MODEL is required")
    ctx.usage_error("perplexity", "-m", model, expect="-f TEXT is required")
    ctx.usage_error("perplexity", "-m", model, "-f", text, "--format", "xml",
                    expect="--format")
    ctx.usage_error("perplexity", "-m", model, "-f", text, "-c", "2", expect="--ctx-size")
    ctx.usage_error("perplexity", "-m", model, "--kl-divergence", text, "--save-logits",
                    ctx.path("x"), expect="exclude each other")
    ctx.usage_error("perplexity", "-m", model, "--kl-divergence", text, "-c", "64",
                    expect="comes from the base file")
    ctx.usage_error("perplexity", "-m", ctx.path("missing.gguf"), "-f", text,
                    expect="missing.gguf")
    ctx.usage_error("perplexity", "-m", model, "-f", text, expect="token list")
    ctx.usage_error("imatrix", "-m", model, "-f", text, expect="--output is required")
    ctx.usage_error("imatrix", "-m", model, "-f", ctx.path("missing.txt"), "-o", ctx.path("o"),
                    expect="token list")
    ctx.usage_error("imatrix", "-m", model, "-f", text, "-o", ctx.path("o"), "--chunks", "0",
                    expect="--chunks")
    print("ok perplexity/imatrix argument errors")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pocketlm", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    ctx = Ctx(a.pocketlm, a.workdir)
    model = ctx.path("tiny-f32.gguf")
    arrays = make_model(model)
    try:
        test_presets(ctx, model, arrays)
        test_cli(ctx, model, arrays)
        test_eval_cli_errors(ctx, model)
    except Failed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
