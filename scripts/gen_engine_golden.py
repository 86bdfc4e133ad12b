#!/usr/bin/env python3
"""Golden data for the engine, made by llama.cpp (through llama-cpp-python) on the same GGUF file.

For each prompt it records, from llama.cpp alone:
  - the prompt's token ids (llama.cpp's tokenizer, special tokens parsed),
  - a 64-token greedy continuation (argmax, first maximum on ties),
  - for every teacher-forced prompt position: the top-1 token, the gap between the top two logits
    (a gap under 0.01 is a near-tie that a different order of float additions may break the other
    way) and the top 8 (token, logit) pairs, from which tests report the largest logit difference.

Usage (llama-cpp-python lives in a git-ignored venv; it compiles llama.cpp on install):
  python3 -m venv .venv-ref && .venv-ref/bin/pip install llama-cpp-python numpy
  .venv-ref/bin/python scripts/gen_engine_golden.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf \
      --out tests/data/golden/smollm2.json --prompts chatml
  .venv-ref/bin/python scripts/gen_engine_golden.py --model models/gemma-3-270m-q4_k_m.gguf \
      --out tests/data/golden/gemma3.json --prompts gemma
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from golden_prompts import prompts_for  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--prompts", default="chatml", choices=["chatml", "gemma"],
                    help="prompt set: chat prompts in this chat format (gemma adds its own extras)")
    ap.add_argument("--n-predict", type=int, default=64)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--top", type=int, default=8)
    args = ap.parse_args()

    import llama_cpp
    from llama_cpp import Llama

    llm = Llama(model_path=args.model, n_ctx=args.n_ctx, n_batch=512, n_threads=2,
                logits_all=True, verbose=False, seed=0)
    cases = []
    for name, text in prompts_for(args.prompts):
        # add_bos=True lets llama.cpp add BOS where the model's metadata asks for it
        # (tokenizer.ggml.add_bos_token: Gemma yes, SmolLM2 no).
        toks = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        llm.reset()
        llm.eval(toks)
        scores = np.array(llm.scores[: len(toks)], dtype=np.float32)
        positions = []
        for row in scores:
            order = np.argsort(-row, kind="stable")[: args.top]
            top = [[int(i), float(row[i])] for i in order]
            positions.append({"top1": int(order[0]), "gap": float(row[order[0]] - row[order[1]]),
                              "top": top})
        # Greedy continuation, one token at a time, argmax of llama.cpp's logits.
        cont = []
        gaps = []
        logits = scores[-1]
        for _ in range(args.n_predict):
            order = np.argsort(-logits, kind="stable")[:2]
            tok = int(order[0])
            gaps.append(float(logits[order[0]] - logits[order[1]]))
            cont.append(tok)
            llm.eval([tok])
            logits = np.array(llm.scores[llm.n_tokens - 1], dtype=np.float32)
        cases.append({"name": name, "text": text, "prompt_tokens": [int(t) for t in toks],
                      "positions": positions, "continuation": cont, "continuation_gaps": gaps})
        print(f"{name}: {len(toks)} prompt tokens, continuation {llm.detokenize(cont)[:60]!r}",
              file=sys.stderr)
    out = {"model": os.path.basename(args.model), "llama_cpp_python": llama_cpp.__version__,
           "n_predict": args.n_predict, "cases": cases}
    with open(args.out, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
