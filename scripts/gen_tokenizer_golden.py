#!/usr/bin/env python3
"""Writes tests/data/tokenizer/smollm2_corpus_golden.jsonl: SmolLM2's token ids for every
document of the tokenizer corpus (tests/data/tokenizer/corpus/, see
scripts/gen_tokenizer_corpus.py for its format), as the reference runtime produces them.

    .venv-ref/bin/python scripts/gen_tokenizer_golden.py            # needs llama-cpp-python
    .venv-ref/bin/python scripts/gen_tokenizer_golden.py --check    # exit 1 if the file differs

The reference is llama-cpp-python (llama.cpp's tokenizer) with the vocabulary of
models/SmolLM2-135M-Instruct.Q4_1.gguf, loaded with vocab_only=True.

Line 1 describes the file: {"reference", "model", "documents", "corpus_bytes", "tokens"}.
Every further line is one document, in corpus order (files sorted by name, documents in file
order):
    file, doc         where it comes from (file name, index in the file)
    bytes, fnv1a64    its UTF-8 length and FNV-1a 64 hash (hex), so a stale file is noticed
    plain             ids of llama_tokenize(text, add_special=false, parse_special=false)
    special           ids with parse_special=true; omitted when equal to `plain`
    detok_plain_hex   llama_detokenize(plain, remove_special=false, unparse_special=false) as
                      hex; omitted when it is exactly the document's text
    detok_special_hex the same for `special` with unparse_special=true; omitted likewise
"""

import argparse
import ctypes
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "tokenizer" / "corpus"
GOLDEN = ROOT / "tests" / "data" / "tokenizer" / "smollm2_corpus_golden.jsonl"
MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
SEPARATOR = "\n\x1e\n"


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def corpus_documents():
    for path in sorted(CORPUS.glob("*.txt")):
        parts = path.read_bytes().decode("utf-8").split(SEPARATOR)
        if parts[-1] != "":
            raise SystemExit(f"{path}: does not end with a separator line")
        for i, text in enumerate(parts[:-1]):
            yield path.name, i, text


def detokenize(llama_cpp, vocab, ids, unparse_special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    size = 64 + 64 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, False, unparse_special)
    if n < 0:
        raise SystemExit(f"llama_detokenize needs {-n} bytes, had {size}")
    return buf.raw[:n]


def build(model_path):
    try:
        import llama_cpp
    except ImportError:
        raise SystemExit("llama_cpp is missing: run with .venv-ref/bin/python "
                         "(pip install llama-cpp-python)")
    llm = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    vocab = llm._model.vocab
    lines = []
    n_docs = n_bytes = n_tokens = 0
    for name, index, text in corpus_documents():
        data = text.encode("utf-8")
        plain = llm.tokenize(data, add_bos=False, special=False)
        special = llm.tokenize(data, add_bos=False, special=True)
        rec = {"file": name, "doc": index, "bytes": len(data), "fnv1a64": fnv1a64(data),
               "plain": plain}
        if special != plain:
            rec["special"] = special
        back = detokenize(llama_cpp, vocab, plain, False)
        if back != data:
            rec["detok_plain_hex"] = back.hex()
        back = detokenize(llama_cpp, vocab, special, True)
        if back != data:
            rec["detok_special_hex"] = back.hex()
        lines.append(json.dumps(rec, ensure_ascii=True, separators=(",", ":")))
        n_docs += 1
        n_bytes += len(data)
        n_tokens += len(plain) + len(special)
    header = {"reference": f"llama-cpp-python {llama_cpp.__version__}", "model": model_path.name,
              "documents": n_docs, "corpus_bytes": n_bytes, "tokens": n_tokens}
    return "\n".join([json.dumps(header, separators=(",", ":"))] + lines) + "\n", header


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=pathlib.Path, default=MODEL)
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed file instead of writing it")
    args = ap.parse_args()
    if not args.model.exists():
        raise SystemExit(f"{args.model} is absent (scripts/setup.sh fetches it)")
    text, header = build(args.model)
    if args.check:
        if not GOLDEN.exists() or GOLDEN.read_text(encoding="utf-8") != text:
            print(f"{GOLDEN} is stale: run scripts/gen_tokenizer_golden.py", file=sys.stderr)
            return 1
    else:
        GOLDEN.write_text(text, encoding="utf-8")
    print(f"{'checked' if args.check else 'wrote'} {GOLDEN.relative_to(ROOT)}: "
          f"{header['documents']} documents, {header['corpus_bytes']} bytes, "
          f"{header['tokens']} reference tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
