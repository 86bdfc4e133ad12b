#!/usr/bin/env python3
"""Runs a converted GGUF in llama.cpp (llama-cpp-python) on the prompts of a golden.json and
prints, as one JSON object, what llama.cpp makes of them: its tokenization of each prompt, its
logits at the golden positions, and its 32-token greedy continuation of the golden ids.

Run with the interpreter that has llama-cpp-python (convert_test.py does that):
  .venv-ref/bin/python tests/convert/llamacpp_check.py --gguf model.gguf --golden golden.json

The KV cache is F32 (type_k = type_v = 0) so that llama.cpp's arithmetic is F32 throughout, like
the transformers reference. Each prompt runs with the context size golden.json gives (LongRoPE
picks its short or long factors from it in llama.cpp).
"""
import argparse
import base64
import json
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--golden", required=True)
    args = ap.parse_args()
    from llama_cpp import Llama, __version__

    with open(args.golden, encoding="utf-8") as f:
        golden = json.load(f)
    out = {"llama_cpp_python": __version__, "prompts": [], "tokenize": []}
    llm = None
    for p in golden["prompts"]:
        llm = Llama(model_path=args.gguf, n_ctx=p["n_ctx"], n_batch=512, n_threads=2,
                    logits_all=True, verbose=False, type_k=0, type_v=0, seed=0)
        ids = llm.tokenize(p["text"].encode("utf-8"), add_bos=p["add_special_tokens"], special=True)
        llm.reset()
        llm.eval(p["ids"])
        scores = np.array(llm.scores[: len(p["ids"])], dtype=np.float32)
        first = p["logits_first_pos"]
        gold = np.frombuffer(base64.b64decode(p["logits_f32_b64"]), dtype="<f4").reshape(p["logits_shape"])
        mine = scores[first:first + gold.shape[0]]
        diff = np.abs(mine - gold).max(axis=1)
        greedy = []
        last = scores[-1]
        for _ in range(len(p["greedy"])):
            t = int(np.argmax(last))
            greedy.append(t)
            llm.eval([t])
            last = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        out["prompts"].append({
            "name": p["name"], "n_ctx": llm.n_ctx(), "ids": ids,
            "position_max_abs_diff": [float(d) for d in diff],
            "logit_range": float(gold.max() - gold.min()),
            "greedy": greedy,
        })
    for c in golden["tokenize"]:
        out["tokenize"].append(llm.tokenize(c["text"].encode("utf-8"), add_bos=False, special=True))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
