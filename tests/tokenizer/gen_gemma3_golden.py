#!/usr/bin/env python3
"""Writes tests/tokenizer/gemma3_golden.tsv: Gemma 3's token ids for a set of texts, as
llama-cpp-python (the reference runtime the engine is compared with) produces them.

    .venv-ref/bin/python tests/tokenizer/gen_gemma3_golden.py models/gemma-3-270m-q4_k_m.gguf

Each line: parse_special (0/1) TAB add_special (0/1) TAB text as hex TAB ids separated by
spaces TAB llama_detokenize(ids, remove_special=add_special, unparse_special=parse_special) as
hex. The texts cover what the tokenizer corpus (tests/data/tokenizer/corpus/) does not for this
SentencePiece vocabulary: Gemma's chat turns and other control tokens with special-token parsing
on and off, its user-defined tokens (runs of spaces, tabs and newlines, HTML tags), text with no
space prefix, byte fallback for characters outside the vocabulary, a literal U+2581, and
malformed UTF-8.
"""

import ctypes
import sys

import llama_cpp
from llama_cpp import Llama

TEXTS = [
    "Hello world",
    " Hello world",
    "  two leading spaces, one trailing ",
    # The prompt ChatTemplate "gemma" renders for [system "Be brief.", user "Hi"] with a
    # generation prompt (the template writes <bos> itself).
    "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n",
    "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>\n",
    "<start_of_turn",  # an unfinished control text is plain text
    "<<start_of_turn>> <end_of_turn > <END_OF_TURN>",
    "<eos><pad><unk><mask>[multimodal]<start_of_image><end_of_image><unused0><unused98>",
    "x<bos>y<eos>z",
    "<table><tr><td>a</td></tr></table><h1>T</h1><strong>b</strong> <s>x</s><sub>2</sub>",
    "a  b   c    d" + " " * 40 + "e",
    "\n\n\n" + "\n" * 33 + "end\n",
    "\t\tindent\t\t\t" + "\t" * 32 + "x",
    "def f(x):\n    return x  +  1\n\n\n\tpass  \n",
    "I've been 'told he's there, 'RE you sure? We'Ve",
    "3.14159 and 1,234,567 and 0x7FFF and ٣٤٥ and ½ and 12345678901234567890",
    "🦙🚀😶‍🌫️ ✅ 👍🏽 🇫🇷 🧬",
    "нещо на Български, Ελληνικά, עברית, العربية, हिन्दी, ไทย, 日本語のテキスト, 한국어, 中文字符",
    "rare: 𓀀 𝔘 ꙮ \ue000 \U000f0000 \ufffe \uffff",
    "control: \x00\x01\x1f\x7f \x85",
    "literal \u2581 block: a\u2581b \u2581\u2581",
    "<0x41> <0xZZ> <0x0A>",
    "e\u0301 a\u0308 combining marks \u20dd",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "\u00a0nbsp\u3000ideographic\u2028line\u2029para",
    "a" * 300,
    "",
]

BYTE_TEXTS = [
    b"bad \xff byte",
    b"\xe2\x82 truncated",
    b"overlong \xc0\x80 nul",
    b"surrogate \xed\xa0\x80 half",
    b"\x80\x80 stray",
    b"tail \xf0\x9f\xa6",
    b"lead \xf8\x88\x80\x80\x80 five",
    b"\xf0 \xe2",
]


def detokenize(vocab, ids, remove_special, unparse_special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    size = 64 + 64 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, remove_special,
                                   unparse_special)
    if n < 0:
        raise SystemExit(f"llama_detokenize needs {-n} bytes, had {size}")
    return buf.raw[:n]


def main():
    model = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "tests/tokenizer/gemma3_golden.tsv"
    llm = Llama(model_path=model, vocab_only=True, verbose=False)
    vocab = llm._model.vocab
    rows = []
    cases = [t.encode("utf-8") for t in TEXTS] + BYTE_TEXTS
    for data in cases:
        for special in (False, True):
            for add in (False, True):
                ids = llm.tokenize(data, add_bos=add, special=special)
                back = detokenize(vocab, ids, add, special)
                rows.append(f"{int(special)}\t{int(add)}\t{data.hex()}\t"
                            f"{' '.join(map(str, ids))}\t{back.hex()}")
    with open(out, "w") as f:
        f.write(f"# llama-cpp-python {llama_cpp.__version__}, {model.split('/')[-1]}\n")
        f.write("\n".join(rows) + "\n")
    print(f"wrote {len(rows)} cases to {out}")


if __name__ == "__main__":
    main()
