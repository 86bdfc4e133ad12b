#!/usr/bin/env python3
"""Writes the generated part of the tokenizer corpus, tests/data/tokenizer/corpus/.

    python3 scripts/gen_tokenizer_corpus.py           # (re)writes the generated files
    python3 scripts/gen_tokenizer_corpus.py --check   # exit 1 if a committed file differs

The corpus is a set of UTF-8 text files, one per kind of text. Each file is a list of test
documents; every document is followed by a separator line holding only U+001E (ASCII record
separator), so a file reads  doc0 "\\n\\x1e\\n" doc1 "\\n\\x1e\\n" ...  and splitting the file on
"\\n\\x1e\\n" gives the documents plus one empty string at the end. Documents never contain that
separator; they may start or end with newlines.

The prose, code and markup files (prose_*.txt, code.txt, markup.txt) are written by hand. This
script writes the rest: whitespace runs, numbers, emoji, unusual Unicode, contractions, SmolLM2's
special-token texts, characters SmolLM2 has no tokens for (lossy.txt, the only documents that do
not survive encode + decode), and "mixed" documents stitched from random slices of the others (a
fixed-seed generator of our own, so the output does not depend on the Python version).

Only the standard library is needed. After changing the corpus, regenerate the reference ids with
scripts/gen_tokenizer_golden.py.
"""

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "tokenizer" / "corpus"
SEPARATOR = "\n\x1e\n"
HANDWRITTEN = ["prose_latin.txt", "prose_scripts.txt", "prose_cjk.txt", "code.txt", "markup.txt"]


class SplitMix64:
    """A tiny deterministic PRNG (SplitMix64), independent of Python's `random`."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def pick(self, items):
        return items[self.below(len(items))]


def read_documents(path):
    text = path.read_text(encoding="utf-8")
    parts = text.split(SEPARATOR)
    if parts[-1] != "":
        raise SystemExit(f"{path}: does not end with a separator line")
    return parts[:-1]


def render(docs):
    for d in docs:
        if SEPARATOR in d or "\x1e" in d:
            raise SystemExit(f"document contains the separator: {d[:40]!r}")
    return "".join(d + SEPARATOR for d in docs)


# ---------------------------------------------------------------------------------------------
# Whitespace: runs of 1..20 of each kind, alone and between words, and mixtures.

def whitespace_docs():
    kinds = {
        "space": " ",
        "tab": "\t",
        "newline": "\n",
        "crlf": "\r\n",
        "space-newline": " \n",
        "newline-space": "\n ",
        "tab-space": "\t ",
        "nbsp": "\u00a0",
        "ideographic": "\u3000",
    }
    docs = []
    for name, unit in kinds.items():
        for n in range(1, 21):
            run = unit * n
            # Alone, between words, before a word, after a word, and around punctuation/digits.
            docs.append(run)
            docs.append(f"word{run}word")
            docs.append(f"{run}Leading")
            docs.append(f"trailing{run}")
            if n in (1, 2, 3, 7, 20):
                docs.append(f"x ={run}1;{run}// {name} {n}{run}\n{run}end")
    mixtures = [
        " \t \t\t \t\n  \n   \n    \n     \n",
        "\n\n\n \n\n \t\n\t\n",
        "a \n b \n\n c \n\n\n d",
        "  leading two, trailing two  ",
        "line one\r\nline two\r\n\r\nline four\r\n",
        "old mac\rline\r\rbreaks",
        "form\ffeed and vertical\vtab",
        "\u2028line separator\u2029paragraph separator\u0085next line",
        "spaces\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
        "\u202f\u205fvarious",
        "ogham\u1680space mongolian\u180evowel separator",
        "\t\tdef f():\n\t\t\treturn 1\n\n\n\n\t\tpass",
        "    four\n        eight\n            twelve\n                sixteen",
        "end with spaces and newline   \n",
        " " * 64 + "after 64 spaces",
        "\n" * 40 + "after 40 newlines",
        "\t" * 33 + "after 33 tabs",
        " \u00a0 \u00a0 mixed nbsp \u00a0\u00a0  ",
        "!" + " " * 5 + "?" + "\n" * 5 + "." + "\t" * 5 + ",",
        "1 2  3   4    5     6      7       8        9         10",
        "a\u200bb\u200b\u200bc \u200b d",
    ]
    docs.extend(mixtures)
    return docs


# ---------------------------------------------------------------------------------------------
# Numbers of every length, separators, scripts and notations.

def numbers_docs(rng):
    docs = []
    for n in range(1, 41):
        digits = "".join(str(rng.below(10)) for _ in range(n))
        if n > 1 and digits[0] == "0":
            digits = "1" + digits[1:]
        docs.append(digits)
        docs.append(f"n={digits}, -{digits}, {digits}.{digits[::-1]}, x{digits}y")
    docs.extend("0" * n for n in (1, 2, 3, 4, 7, 16, 33))
    docs.extend("9" * n for n in (1, 2, 3, 5, 8, 13, 21))
    docs.extend([
        "1,234 12,345 123,456 1,234,567 1.234.567,89 1 234 567 1'234'567 12_345_678",
        "3.14159265358979323846 2.718281828 -0.000001 +42 1e10 6.022e23 1.6E-19 .5 5. 0.0",
        "0x0 0xFF 0xdeadBEEF 0b1011_0110 0o755 0777 1_000_000u64 42i32 3.0f 2.5L 7ull",
        "v1.2.3 v10.0.0-rc.1 2.0.0+build.5 python3.11 gcc-12.2 ISO-8859-1 UTF-8",
        "2024-02-29 23:59:59.999 12/31/1999 31.12.1999 1999年12月31日 T+05:30 -08:00",
        "+1 (555) 010-9999, +44 20 7946 0958, +81-3-1234-5678",
        "100% 50‰ 3/4 1:2 2×3=6 10÷2=5 5° 12€ $9.99 £7 ¥500 ₹1,00,000 1st 2nd 3rd 4th 21st",
        "IPv4 192.168.0.1, IPv6 2001:db8::ff00:42:8329, port :8080, MAC 00:1A:2B:3C:4D:5E",
        "½ ⅓ ¼ ¾ ⅛ ² ³ ¹ ⁰⁴⁵⁶⁷⁸⁹ ₀₁₂₃₄ H₂O CO₂ x² E=mc²",
        "Ⅰ Ⅱ Ⅲ Ⅳ Ⅻ ⅼ ⅽ ⅾ ⅿ ① ② ⑳ ⑴ ⒈ ❶ ➊ 〇 一二三 壱弐参",
        "Arabic-Indic ٠١٢٣٤٥٦٧٨٩, Persian ۰۱۲۳۴۵۶۷۸۹, Devanagari ०१२३४५६७८९, Bengali ০১২৩৪৫৬৭৮৯",
        "Thai ๐๑๒๓๔๕๖๗๘๙, full-width ０１２３４５６７８９, math 𝟎𝟏𝟐𝟑 𝟘𝟙𝟚, Tibetan ༠༡༢",
        "12abc abc12 a1b2c3 1a2b3c A1 B22 C333 D4444 x86_64 aarch64 utf8mb4 mp3 h264 3D 4K",
        "ISBN 978-3-16-148410-0, IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111",
        "π ≈ 3.14159, e ≈ 2.71828, √2 ≈ 1.41421, φ ≈ 1.61803, "
        "∞ > 10^100 > 2**64 = 18446744073709551616",
        "-1-2-3 --4 +-5 1..10 1...3 [0, 1) (2, 3] {4;5} <6|7> 8^9 10!",
    ])
    for n in range(1, 25):
        docs.append(" ".join(str(rng.below(10 ** n)) for _ in range(4)))
    return docs


# ---------------------------------------------------------------------------------------------
# Emoji: single, modifiers, ZWJ sequences, flags, keycaps, variation selectors.

def emoji_docs():
    zwj = "\u200d"
    tones = ["\U0001F3FB", "\U0001F3FC", "\U0001F3FD", "\U0001F3FE", "\U0001F3FF"]
    family = zwj.join(["\U0001F468", "\U0001F469", "\U0001F467", "\U0001F466"])
    docs = [
        "😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘😗😙😚😋😛😝😜🤪🤨🧐🤓😎🥸🤩🥳",
        "🦙🚀🔥💯✅❌⚠️❤️💔🧡💛💚💙💜🖤🤍🤎🫶👍👎👏🙌🙏💪🧠🫀🫁",
        "family " + family + " couple " + zwj.join(["\U0001F469", "\u2764\ufe0f", "\U0001F468"]),
        "👩‍💻 🧑‍🔬 👨‍🍳 🧑‍🚀 🕵️‍♀️ 🏃‍♂️ 🧙‍♀️ 🏳️‍🌈 🏳️‍⚧️ 🏴‍☠️ 🐻‍❄️ 😶‍🌫️ ❤️‍🔥 ❤️‍🩹",
        "thumbs " + " ".join("👍" + t for t in tones)
        + " and waves " + "".join("👋" + t for t in tones),
        "👩🏽‍🚀 👨🏿‍💻 🧑🏻‍🤝‍🧑🏾 👩🏼‍❤️‍💋‍👨🏽 🤝🏻 🫱🏼‍🫲🏿",
        "flags 🇫🇷🇩🇪🇪🇸🇮🇹🇯🇵🇰🇷🇨🇳🇧🇷🇮🇳🇺🇸🇬🇧🇺🇦🇹🇷🇻🇳🇬🇷🇪🇬🇮🇱🇸🇦 end",
        "regional indicators alone 🇦 🇧 🇨 and odd count 🇫🇷🇩",
        "subdivision flags 🏴󠁧󠁢󠁥󠁮󠁧󠁿 🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
        "keycaps 0️⃣ 1️⃣ 2️⃣ 3️⃣ #️⃣ *️⃣ 🔟 and bare 1⃣ #⃣",
        "text vs emoji style: ☺︎ ☺️ ♥︎ ♥️ ✈︎ ✈️ ☂ ☂️ © ©️ ® ™️",
        "I love 🍕!!! Do you?🤔 Yes👍—no👎... maybe🤷‍♂️? #food @friend 🍝🍣🍜",
        "Status: ✅ build passed · ❌ 2 tests failed · ⚠️ 17 warnings · ⏱️ 3m12s",
        "🐶🐱🐭🐹🐰🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵🐔🐧🐦🐤🦆🦅🦉🦇🐺🐗🐴🦄🐝🪱🐛🦋🐌🐞🐜🪰🪲🪳",
        "new-ish emoji 🫠 🫡 🫢 🫣 🫤 🥹 🫨 🩷 🩵 🩶 🪼 🪿 🫎 🫏 🪽 🪻",
        "emoji next to letters: abc😀def 123😀456 ,😀. 😀\n😀\t😀  😀",
        "".join(chr(0x1F600 + i) for i in range(80)),
        "ZWJ without emoji: a\u200db, 1\u200d2, and a lone joiner \u200d at the end\u200d",
    ]
    return docs


# ---------------------------------------------------------------------------------------------
# Unusual Unicode: combining marks, spaces, invisible and bidi controls, U+FFFD, astral planes.

def unicode_docs():
    docs = [
        "decomposed e\u0301 a\u0308 o\u0302 n\u0303 c\u0327 vs precomposed é ä ô ñ ç",
        "stacked: a\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a"
        "\u030b\u030c\u030d\u030e\u030f\u0310 z\u0336\u0337\u0338",
        "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349"
        "\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354"
        "L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b"
        "\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333",
        "combining enclosing \u20dd \u20de \u20df a\u20dd 1\u20e3 and lone marks \u0301\u0302",
        "Hangul jamo \u1112\u1161\u11ab\u1100\u1173\u11af vs syllables 한글",
        "Devanagari virama क्षत्रिय and nukta क़ ख़ ग़ with ZWJ क्\u200dष ZWNJ क्\u200cष",
        "NBSP\u00a0between\u00a0words, narrow\u202fnbsp, figure\u2007space 1\u2007000",
        "zero\u200bwidth\u200bspace, non\u200cjoiner, word\u2060joiner, soft\u00adhyphen",
        "\ufeffBOM at the start, and one in the mid\ufeffdle",
        "bidi: \u200eLRM\u200e \u200fRLM\u200f \u061cALM\u061c \u202aLRE\u202c \u202bRLE\u202c "
        "\u202dLRO\u202c \u202eRLO\u202c \u2066LRI\u2069 \u2067RLI\u2069 \u2068FSI\u2069",
        "Hebrew with Latin: שלום world עולם 123 \u200fסוף\u200f.",
        "Arabic with marks: مُحَمَّد، كِتَابٌ، قُرْآن — tatweel: عـــربـــي",
        "replacement \ufffd char, object \ufffc replacement, \ufffd\ufffd\ufffd triple",
        "private use \ue000\ue001\uf8ff and noncharacters \ufdd0 \ufffe \uffff",
        "astral: 𝐀𝐁𝐂 𝑎𝑏𝑐 𝔄𝔅ℭ 𝕏𝕐ℤ 𝓐𝓑 𝟙 𐍈 𐌰𐌱 𓀀𓁐 𝄞𝄢 🜁 𖼀 𞤀𞤁 𐐀𐐨",
        "plane 2/3 ideographs 𠀀 𡀀 𢀀 𪀀 𫝀 𰀀 and plane 14 tags \U000e0001\U000e0041\U000e007f",
        "plane 15/16 private use \U000f0000 \U000ffffd \U00100000 \U0010fffd",
        "C0 controls \x01\x02\x07\x08\x1b[31mred\x1b[0m \x7f DEL, C1 \x80\x81\x9f",
        "letters that look odd: ß ẞ ǅ ǈ ǋ ǲ ﬁ ﬂ ﬀ ŉ İ ı ſ Σσς ᵃᵇᶜ ʰʲ ª º ℓ ℮ Å",
        "apostrophes: it’s it‘s it＇s itʼs it′s it`s it´s it's",
        "quotes: “double” ‘single’ „low“ «guillemets» ‹single› 「corner」 『white』 〝ds〞",
        "dashes and dots: - ‐ ‑ ‒ – — ― − ⸺ ⸻ … ‥ · • ‧ ∙ ⋅",
        "math: ∀x∈ℝ, ∃y: x²+y²≤1 ⇒ |x|≤1; ∑ᵢ aᵢ = ∫₀¹ f(t) dt ≠ ∞; A⊂B∪C, ¬(p∧q) ⟺ ¬p∨¬q",
        "box drawing ┌─┬─┐ │a│b│ ├─┼─┤ └─┴─┘ blocks ░▒▓█ ▁▂▃▄▅▆▇█ braille ⠁⠃⠉⠙⠑",
        "unassigned code points \u0378\u0379 \u0530 \U0001fffe and surrogate-adjacent \ud7ff\ue000",
        "Unicode 15/16 additions: \U0001fae8 \U0001fa77 \U00031350 \u2ffc \U0001cc00 \U00010d40",
        "mixed scripts in one word: pаypаl (Cyrillic а), Ηello (Greek Η), ﬁle, ｆｕｌｌ",
        "Cherokee ᏣᎳᎩ, Canadian syllabics ᓀᐦᐃᔭᐍᐏᐣ, Mongolian ᠮᠣᠩᠭᠣᠯ, Tifinagh ⵜⴰⵎⴰⵣⵉⵖⵜ",
        "Sinhala ශ්‍රී ලංකා, Khmer ភាសាខ្មែរ, Lao ພາສາລາວ, Myanmar မြန်မာ, Tibetan བོད་ཡིག",
        "Ethiopic ሰላም, Syriac ܫܠܡܐ, Thaana ދިވެހި, N'Ko ߒߞߏ, Yi ꆈꌠꁱꂷ, Vai ꕙꔤ",
        "".join(chr(c) for c in range(0xA0, 0x180)),
        "".join(chr(c) for c in range(0x370, 0x400) if c not in (0x378, 0x379, 0x380, 0x381,
                                                               0x382, 0x383, 0x38b, 0x38d,
                                                               0x3a2)),
        "".join(chr(c) for c in range(0x2000, 0x2070) if c != 0x2028 and c != 0x2029),
    ]
    return docs


# ---------------------------------------------------------------------------------------------
# Contractions: the pattern's 's 't 're 've 'm 'll 'd in every case and position.

def contraction_docs():
    suffixes = ["s", "t", "re", "ve", "m", "ll", "d"]
    variants = []
    for s in suffixes:
        variants.extend(sorted({s, s.upper(), s.capitalize(), s[:-1] + s[-1].upper()}))
    docs = [
        " ".join(f"it'{v}" for v in variants),
        " ".join(f"'{v}" for v in variants),
        "".join(f"'{v}" for v in variants),
        "\n".join(f"X'{v}Y" for v in variants),
        "I'm sure you're right, they've gone, she'll call, he'd know, it's late, don't wait.",
        "I'M SURE YOU'RE RIGHT, THEY'VE GONE, SHE'LL CALL, HE'D KNOW, IT'S LATE, DON'T WAIT.",
        "I'm I'M i'm I'Ve i'LL You'Re WE'Re they'rE 'RE 'Re 're 'rE",
        "'s at the start, ' s with a space, 's's's, '''s, \"'s\", ('s), ['ll], {'ve}",
        "rock 'n' roll, 'tis, 'twas, y'all'd've, ma'am, o'clock, fo'c's'le, ne'er-do-well",
        "James's book, the boss's office, the 90's, the '90s, 'em, 'cause, li'l, 'n'",
        "'s Avonds, 's-Hertogenbosch, l'homme, aujourd'hui, dell'arte, c'è, Ya'akov, O'Neill",
        "quote 'single words' and 'sentences like this one' and the lone ' apostrophe",
        "char c = 'a'; char nl = '\\n'; s = 'string'; x = '''triple'''; y = ''",
        "2's complement, 1'000'000, 5'11\", 12'34\"",
        "curly: it’s you’re they’ve I’ll she’d I’m — and modifier letter: itʼs youʼre",
        "sd'S't'M'd'D'LL'll'Ve've'RE're",
    ]
    return docs


# ---------------------------------------------------------------------------------------------
# Special tokens as they appear in SmolLM2's vocabulary, whole, partial and embedded.

SMOLLM2_SPECIALS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>", "<file_sep>",
    "<filename>", "<gh_stars>", "<issue_start>", "<issue_comment>", "<issue_closed>",
    "<jupyter_start>", "<jupyter_text>", "<jupyter_code>", "<jupyter_output>",
    "<jupyter_script>", "<empty_output>",
]


def special_docs():
    docs = [
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n"
        "2 + 2 = 4.<|im_end|>\n",
        "<|im_start|>user\nTranslate «bonjour» into German.<|im_end|>\n<|im_start|>assistant\n"
        "„Guten Tag“ or simply \"Hallo\".<|im_end|>\n<|im_start|>user\nAnd into Japanese?"
        "<|im_end|>\n<|im_start|>assistant\nこんにちは (konnichiwa).<|im_end|>",
        "".join(SMOLLM2_SPECIALS),
        " ".join(SMOLLM2_SPECIALS),
        "\n".join(SMOLLM2_SPECIALS),
        "<|im_end|><|im_end|><|im_end|><|im_start|><|im_start|><|endoftext|><|endoftext|>",
        "<|im_start|>" * 12 + "<|im_end|>" * 8,
        "partial: <|im_ <|im_start <|im_start| |im_start|> im_start|> <|im_end <|endoftext| "
        "<|endof <| |> <|| ||> <> < |im_start| > <|IM_START|> <|Im_Start|> <repo_name <file_",
        "<|im_",
        "<|im_start",
        "<|im_start|",
        "|im_end|>",
        "<|endoftext",
        "nested <|im_<|im_end|>start|> and <<|im_start|>> and <|<|endoftext|>|>",
        "glued: word<|endoftext|>word, 123<|im_end|>456, 😀<|im_start|>😀, é<file_sep>è",
        "spaces around: <|im_start|> system \n <|im_end|>  \n\n  <|im_start|>\tuser\t<|im_end|>",
        "<|endoftext|>",
        " <|endoftext|> ",
        "<|im_end|>\n",
        "\n<|im_start|>",
        "<filename>src/main.rs\n<gh_stars>100-1000\nfn main() {}\n<file_sep><filename>lib.rs\n",
        "<repo_name>octo/pocket<file_sep>README.md\n# pocket\n<file_sep>src/a.py\nprint(1)\n"
        "<|endoftext|>",
        "<issue_start>username_0: it crashes on start<issue_comment>username_1: can you share the "
        "log?<issue_comment>username_0: attached<issue_closed>",
        "<jupyter_start><jupyter_text>Load the data<jupyter_code>import pandas as pd\n"
        "df = pd.read_csv('x.csv')<jupyter_output><empty_output><jupyter_script>",
        "html-like tags that are not special: <repo> <file> <im_start> <endoftext> "
        "</|im_end|> <|im_end|/> <|im end|> <| im_end |>",
        "full-width look-alikes: ＜|im_start|＞ <｜im_start｜> «|im_end|» ‹|endoftext|›",
        "special text in code: tokenizer.decode([2]) == \"<|im_end|>\"; "
        "s.replace('<|endoftext|>', '')",
        "<|im_start|>assistant\n```python\nprint(\"<|im_end|>\")\n```<|im_end|>",
    ]
    return docs


# ---------------------------------------------------------------------------------------------
# Lossy: characters with a byte that SmolLM2's vocabulary has no token for (0x04 0x06 0x13 0x14
# 0x16 0x1D, and the lead bytes 0xF1 0xF2 of planes 4..11). The reference drops such bytes, so
# these documents do not come back from detokenize; the test checks the loss matches.

def lossy_docs():
    return [
        "control bytes without tokens: a\x04b \x06 \x13\x14 \x16 \x1d end",
        "\x1d",
        "\x04\x04\x04 three",
        "record\x1dgroup\x13\x14device controls",
        "planes 4..11: \U00040000 \U0004fffd \U00080000 \U000bfffd and plane 3 \U00030000",
        "word\U00050000word 1\U00090000 2 \U00060000\U00070000",
    ]


# ---------------------------------------------------------------------------------------------
# Mixed: random slices of every other document, with tricky atoms in between.

ATOMS = [
    " ", "  ", "\n", "\n\n", "\t", " \n ", "\r\n", "\u00a0", "\u200b", "\u200d", "\ufeff",
    "\u0301", "\ufffd", "'s", "'LL", "'re", "'Ve", "0", "42", "1234567890", "٣", "½",
    "😀", "👍🏽", "🇯🇵", "👨‍👩‍👧", "𝐀", "𠀀", "é", "ß", "ﬁ", "—", "…", "«", "»",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_", "|>", "<file_sep>",
]


def slice_codepoints(rng, text, max_len):
    if not text:
        return ""
    start = rng.below(len(text))
    length = 1 + rng.below(max_len)
    return text[start:start + length]


def mixed_docs(sources, rng, count):
    docs = []
    for _ in range(count):
        parts = []
        for _ in range(2 + rng.below(7)):
            if rng.below(3) == 0:
                parts.append(rng.pick(ATOMS))
            else:
                parts.append(slice_codepoints(rng, rng.pick(sources), 80))
        docs.append("".join(parts))
    return docs


GENERATED = ["whitespace.txt", "numbers.txt", "emoji.txt", "unicode.txt", "contractions.txt",
             "special_tokens.txt", "lossy.txt", "mixed.txt"]


def build():
    files = {
        "whitespace.txt": whitespace_docs(),
        "numbers.txt": numbers_docs(SplitMix64(0x6E756D62)),
        "emoji.txt": emoji_docs(),
        "unicode.txt": unicode_docs(),
        "contractions.txt": contraction_docs(),
        "special_tokens.txt": special_docs(),
        "lossy.txt": lossy_docs(),
    }
    sources = []
    for name in HANDWRITTEN:
        sources.extend(read_documents(CORPUS / name))
    for name in GENERATED[:-2]:  # neither lossy nor mixed: every mixed document round-trips
        sources.extend(files[name])
    files["mixed.txt"] = mixed_docs(sources, SplitMix64(0x6D697864), 120)
    return {name: render(docs) for name, docs in files.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed files instead of writing them")
    args = ap.parse_args()
    files = build()
    stale = []
    for name, text in files.items():
        path = CORPUS / name
        data = text.encode("utf-8")
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(name)
        else:
            path.write_bytes(data)
    if stale:
        print("stale corpus files (run scripts/gen_tokenizer_corpus.py): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    total = sum(p.stat().st_size for p in CORPUS.glob("*.txt"))
    docs = sum(len(read_documents(p)) for p in CORPUS.glob("*.txt"))
    print(f"{'checked' if args.check else 'wrote'} {len(files)} generated files; corpus: "
          f"{docs} documents, {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
