#!/usr/bin/env python3
"""Regenerate pocketlm's quantization golden data (tests/data/quant/) from independent references.

The reference for every type that the `gguf` Python package implements is the package itself
(gguf.quants: numpy ports of the reference C quantizers; F16 is numpy's astype). The package has no
Q8_1 and no Q8_K code, so this script carries its own numpy references for those two types (both
directions), written from the semantics of llama.cpp's reference C (quantize_row_q8_1_ref,
quantize_row_q8_K_ref, dequantize_row_q8_K). They are marked "independent reference" below.

Output, all raw little-endian, no headers (element counts follow from the file sizes):
  <type>.input.f32    float32 quantizer inputs                  (types that have a quantizer)
  <type>.quant.bin    the reference's blocks for those inputs   (types that have a quantizer)
  <type>.blocks.bin   blocks to dequantize: <type>.quant.bin (if any) followed by random but valid
                      blocks (random bytes, scale fields replaced by finite values of sane size)
  <type>.dequant.f32  the reference's float32 dequantization of <type>.blocks.bin
Block layouts are ggml's (Q8_1 is 36 bytes: half d, half s; gguf's size table still says 40).

Usage:
  python3 scripts/gen_quant_golden.py            # rewrite tests/data/quant/
  python3 scripts/gen_quant_golden.py --check    # regenerate in memory, compare with the files

Deterministic: every type draws from its own generator seeded with (kSeed, crc32(type name)), so
adding a type leaves the other files unchanged.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import zlib

import numpy as np

from gguf import GGMLQuantizationType as QT
from gguf import quants

SEED = 20240611
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "data", "quant")

N_LEGACY_BLOCKS = 64  # 32-element types: 2048 quantized elements
N_K_BLOCKS = 16  # 256-element types: 4096 elements
N_RANDOM_BLOCKS_LEGACY = 32
N_RANDOM_BLOCKS_K = 16


def f32_from_bits(bits) -> np.ndarray:
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


# --------------------------------------------------------------------------------------------
# Independent references (llama.cpp semantics; the gguf package has none for these types)
# --------------------------------------------------------------------------------------------

def np_roundf(x: np.ndarray) -> np.ndarray:
    """Round half away from zero in float32, as C roundf (same formula as gguf.quants.np_roundf)."""
    a = np.abs(x)
    fl = np.floor(a)
    return np.sign(x) * (fl + np.floor(np.float32(2) * (a - fl)))


def quantize_q8_1(x: np.ndarray) -> np.ndarray:
    """Independent reference of quantize_row_q8_1_ref.

    amax = max|x|; d = amax / 127; id = d ? 1/d : 0; qs = roundf(x * id);
    stored: half(d), half((float)sum(qs) * d) -- the float d, not the rounded half -- and qs.
    """
    blocks = x.reshape(-1, 32).astype(np.float32)
    d = np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)
    with np.errstate(divide="ignore"):
        inv = np.where(d == 0, np.float32(0), np.float32(1) / d).astype(np.float32)
    qs = np_roundf(blocks * inv).astype(np.int8)
    s = qs.astype(np.int64).sum(axis=1, keepdims=True).astype(np.float32) * d
    return np.concatenate([d.astype(np.float16).view(np.uint8), s.astype(np.float16).view(np.uint8),
                           qs.view(np.uint8)], axis=1).reshape(-1)


def dequantize_q8_1(raw: np.ndarray) -> np.ndarray:
    """Independent reference: y = float(d) * qs (s is not needed to dequantize)."""
    b = raw.reshape(-1, 36)
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    return (d * b[:, 4:].copy().view(np.int8).astype(np.float32)).reshape(-1)


def nearest_int(v: np.ndarray) -> np.ndarray:
    """llama.cpp's nearest_int: round half to even through the float adder (v + 1.5 * 2^23)."""
    biased = (v.astype(np.float32) + np.float32(12582912.0)).view(np.int32)
    return (biased & np.int32(0x007FFFFF)) - np.int32(0x00400000)


def quantize_q8_K(x: np.ndarray) -> np.ndarray:
    """Independent reference of quantize_row_q8_K_ref.

    max = the signed value of the first element of largest |x|; iscale = -127 / max (so d < 0 when
    max > 0); qs = min(127, nearest_int(iscale * x)); bsums = sums of 16 qs; d = 1 / iscale (float).
    An all-zero block stores d = 0 and qs = 0; the C leaves its bsums unwritten, we define them 0.
    """
    out = []
    for blk in x.reshape(-1, 256).astype(np.float32):
        amax = np.float32(0)
        mx = np.float32(0)
        for v in blk:  # strict '>' keeps the first of equal magnitudes
            if np.abs(v) > amax:
                amax, mx = np.abs(v), v
        if amax == 0:
            out.append(np.zeros(292, dtype=np.uint8))
            continue
        iscale = np.float32(-127.0) / mx
        qs = np.minimum(127, nearest_int(iscale * blk)).astype(np.int8)
        bsums = qs.astype(np.int32).reshape(16, 16).sum(axis=1).astype(np.int16)
        d = np.array([np.float32(1.0) / iscale], dtype=np.float32)
        out.append(np.concatenate([d.view(np.uint8), qs.view(np.uint8), bsums.view(np.uint8)]))
    return np.concatenate(out)


def dequantize_q8_K(raw: np.ndarray) -> np.ndarray:
    """Independent reference of dequantize_row_q8_K: y = d * qs."""
    b = raw.reshape(-1, 292)
    d = b[:, 0:4].copy().view(np.float32)
    return (d * b[:, 4:260].copy().view(np.int8).astype(np.float32)).reshape(-1)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

def lattice_block(rng: np.random.Generator, name: str, n: int) -> np.ndarray:
    """Values on a half-integer grid with the block's scale exactly 1, so every rounding tie of the
    quantizer (trunc(x + 8.5), roundf, nearest_int's ties to even, the clip at the top code) is hit
    exactly rather than by chance."""
    lo, hi, fixed = {
        "q4_0": (-8, 7.5, [-8.0]),          # d = max / -8 = 1
        "q5_0": (-16, 15.5, [-16.0]),       # d = max / -16 = 1
        "q4_1": (0, 15, [0.0, 15.0]),       # d = (15 - 0) / 15 = 1
        "q5_1": (0, 31, [0.0, 31.0]),
        "q8_0": (-127, 127, [127.0]),       # d = 127 / 127 = 1
        "q8_1": (-127, 127, [127.0]),
        "q8_K": (-127, 127, [-127.0]),      # iscale = -127 / -127 = 1
    }[name]
    v = rng.integers(int(2 * lo), int(2 * hi) + 1, size=n).astype(np.float32) * np.float32(0.5)
    v[: len(fixed)] = fixed
    return v


def quant_input(rng: np.random.Generator, name: str, block: int, n_blocks: int) -> np.ndarray:
    """A mix of block kinds, cycling so every kind appears several times."""
    kinds = ["normal", "uniform", "zeros", "constant", "outlier", "negmax", "tie", "lattice",
             "tiny", "large", "positive", "sparse", "scale_overflow"]
    blocks = []
    for i in range(n_blocks):
        kind = kinds[i % len(kinds)]
        s = np.float32(10.0 ** rng.uniform(-3, 2))
        if kind == "normal":
            b = rng.normal(0, s, block)
        elif kind == "uniform":
            b = rng.uniform(-s, s, block)
        elif kind == "zeros":
            b = np.zeros(block)
        elif kind == "constant":
            b = np.full(block, s * rng.choice([-1.0, 1.0]))
        elif kind == "outlier":
            b = rng.normal(0, s, block)
            b[rng.integers(block)] = s * rng.uniform(20, 100) * rng.choice([-1.0, 1.0])
        elif kind == "negmax":  # the element of largest magnitude is negative
            b = rng.normal(0, s, block)
            j = np.argmax(np.abs(b))
            b[j] = -abs(b[j]) * 1.5
        elif kind == "tie":  # +m and -m both present: the first one decides the sign of d
            b = rng.uniform(-s, s, block)
            j, k = rng.choice(block, 2, replace=False)
            b[j], b[k] = 2 * s, -2 * s
        elif kind == "lattice":
            b = lattice_block(rng, name, block)
        elif kind == "tiny":  # half scales come out subnormal
            b = rng.normal(0, 1e-6, block)
        elif kind == "large":
            b = rng.normal(0, 1e3, block)
        elif kind == "positive":  # min > 0: Q4_1/Q5_1 store a positive m
            b = rng.uniform(s, 3 * s, block)
        elif kind == "sparse":
            b = np.zeros(block)
            idx = rng.choice(block, 3, replace=False)
            b[idx] = rng.normal(0, s, 3)
        else:  # scale_overflow: the half scale of the 32-element types becomes Inf
            b = rng.normal(0, 1e7, block)
        blocks.append(np.asarray(b, dtype=np.float32))
    return np.concatenate(blocks)


# Scale fields of each block type: (byte offset, kind); the rest of a random block is random bytes.
SCALE_FIELDS = {
    "q4_0": (18, [(0, "h")]),
    "q4_1": (20, [(0, "h"), (2, "h")]),
    "q5_0": (22, [(0, "h")]),
    "q5_1": (24, [(0, "h"), (2, "h")]),
    "q8_0": (34, [(0, "h")]),
    "q8_1": (36, [(0, "h"), (2, "h")]),
    "q2_K": (84, [(80, "h"), (82, "h")]),
    "q3_K": (110, [(108, "h")]),
    "q4_K": (144, [(0, "h"), (2, "h")]),
    "q5_K": (176, [(0, "h"), (2, "h")]),
    "q6_K": (210, [(208, "h")]),
    "q8_K": (292, [(0, "f")]),
}


def random_blocks(rng: np.random.Generator, name: str, n_blocks: int) -> np.ndarray:
    size, fields = SCALE_FIELDS[name]
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for i in range(n_blocks):
        for off, kind in fields:
            # Magnitudes 1e-6..10 (subnormal halves included), either sign; block 0 has zero scales.
            v = 0.0 if i == 0 else float(rng.choice([-1.0, 1.0]) * 10.0 ** rng.uniform(-6, 1))
            if kind == "h":
                raw[i, off:off + 2] = np.array([v], dtype=np.float16).view(np.uint8)
            else:
                raw[i, off:off + 4] = np.array([v], dtype=np.float32).view(np.uint8)
        if name == "q8_K":  # keep bsums consistent with qs, as a real Q8_K block has them
            qs = raw[i, 4:260].view(np.int8).astype(np.int32)
            raw[i, 260:292] = qs.reshape(16, 16).sum(axis=1).astype(np.int16).view(np.uint8)
    return raw.reshape(-1)


def special_f32_bits() -> list[int]:
    return [
        0x00000000, 0x80000000, 0x3F800000, 0xBF800000,  # +-0, +-1
        0x7F800000, 0xFF800000,  # +-Inf
        0x7FC00000, 0xFFC00000, 0x7FC02000, 0x7FFFFFFF, 0xFFFFE000,  # quiet NaNs, with payloads
        0x7F800001, 0x7FA00000, 0x7F802000, 0xFF800001,  # signalling NaNs
        0x7F7FFFFF, 0xFF7FFFFF, 0x00800000, 0x00000001, 0x807FFFFF,  # max, min normal, subnormals
    ]


def special_f16_inputs() -> np.ndarray:
    vals = [
        65504.0, -65504.0, 65519.99, 65520.0, -65520.0, 65536.0, 1e6, -1e6,  # max, overflow to Inf
        2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -25, 5 * 2.0 ** -25, 2.0 ** -26,  # subnormal ties
        np.nextafter(np.float32(2.0 ** -25), np.float32(1)), 2.0 ** -14, 6.0975552e-05,
        np.nextafter(np.float32(2.0 ** -14), np.float32(0)), 1e-40, -1e-40,
        1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 2049.0, 2051.0, -2049.0, 0.1, -0.1, 1.0 / 3,
    ]
    return np.concatenate([f32_from_bits(special_f32_bits()), np.array(vals, dtype=np.float32)])


def f16_inputs(rng: np.random.Generator) -> np.ndarray:
    # Exact ties between neighbouring finite halves (normal and subnormal), and one float ulp either
    # side of them; then floats spread over the exponents around the half range.
    h = rng.integers(0, 0x7BFF, size=400).astype(np.uint16)
    lo = h.view(np.float16).astype(np.float32)
    hi = (h + 1).view(np.float16).astype(np.float32)
    mid = ((lo.astype(np.float64) + hi.astype(np.float64)) / 2).astype(np.float32)  # exact
    ties = np.concatenate([mid, np.nextafter(mid, lo), np.nextafter(mid, hi)])
    ties *= rng.choice(np.array([-1, 1], dtype=np.float32), size=ties.size)
    spread = (rng.integers(0, 2**23, size=1000) | (rng.integers(95, 146, size=1000) << 23)
              | (rng.integers(0, 2, size=1000) << 31)).astype(np.uint32).view(np.float32)
    return np.concatenate([special_f16_inputs(), ties, spread]).astype(np.float32)


def bf16_inputs(rng: np.random.Generator) -> np.ndarray:
    # Ties (low half exactly 0x8000) over random high halves, one ulp either side, random floats.
    hi = rng.integers(0, 0x7F80, size=300).astype(np.uint32)
    hi |= rng.integers(0, 2, size=300).astype(np.uint32) << 15
    ties = (hi << 16) | 0x8000
    near = np.concatenate([ties, ties - 1, ties + 1])
    rand = rng.integers(0, 2**32, size=1000, dtype=np.uint64).astype(np.uint32)
    extra = [0x7F7F8000, 0x7F7FFFFF, 0x3F808000, 0x3F818000, 0x00008000, 0x00018000]
    bits = np.concatenate([np.array(special_f32_bits(), dtype=np.uint32),
                           np.array(extra, dtype=np.uint32), near.astype(np.uint32), rand])
    return bits.view(np.float32)


def random_u16(rng: np.random.Generator, specials: list[int]) -> np.ndarray:
    return np.concatenate([np.array(specials, dtype=np.uint16),
                           rng.integers(0, 2**16, size=2048).astype(np.uint16)])


# --------------------------------------------------------------------------------------------

LEGACY = {"q4_0": QT.Q4_0, "q4_1": QT.Q4_1, "q5_0": QT.Q5_0, "q5_1": QT.Q5_1, "q8_0": QT.Q8_0}
K_DEQUANT_ONLY = {"q2_K": QT.Q2_K, "q3_K": QT.Q3_K, "q4_K": QT.Q4_K, "q5_K": QT.Q5_K,
                  "q6_K": QT.Q6_K}


def gguf_quantize(x: np.ndarray, qt: QT) -> np.ndarray:
    return np.asarray(quants.quantize(x.reshape(1, -1), qt)).view(np.uint8).reshape(-1)


def gguf_dequantize(raw: np.ndarray, qt: QT) -> np.ndarray:
    return np.asarray(quants.dequantize(raw.reshape(1, -1), qt), dtype=np.float32).reshape(-1)


def generate() -> dict[str, bytes]:
    files: dict[str, bytes] = {}

    def put(name: str, x: np.ndarray | None, q: np.ndarray | None, blocks: np.ndarray,
            deq: np.ndarray) -> None:
        if x is not None:
            files[f"{name}.input.f32"] = x.astype("<f4").tobytes()
            files[f"{name}.quant.bin"] = q.astype(np.uint8).tobytes()
        files[f"{name}.blocks.bin"] = blocks.astype(np.uint8).tobytes()
        files[f"{name}.dequant.f32"] = deq.astype("<f4").tobytes()

    def rng_for(name: str) -> np.random.Generator:
        return np.random.default_rng([SEED, zlib.crc32(name.encode())])

    # F32: the identity both ways, with the special values included.
    rng = rng_for("f32")
    x = np.concatenate([f32_from_bits(special_f32_bits()),
                        rng.normal(0, 10, 236).astype(np.float32)])
    q = gguf_quantize(x, QT.F32)
    put("f32", x, q, q, gguf_dequantize(q, QT.F32))

    # F16: numpy's astype(float16) and back.
    rng = rng_for("f16")
    x = f16_inputs(rng)
    q = gguf_quantize(x, QT.F16)
    special_halves = [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7C01,
                      0x7E00, 0xFE00, 0x7FFF, 0x7D00]
    blocks = np.concatenate([q, random_u16(rng, special_halves).view(np.uint8)])
    put("f16", x, q, blocks, gguf_dequantize(blocks, QT.F16))

    # BF16: gguf's rounding quantizer and bit-shift dequantizer.
    rng = rng_for("bf16")
    x = bf16_inputs(rng)
    q = gguf_quantize(x, QT.BF16)
    blocks = np.concatenate([q, random_u16(rng, [0x0000, 0x8000, 0x0001, 0x7F7F, 0x7F80, 0xFF80,
                                                 0x7FC0, 0x7F81, 0xFFFF]).view(np.uint8)])
    put("bf16", x, q, blocks, gguf_dequantize(blocks, QT.BF16))

    for name, qt in LEGACY.items():
        rng = rng_for(name)
        x = quant_input(rng, name, 32, N_LEGACY_BLOCKS)
        q = gguf_quantize(x, qt)
        blocks = np.concatenate([q, random_blocks(rng, name, N_RANDOM_BLOCKS_LEGACY)])
        put(name, x, q, blocks, gguf_dequantize(blocks, qt))

    rng = rng_for("q8_1")
    x = quant_input(rng, "q8_1", 32, N_LEGACY_BLOCKS)
    q = quantize_q8_1(x)
    blocks = np.concatenate([q, random_blocks(rng, "q8_1", N_RANDOM_BLOCKS_LEGACY)])
    put("q8_1", x, q, blocks, dequantize_q8_1(blocks))

    rng = rng_for("q8_K")
    x = quant_input(rng, "q8_K", 256, N_K_BLOCKS)
    q = quantize_q8_K(x)
    blocks = np.concatenate([q, random_blocks(rng, "q8_K", N_RANDOM_BLOCKS_K)])
    put("q8_K", x, q, blocks, dequantize_q8_K(blocks))

    for name, qt in K_DEQUANT_ONLY.items():
        rng = rng_for(name)
        blocks = random_blocks(rng, name, N_RANDOM_BLOCKS_K)
        put(name, None, None, blocks, gguf_dequantize(blocks, qt))

    return files


def check_numpy_half_semantics() -> None:
    # numpy's portable float->half keeps NaN payloads as they are; a build that converts with F16C
    # instead quiets signalling NaNs, which would silently change f16.quant.bin.
    got = f32_from_bits([0x7F800001, 0x7FA00000]).astype(np.float16).view(np.uint16).tolist()
    if got != [0x7C01, 0x7D00]:
        sys.exit(f"this numpy converts signalling NaNs to half as {[hex(v) for v in got]}, not "
                 "0x7c01/0x7d00: regenerate with a numpy build that uses its portable conversion")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=OUT_DIR, help="output folder (default: tests/data/quant)")
    ap.add_argument("--check", action="store_true",
                    help="compare with the files instead of writing them")
    args = ap.parse_args()

    check_numpy_half_semantics()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # Inf scales are intended
        files = generate()
    if args.check:
        bad = []
        for name, data in sorted(files.items()):
            path = os.path.join(args.out, name)
            if not os.path.exists(path) or open(path, "rb").read() != data:
                bad.append(name)
        if bad:
            print("differs from the committed golden data: " + ", ".join(bad))
            return 1
        print(f"{len(files)} golden files match")
        return 0

    os.makedirs(args.out, exist_ok=True)
    total = 0
    for name, data in sorted(files.items()):
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"wrote {len(files)} files, {total} bytes, to {args.out} "
          f"(gguf {importlib.metadata.version('gguf')}, numpy {np.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
