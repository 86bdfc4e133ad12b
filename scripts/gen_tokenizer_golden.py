#!/usr/bin/env python3
"""Writes tests/data/tokenizer/<model>_corpus_golden.jsonl: a model's token ids for every
document of the tokenizer corpus (tests/data/tokenizer/corpus/, see
scripts/gen_tokenizer_corpus.py for its format), as the reference runtime produces them.

    .venv-ref/bin/python scripts/gen_tokenizer_golden.py                  # SmolLM2 (default)
    .venv-ref/bin/python scripts/gen_tokenizer_golden.py --model gemma3   # Gemma 3
    .venv-ref/bin/python scripts/gen_tokenizer_golden.py --model all --check   # exit 1 if stale

The reference is llama-cpp-python (llama.cpp's tokenizer) with the vocabulary of the model's
GGUF file, loaded with vocab_only=True:
    smollm2  models/SmolLM2-135M-Instruct.Q4_1.gguf  -> smollm2_corpus_golden.jsonl
             byte-level BPE; tokenized without BOS (add_special=false)
    gemma3   models/gemma-3-270m-q4_k_m.gguf          -> gemma3_corpus_golden.jsonl
             SentencePiece; tokenized as llama.cpp tokenizes a Gemma prompt, with add_special=
             true (the vocabulary's add_bos_token adds <bos>), and detokenized with
             remove_special=true (the <bos> comes off again)
--model-path replaces the model's file (same vocabulary expected).

Line 1 describes the file: {"reference", "model", "documents", "corpus_bytes", "tokens"}, and
"add_special": true / "remove_special": true where the model is tokenized / detokenized so
(absent means false). Every further line is one document, in corpus order (files sorted by
name, documents in file order):
    file, doc         where it comes from (file name, index in the file)
    bytes, fnv1a64    its UTF-8 length and FNV-1a 64 hash (hex), so a stale file is noticed
    plain             ids of llama_tokenize(text, add_special, parse_special=false)
    special           ids with parse_special=true; omitted when equal to `plain`
    detok_plain_hex   llama_detokenize(plain, remove_special, unparse_special=false) as
                      hex; omitted when it is exactly the document's text
    detok_special_hex the same for `special` with unparse_special=true; omitted likewise
"""

import argparse
import ctypes
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "tokenizer"
CORPUS = DATA / "corpus"
SEPARATOR = "\n\x1e\n"


class Profile:
    def __init__(self, model_file, golden_file, add_special):
        self.model = ROOT / "models" / model_file
        self.golden = DATA / golden_file
        self.add_special = add_special        # tokenize with BOS/EOS as the vocabulary asks
        self.remove_special = add_special     # and take them off again when detokenizing


PROFILES = {
    "smollm2": Profile("SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2_corpus_golden.jsonl", False),
    "gemma3": Profile("gemma-3-270m-q4_k_m.gguf", "gemma3_corpus_golden.jsonl", True),
}


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


def detokenize(llama_cpp, vocab, ids, remove_special, unparse_special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    size = 64 + 64 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, remove_special,
                                   unparse_special)
    if n < 0:
        raise SystemExit(f"llama_detokenize needs {-n} bytes, had {size}")
    return buf.raw[:n]


def build(profile, model_path):
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
        # llama-cpp-python's add_bos is llama_tokenize's add_special.
        plain = llm.tokenize(data, add_bos=profile.add_special, special=False)
        special = llm.tokenize(data, add_bos=profile.add_special, special=True)
        rec = {"file": name, "doc": index, "bytes": len(data), "fnv1a64": fnv1a64(data),
               "plain": plain}
        if special != plain:
            rec["special"] = special
        back = detokenize(llama_cpp, vocab, plain, profile.remove_special, False)
        if back != data:
            rec["detok_plain_hex"] = back.hex()
        back = detokenize(llama_cpp, vocab, special, profile.remove_special, True)
        if back != data:
            rec["detok_special_hex"] = back.hex()
        lines.append(json.dumps(rec, ensure_ascii=True, separators=(",", ":")))
        n_docs += 1
        n_bytes += len(data)
        n_tokens += len(plain) + len(special)
    header = {"reference": f"llama-cpp-python {llama_cpp.__version__}", "model": model_path.name,
              "documents": n_docs, "corpus_bytes": n_bytes, "tokens": n_tokens}
    if profile.add_special:
        header["add_special"] = True
    if profile.remove_special:
        header["remove_special"] = True
    return "\n".join([json.dumps(header, separators=(",", ":"))] + lines) + "\n", header


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(PROFILES) + ["all"], default="smollm2",
                    help="which model's golden file to write (default smollm2)")
    ap.add_argument("--model-path", type=pathlib.Path,
                    help="the model's GGUF file, when not the one under models/")
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed file instead of writing it")
    args = ap.parse_args()
    names = sorted(PROFILES) if args.model == "all" else [args.model]
    if args.model_path is not None and len(names) != 1:
        raise SystemExit("--model-path needs a single --model")
    status = 0
    for name in names:
        profile = PROFILES[name]
        model_path = args.model_path or profile.model
        if not model_path.exists():
            raise SystemExit(f"{model_path} is absent (scripts/setup.sh fetches it)")
        text, header = build(profile, model_path)
        golden = profile.golden
        if args.check:
            if not golden.exists() or golden.read_text(encoding="utf-8") != text:
                print(f"{golden} is stale: run scripts/gen_tokenizer_golden.py --model {name}",
                      file=sys.stderr)
                status = 1
                continue
        else:
            golden.write_text(text, encoding="utf-8")
        print(f"{'checked' if args.check else 'wrote'} {golden.relative_to(ROOT)}: "
              f"{header['documents']} documents, {header['corpus_bytes']} bytes, "
              f"{header['tokens']} reference tokens")
    return status


if __name__ == "__main__":
    sys.exit(main())
