#!/usr/bin/env python3
"""Dumps llama.cpp's named intermediate tensors for a token sequence, for layer-by-layer
comparison with pocketlm's ActivationObserver output when a golden test disagrees.

llama.cpp calls an evaluation callback for every graph node; this script asks for all of them and
saves each F32 node (name like "attn_norm-3", "kqv_out-3", "l_out-3", "result_output") as a numpy
array in one .npz file.

Usage (llama-cpp-python lives in the git-ignored .venv-ref):
  .venv-ref/bin/python scripts/dump_llamacpp_activations.py \
      --model models/SmolLM2-135M-Instruct.Q4_1.gguf --tokens 504,3575,282 --out /tmp/llama.npz
"""
import argparse
import ctypes

import numpy as np

GGML_MAX_DIMS = 4
GGML_MAX_SRC = 10
GGML_MAX_OP_PARAMS = 64
GGML_MAX_NAME = 64
GGML_TYPE_F32 = 0


class GgmlTensor(ctypes.Structure):
    # The public layout of struct ggml_tensor in ggml.h (as built into llama-cpp-python 0.3.x).
    _fields_ = [
        ("type", ctypes.c_int),
        ("buffer", ctypes.c_void_p),
        ("ne", ctypes.c_int64 * GGML_MAX_DIMS),
        ("nb", ctypes.c_size_t * GGML_MAX_DIMS),
        ("op", ctypes.c_int),
        ("op_params", ctypes.c_int32 * (GGML_MAX_OP_PARAMS // 4)),
        ("flags", ctypes.c_int32),
        ("src", ctypes.c_void_p * GGML_MAX_SRC),
        ("view_src", ctypes.c_void_p),
        ("view_offs", ctypes.c_size_t),
        ("data", ctypes.c_void_p),
        ("name", ctypes.c_char * GGML_MAX_NAME),
        ("extra", ctypes.c_void_p),
        ("padding", ctypes.c_char * 8),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import llama_cpp as L

    toks = [int(t) for t in args.tokens.split(",")]
    saved = {}

    def on_eval(tensor_ptr, ask, _user):
        t = ctypes.cast(tensor_ptr, ctypes.POINTER(GgmlTensor)).contents
        if ask:
            return True
        name = t.name.decode(errors="replace")
        if t.type != GGML_TYPE_F32 or not t.data:
            return True
        ne = [t.ne[i] for i in range(GGML_MAX_DIMS)]
        nb = [t.nb[i] for i in range(GGML_MAX_DIMS)]
        # Strided view over the tensor's bytes, outermost dimension first.
        span = sum((ne[i] - 1) * nb[i] for i in range(GGML_MAX_DIMS)) + 4
        buf = (ctypes.c_char * span).from_address(t.data)
        arr = np.ndarray(shape=tuple(reversed(ne)), dtype=np.float32, buffer=buf,
                         strides=tuple(reversed(nb))).copy()
        key = name
        k = 1
        while key in saved:  # a name repeated within one graph
            key = f"{name}#{k}"
            k += 1
        saved[key] = arr.squeeze()
        return True

    cb = L.ggml_backend_sched_eval_callback(on_eval)
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    model = L.llama_model_load_from_file(args.model.encode(), mp)
    cp = L.llama_context_default_params()
    cp.n_ctx = max(64, len(toks) + 8)
    cp.n_batch = cp.n_ubatch = max(len(toks), 1)
    cp.n_threads = cp.n_threads_batch = args.threads
    cp.flash_attn_type = L.LLAMA_FLASH_ATTN_TYPE_DISABLED
    cp.cb_eval = cb
    ctx = L.llama_init_from_model(model, cp)
    arr = (L.llama_token * len(toks))(*toks)
    batch = L.llama_batch_get_one(arr, len(toks))
    if L.llama_decode(ctx, batch) != 0:
        raise SystemExit("llama_decode failed")
    np.savez(args.out, **saved)
    print(f"{len(saved)} tensors -> {args.out}")
    L.llama_free(ctx)
    L.llama_model_free(model)


if __name__ == "__main__":
    main()
