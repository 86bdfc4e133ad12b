#!/usr/bin/env python3
"""Writes tests/tokenizer/smollm2_golden.tsv: SmolLM2's token ids for a set of texts, as
llama-cpp-python (the reference runtime the engine is compared with) produces them.

    pip install llama-cpp-python          # builds llama.cpp from source; takes a while
    python3 tests/tokenizer/gen_smollm2_golden.py models/SmolLM2-135M-Instruct.Q4_1.gguf

Each line: parse_special (0/1) TAB add_special (0/1) TAB text as hex TAB ids separated by
spaces. The texts cover what the vocabulary test files do not for this family: ChatML markup
with special tokens parsed or not, invalid UTF-8, long whitespace runs, code, many scripts.
"""

import sys

import llama_cpp
from llama_cpp import Llama

TEXTS = [
    "Hello world",
    " Hello world",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n",
    "<|im_start|>assistant\n",
    "text<|endoftext|>more<repo_name>x<file_sep>y",
    "<|im_end",  # an unfinished special text is plain text
    "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like tea? We'Ve",
    "3.14159 and 1,234,567 and 0x7FFF and ٣٤٥ and ½",
    "    def f(x):\n        return x  +  1\n\n\n\tpass  \n",
    "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n",
    "🦙🚀😶‍🌫️ ✅ 👍🏽 🇫🇷",
    "нещо на Български, Ελληνικά, עברית, العربية, हिन्दी, ไทย, 日本語のテキスト, 한국어, 中文字符",
    "Cửa Việt café naïve Führer ß ǅ ﬁ",
    "e\u0301 a\u0308 combining marks \u20dd",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "\u00a0nbsp\u3000ideographic\u2028line\u2029para\u0085nel",
    "a" * 300,
    " " * 100 + "x",
    "!!!!!!......??????------======```````\"\"\"\"",
    "https://example.com/path?q=1&r=2#frag user@example.org",
    "",
]

BYTE_TEXTS = [
    b"bad \xff byte",
    b"\xe2\x82 truncated",
    b"overlong \xc0\x80 nul",
    b"surrogate \xed\xa0\x80 half",
    b"\x80\x80 stray",
    b"tail \xf0\x9f\xa6",
]


def main():
    model = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "tests/tokenizer/smollm2_golden.tsv"
    llm = Llama(model_path=model, vocab_only=True, verbose=False)
    rows = []
    cases = [t.encode("utf-8") for t in TEXTS] + BYTE_TEXTS
    for data in cases:
        for special in (False, True):
            for add in (False, True):
                ids = llm.tokenize(data, add_bos=add, special=special)
                rows.append(f"{int(special)}\t{int(add)}\t{data.hex()}\t{' '.join(map(str, ids))}")
    with open(out, "w") as f:
        f.write(f"# llama-cpp-python {llama_cpp.__version__}, {model.split('/')[-1]}\n")
        f.write("\n".join(rows) + "\n")
    print(f"wrote {len(rows)} cases to {out}")


if __name__ == "__main__":
    main()
