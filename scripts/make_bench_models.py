#!/usr/bin/env python3
"""Writes the extra GGUF files the speed comparison (scripts/bench_compare.py) runs on, into
models/bench/ (git-ignored, like every model):

  SmolLM2-135M-Instruct.Q8_0.gguf   the shipped SmolLM2 Q4_1 file re-quantized: every matrix Q8_0
  SmolLM2-135M-Instruct.Q4_0.gguf   every matrix Q4_0, the tied token embedding Q8_0 (as shipped)
  llama-3.2-1b-shape.random.Q4_0.gguf   Llama 3.2 1B dimensions, random weights, matrices Q4_0,
                                        the tied embedding Q8_0
  llama-3.2-1b-shape.random.Q8_0.gguf   the same in Q8_0 throughout

Re-quantizing goes through float: each tensor of the shipped file is dequantized and quantized
again with the `gguf` package's reference quantizers (gguf.quants), so the files are what
llama.cpp's quantizer writes for these types (pure types: no k-quant mixes). Norm vectors stay F32.

The 1B-shaped model exists for speed only: 16 layers of n_embd 2048, 32 query heads and 8 KV
heads of 64, n_ff 8192, a 128256-token vocabulary, tied output, RoPE base 500000 (the Llama 3.2
1B configuration, without the llama3 RoPE frequency scaling, which costs nothing per token).
Weights are N(0, 0.02) from a fixed seed. Its vocabulary is SmolLM2's byte-level BPE padded with
control tokens up to 128256 entries: the Llama 3 tokenizer is not on this machine, and a
benchmark feeds token ids, so only the vocabulary's size (the output matrix) matters.

Usage:
  .venv-ref/bin/python scripts/make_bench_models.py [--source models/SmolLM2-...Q4_1.gguf]
      [--out models/bench] [--only smollm2|1b] [--force]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

try:
    import gguf
    from gguf import GGMLQuantizationType as QT
    from gguf import GGUFValueType as VT
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("make_bench_models.py: the `gguf` package is needed (use .venv-ref/bin/python)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SOURCE = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_OUT = os.path.join(ROOT, "models", "bench")

# general.file_type values (llama.cpp's llama_ftype): "mostly" the matrices' type.
FILE_TYPE = {QT.Q8_0: 7, QT.Q4_0: 2}

# Llama 3.2 1B (config.json of meta-llama/Llama-3.2-1B).
LLAMA_1B = dict(n_layer=16, n_embd=2048, n_ff=8192, n_head=32, n_head_kv=8, head_dim=64,
                n_vocab=128256, rope_base=500000.0, rms_eps=1e-5, n_ctx_train=131072)

ROWS_PER_CHUNK = 4096  # bounds the float copies made while quantizing big matrices


def log(msg: str) -> None:
    print(f"make_bench_models: {msg}", file=sys.stderr, flush=True)


def quantize_rows(f32: np.ndarray, qtype: QT) -> np.ndarray:
    """Quantizes a (rows, cols) float matrix chunk by chunk; returns the (rows, row_bytes) blocks."""
    parts = [gguf.quants.quantize(np.ascontiguousarray(f32[r:r + ROWS_PER_CHUNK]), qtype)
             for r in range(0, f32.shape[0], ROWS_PER_CHUNK)]
    return np.concatenate(parts, axis=0)


def copy_metadata(reader: gguf.GGUFReader, writer: gguf.GGUFWriter, skip: set[str]) -> None:
    """Copies every key of `reader` except GGUF.* header fields, the architecture (the writer
    writes its own) and the keys in `skip`, with their exact value types."""
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture" or name in skip:
            continue
        main = field.types[0]
        if main == VT.ARRAY:
            writer.add_key_value(name, field.contents(), VT.ARRAY, sub_type=field.types[-1])
        else:
            writer.add_key_value(name, field.contents(), main)


def requantize_smollm2(source: str, out_path: str, qtype: QT) -> None:
    reader = gguf.GGUFReader(source)
    arch = str(reader.fields["general.architecture"].contents())
    writer = gguf.GGUFWriter(out_path, arch)
    copy_metadata(reader, writer, skip={"general.file_type"})
    writer.add_file_type(FILE_TYPE[qtype])
    for t in reader.tensors:
        if len(t.shape) < 2:  # norm vectors: kept as they are (F32)
            writer.add_tensor(t.name, np.array(t.data), raw_dtype=t.tensor_type)
            continue
        f32 = gguf.quants.dequantize(t.data, t.tensor_type)  # (rows, cols)
        target = QT.Q8_0 if t.name == "token_embd.weight" else qtype
        writer.add_tensor(t.name, quantize_rows(f32, target), raw_dtype=target)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def random_matrix(rng: np.random.Generator, rows: int, cols: int, qtype: QT) -> np.ndarray:
    parts = []
    for r in range(0, rows, ROWS_PER_CHUNK):
        n = min(ROWS_PER_CHUNK, rows - r)
        f32 = rng.standard_normal((n, cols), dtype=np.float32) * np.float32(0.02)
        parts.append(gguf.quants.quantize(f32, qtype))
    return np.concatenate(parts, axis=0)


def write_1b(source: str, out_path: str, qtype: QT, seed: int) -> None:
    c = LLAMA_1B
    reader = gguf.GGUFReader(source)
    writer = gguf.GGUFWriter(out_path, "llama")
    writer.add_name("Llama-3.2-1B-shape random weights")
    writer.add_file_type(FILE_TYPE[qtype])
    writer.add_block_count(c["n_layer"])
    writer.add_context_length(c["n_ctx_train"])
    writer.add_embedding_length(c["n_embd"])
    writer.add_feed_forward_length(c["n_ff"])
    writer.add_head_count(c["n_head"])
    writer.add_head_count_kv(c["n_head_kv"])
    writer.add_key_length(c["head_dim"])
    writer.add_value_length(c["head_dim"])
    writer.add_rope_dimension_count(c["head_dim"])
    writer.add_rope_freq_base(c["rope_base"])
    writer.add_layer_norm_rms_eps(c["rms_eps"])
    writer.add_vocab_size(c["n_vocab"])

    # SmolLM2's byte-level BPE, padded with control tokens to the Llama 3 vocabulary size.
    tokens = list(reader.fields["tokenizer.ggml.tokens"].contents())
    types = list(reader.fields["tokenizer.ggml.token_type"].contents())
    merges = list(reader.fields["tokenizer.ggml.merges"].contents())
    n_pad = c["n_vocab"] - len(tokens)
    tokens += [f"<|bench_reserved_{i}|>" for i in range(n_pad)]
    types += [int(gguf.TokenType.CONTROL)] * n_pad
    writer.add_tokenizer_model(str(reader.fields["tokenizer.ggml.model"].contents()))
    writer.add_tokenizer_pre(str(reader.fields["tokenizer.ggml.pre"].contents()))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    for key in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"):
        if key in reader.fields:
            writer.add_uint32(key, int(reader.fields[key].contents()))
    writer.add_add_bos_token(False)

    rng = np.random.default_rng(seed)
    n_embd, n_ff, hd = c["n_embd"], c["n_ff"], c["head_dim"]
    q_dim, kv_dim = c["n_head"] * hd, c["n_head_kv"] * hd
    ones = np.ones(n_embd, dtype=np.float32)
    writer.add_tensor("token_embd.weight", random_matrix(rng, c["n_vocab"], n_embd, QT.Q8_0),
                      raw_dtype=QT.Q8_0)
    writer.add_tensor("output_norm.weight", ones)
    for il in range(c["n_layer"]):
        p = f"blk.{il}."
        writer.add_tensor(p + "attn_norm.weight", ones)
        for name, rows, cols in (("attn_q", q_dim, n_embd), ("attn_k", kv_dim, n_embd),
                                 ("attn_v", kv_dim, n_embd), ("attn_output", n_embd, q_dim),
                                 ("ffn_gate", n_ff, n_embd), ("ffn_up", n_ff, n_embd),
                                 ("ffn_down", n_embd, n_ff)):
            writer.add_tensor(p + name + ".weight", random_matrix(rng, rows, cols, qtype),
                              raw_dtype=qtype)
        writer.add_tensor(p + "ffn_norm.weight", ones)
        log(f"  {os.path.basename(out_path)}: layer {il + 1}/{c['n_layer']}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default=DEFAULT_SOURCE, help="the shipped SmolLM2 Q4_1 file")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default models/bench)")
    ap.add_argument("--only", choices=("smollm2", "1b"), help="write only these files")
    ap.add_argument("--force", action="store_true", help="rewrite files that exist")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    if not os.path.isfile(args.source):
        print(f"make_bench_models.py: {args.source} not found (scripts/setup.sh fetches it)",
              file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)

    jobs = []
    if args.only in (None, "smollm2"):
        for qt in (QT.Q8_0, QT.Q4_0):
            path = os.path.join(args.out, f"SmolLM2-135M-Instruct.{qt.name}.gguf")
            jobs.append((path, lambda p, q=qt: requantize_smollm2(args.source, p, q)))
    if args.only in (None, "1b"):
        for qt in (QT.Q4_0, QT.Q8_0):
            path = os.path.join(args.out, f"llama-3.2-1b-shape.random.{qt.name}.gguf")
            jobs.append((path, lambda p, q=qt: write_1b(args.source, p, q, args.seed)))
    for path, make in jobs:
        if os.path.exists(path) and not args.force:
            log(f"{path} exists (--force rewrites it)")
            continue
        t0 = time.time()
        tmp = path + ".tmp"
        make(tmp)
        os.replace(tmp, path)  # never leave a half-written model under the final name
        log(f"wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB, {time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
