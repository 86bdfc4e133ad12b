#!/usr/bin/env python3
"""Writes tests/toolkit/data/smollm2_expect.json: what llama.cpp does with SmolLM2-135M-Instruct,
for the quantization toolkit's tests to hold pocketlm against without llama.cpp installed.

Needs llama-cpp-python (run with .venv-ref/bin/python) and models/SmolLM2-135M-Instruct.Q4_1.gguf.

  types       every tensor's type in llama.cpp's file of each preset (llama_model_quantize on the
              model dequantized to F32), for the plan tests;
  tensor_mse  relative squared error llama.cpp's quantizers leave on a few real tensors
              (ggml_quantize_chunk, no importance matrix), which pocketlm's must not exceed;
  perplexity  llama.cpp's perplexity of the Q4_1 model on the start of data/text/evaluation.txt,
              computed from llama-cpp-python's logits with llama.cpp's chunking (context 128,
              second half of each chunk scored), for the perplexity tool's test.

    .venv-ref/bin/python tests/toolkit/gen_smollm2_expect.py
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
OUT = os.path.join(HERE, "data", "smollm2_expect.json")

PRESETS = {"Q8_0": 7, "Q6_K": 18, "Q5_K_M": 17, "Q5_1": 9, "Q5_0": 8, "Q4_K_M": 15,
           "Q4_K_S": 14, "Q4_1": 3, "Q4_0": 2, "Q3_K_M": 12, "Q2_K": 10}
# (tensor, rows used, types): real tensors of each row length the model has.
TENSORS = [("blk.0.attn_v.weight", 192, ["q8_0", "q5_0", "q5_1", "q4_0"]),
           ("blk.5.attn_q.weight", 64, ["q8_0", "q5_0", "q4_0"]),
           ("blk.0.ffn_down.weight", 64, ["q6_K", "q5_K", "q4_K", "q3_K", "q2_K"]),
           ("blk.17.ffn_down.weight", 64, ["q6_K", "q4_K", "q3_K"]),
           ("token_embd.weight", 256, ["q8_0", "q4_0"])]
PPL_CTX = 128
PPL_CHUNKS = 4

import gguf  # noqa: E402
import llama_cpp  # noqa: E402

GGML_TYPES = {"q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7, "q8_0": 8, "q2_K": 10, "q3_K": 11,
              "q4_K": 12, "q5_K": 13, "q6_K": 14}


def f32_model(path: str) -> None:
    """The model with every tensor dequantized to F32 (what `pocketlm quantize --type f32` does)."""
    r = gguf.GGUFReader(MODEL)
    w = gguf.GGUFWriter(path, r.fields["general.architecture"].contents())
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k == "general.architecture":
            continue
        t = f.types[0]
        if t == gguf.GGUFValueType.ARRAY:
            w.add_key_value(k, f.contents(), t, sub_type=f.types[-1])
        else:
            w.add_key_value(k, f.contents(), t)
    for t in r.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        w.add_tensor(t.name, a.reshape([int(x) for x in reversed(t.shape)]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def preset_types(f32: str, tmp: str) -> dict:
    out = {}
    for name, ftype in PRESETS.items():
        dst = os.path.join(tmp, f"{name}.gguf")
        p = llama_cpp.llama_model_quantize_default_params()
        p.ftype = ftype
        if llama_cpp.llama_model_quantize(f32.encode(), dst.encode(), ctypes.byref(p)) != 0:
            raise SystemExit(f"llama.cpp failed to quantize to {name}")
        r = gguf.GGUFReader(dst)
        out[name] = {t.name: t.tensor_type.name.lower().replace("_k", "_K") for t in r.tensors}
        os.remove(dst)
    return out


def tensor_mse() -> list:
    lib = ctypes.CDLL(os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-base.so"))
    q = lib.ggml_quantize_chunk
    q.restype = ctypes.c_size_t
    q.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                  ctypes.c_int64, ctypes.c_void_p]
    r = gguf.GGUFReader(MODEL)
    by_name = {t.name: t for t in r.tensors}
    out = []
    for name, rows, types in TENSORS:
        t = by_name[name]
        x = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        x = np.ascontiguousarray(x.reshape(-1, x.shape[-1])[:rows])
        n = x.shape[1]
        for ty in types:
            qt = gguf.GGMLQuantizationType(GGML_TYPES[ty])
            block, size = gguf.GGML_QUANT_SIZES[qt]
            buf = np.zeros(rows * n // block * size, dtype=np.uint8)
            q(GGML_TYPES[ty], x.ctypes.data, buf.ctypes.data, 0, rows, n, None)
            y = gguf.quants.dequantize(buf.reshape(rows, -1), qt).reshape(rows, n)
            out.append({"tensor": name, "rows": rows, "type": ty,
                        "rel_mse": float(((x - y) ** 2).sum() / (x ** 2).sum())})
    return out


def perplexity() -> dict:
    text = open(os.path.join(ROOT, "data", "text", "evaluation.txt"), "rb").read()
    llm = llama_cpp.Llama(model_path=MODEL, n_ctx=PPL_CTX, n_batch=PPL_CTX, logits_all=True,
                          n_threads=2, verbose=False)
    vocab = llm._model.vocab
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
    toks = llm.tokenize(text, add_bos=add_bos, special=False)
    first = PPL_CTX // 2
    nll = []
    for c in range(PPL_CHUNKS):
        t = list(toks[c * PPL_CTX:(c + 1) * PPL_CTX])
        if add_bos:
            t[0] = llama_cpp.llama_vocab_bos(vocab)
        llm.reset()
        llm.eval(t)
        lg = np.array(llm.scores[first:PPL_CTX - 1], dtype=np.float64)
        lp = lg - lg.max(axis=1, keepdims=True)
        lp -= np.log(np.exp(lp).sum(axis=1, keepdims=True))
        nll += (-lp[np.arange(PPL_CTX - 1 - first), t[first + 1:]]).tolist()
    nll = np.array(nll)
    ppl = float(np.exp(nll.mean()))
    err = float(ppl * nll.std() / np.sqrt(len(nll) - 1))
    return {"n_ctx": PPL_CTX, "chunks": PPL_CHUNKS, "n_scored": len(nll), "ppl": ppl,
            "ppl_err": err}


def main() -> int:
    if not os.path.exists(MODEL):
        raise SystemExit(f"{MODEL} is missing (scripts/fetch_models.py)")
    with tempfile.TemporaryDirectory() as tmp:
        f32 = os.path.join(tmp, "f32.gguf")
        f32_model(f32)
        doc = {"generator": "tests/toolkit/gen_smollm2_expect.py",
               "llama_cpp_python": llama_cpp.__version__,
               "types": preset_types(f32, tmp),
               "tensor_mse": tensor_mse(),
               "perplexity": perplexity()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
