#!/usr/bin/env python3
"""Writes the seed corpus for fuzz/gguf_reader_fuzz.cpp: small valid GGUF files made with the
`gguf` package (an independent writer), each a few KB at most, covering every metadata value
type, string and nested arrays, several tensor types, custom alignment, GGUF v2, and the empty
file. The fuzzer mutates from these, so it starts out inside every branch of the parser.

    pip install gguf numpy
    python3 scripts/make_fuzz_corpus.py            # rewrites tests/data/fuzz/gguf/*.gguf
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT, GGUFValueType as VT

MAX_BYTES = 4096


def write(path: str, fill) -> None:
    w = gguf.GGUFWriter(path, arch="fuzz")
    fill(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def all_value_types(w) -> None:
    w.add_uint8("u8", 1)
    w.add_int8("i8", -2)
    w.add_uint16("u16", 3)
    w.add_int16("i16", -4)
    w.add_uint32("u32", 5)
    w.add_int32("i32", -6)
    w.add_uint64("u64", 7)
    w.add_int64("i64", -8)
    w.add_float32("f32", 0.5)
    w.add_float64("f64", -0.25)
    w.add_bool("bool", True)
    w.add_string("str", "text \u00e9")
    w.add_array("strings", ["a", "bc", "def"])
    w.add_array("ints", [1, 2, 3])
    w.add_array("floats", [0.5, 1.5])
    w.add_array("bools", [True, False])
    w.add_key_value("u64s", [1, 2], VT.ARRAY, sub_type=VT.UINT64)


def nested_arrays(w) -> None:
    w.add_array("nested", [[1, 2], ["x", "y"], [[True], [0.5, 1.0]]])


def tensors(w) -> None:
    w.add_uint32("general.quantization_version", 2)
    w.add_tensor("f32", np.arange(8, dtype=np.float32).reshape(2, 4))
    w.add_tensor("f16", np.linspace(-1, 1, 16, dtype=np.float16).reshape(4, 4))
    q8 = np.zeros((1, 34), dtype=np.uint8)
    q8[0, 0:2] = np.frombuffer(np.float16(0.1).tobytes(), dtype=np.uint8)
    q8[0, 2:] = np.arange(32, dtype=np.uint8)
    w.add_tensor("q8_0", q8, raw_dtype=QT.Q8_0)
    w.add_tensor("q4_k", np.full((1, 144), 0x11, dtype=np.uint8), raw_dtype=QT.Q4_K)
    w.add_tensor("i32", np.arange(3, dtype=np.int32))
    w.add_tensor("f32_4d", np.ones((1, 2, 1, 2), dtype=np.float32))


def aligned(w) -> None:
    w.add_custom_alignment(64)
    w.add_string("general.name", "aligned")
    w.add_tensor("a", np.ones(3, dtype=np.float32))
    w.add_tensor("b", np.ones(5, dtype=np.float16))


def vocab(w) -> None:
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", [f"tok{i}" for i in range(40)])
    w.add_array("tokenizer.ggml.scores", [float(-i) for i in range(40)])
    w.add_array("tokenizer.ggml.token_type", [1] * 40)
    w.add_tensor("token_embd.weight", np.zeros((40, 4), dtype=np.float16))


CASES = {
    "all_value_types.gguf": all_value_types,
    "nested_arrays.gguf": nested_arrays,
    "tensors.gguf": tensors,
    "aligned64.gguf": aligned,
    "vocab.gguf": vocab,
    "metadata_only.gguf": lambda w: w.add_string("general.name", "only metadata"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "fuzz", "gguf"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    made = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, fill in CASES.items():
            p = os.path.join(tmp, name)
            write(p, fill)
            made[name] = open(p, "rb").read()
    # GGUF v2 has the v3 layout; only the version field differs.
    v3 = made["tensors.gguf"]
    made["tensors_v2.gguf"] = v3[:4] + struct.pack("<I", 2) + v3[8:]
    # The smallest valid file: a header with no tensors and no metadata.
    made["empty.gguf"] = struct.pack("<IIQQ", 0x46554747, 3, 0, 0)

    for name, data in sorted(made.items()):
        if len(data) > MAX_BYTES:
            print(f"{name}: {len(data)} bytes, over the {MAX_BYTES}-byte budget", file=sys.stderr)
            return 1
        gguf.GGUFReader(_write(args.out, name, data))  # each seed must be valid
        print(f"{name}: {len(data)} bytes")
    return 0


def _write(out: str, name: str, data: bytes) -> str:
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


if __name__ == "__main__":
    sys.exit(main())
