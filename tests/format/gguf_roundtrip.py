#!/usr/bin/env python3
"""GGUF round trips between pocketlm and the `gguf` Python package (ctest label: unit).

(a) gguf.GGUFWriter writes a file with every value type, string and nested arrays, several
    tensor types and a custom alignment; `pocketlm inspect --json` must report every key, value
    and tensor as gguf.GGUFReader does, and `pocketlm dump` must equal gguf.quants.dequantize
    bit for bit (F32, F16, BF16, Q8_0, Q4_K, Q6_K; I32 must be refused with exit status 2).
(b) pocketlm's GgufWriter (tests/format/gguf_write_sample.cpp) writes a file, with the default
    and with a custom alignment; gguf.GGUFReader must read back exactly the recipe's values and
    tensor bytes.
(c) The CLI's error contract: bad arguments and malformed files give exit status 2 and exactly
    one line on stderr.

Exits 77 (skipped) when numpy or the gguf module is missing.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import struct
import sys

try:
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as QT, GGUFValueType as VT
    import gguf_compare as gc
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIP: the gguf round-trip test needs numpy and the gguf package ({e}); "
          f"pip install gguf numpy", file=sys.stderr)
    sys.exit(77)


def pattern(n: int, mul: int, add: int) -> np.ndarray:
    return ((np.arange(n, dtype=np.uint64) * mul + add) & 0xFF).astype(np.uint8)


def f16_bytes(x: float) -> np.ndarray:
    return np.frombuffer(np.float16(x).tobytes(), dtype=np.uint8)


def quant_blocks(qtype: QT, n_blocks: int, seed: int) -> np.ndarray:
    """Raw blocks with patterned quants but finite, modest scales (random scale bits could be
    NaN, and NaN payloads are not something two implementations agree on)."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    b = pattern(n_blocks * type_size, 37 + seed, 11 * seed).reshape(n_blocks, type_size)
    if qtype == QT.Q8_0:
        b[:, 0:2] = f16_bytes(0.05)
    elif qtype == QT.Q4_K:
        b[:, 0:2] = f16_bytes(0.01)
        b[:, 2:4] = f16_bytes(0.005)
    elif qtype == QT.Q6_K:
        b[:, 208:210] = f16_bytes(0.02)
    return b


# --- (a) gguf writes, pocketlm reads -----------------------------------------------------------

def write_python_file(path: str) -> None:
    w = gguf.GGUFWriter(path, arch="pocketlm-py")
    w.add_custom_alignment(64)
    w.add_uint8("py.u8", 250)
    w.add_int8("py.i8", -7)
    w.add_uint16("py.u16", 65535)
    w.add_int16("py.i16", -32768)
    w.add_uint32("py.u32", 4294967295)
    w.add_int32("py.i32", -2147483648)
    w.add_uint64("py.u64", 2**64 - 1)
    w.add_int64("py.i64", -(2**63))
    w.add_float32("py.f32", -1.25e-3)
    w.add_float64("py.f64", 1.0 / 3.0)
    w.add_bool("py.bool", True)
    w.add_string("py.string",
                 "quote \" backslash \\ tab \t newline \n unicode \u00e9\u4e2d\U0001F600")
    w.add_array("py.strings", ["alpha", "b", "\u00fcber", "line\nbreak", " "])
    w.add_key_value("py.arr_u64", [0, 2**64 - 1, 12345], VT.ARRAY, sub_type=VT.UINT64)
    w.add_key_value("py.arr_i16", [-1, 2, -3], VT.ARRAY, sub_type=VT.INT16)
    w.add_key_value("py.arr_f64", [0.1, -2.5, 1e-310], VT.ARRAY, sub_type=VT.FLOAT64)
    w.add_array("py.arr_f32", [0.5, -0.0, float("inf"), float("nan")])
    w.add_array("py.arr_bool", [True, False])
    w.add_array("py.arr_i32", list(range(-5, 100)))
    w.add_array("py.nested", [[1, 2, 3], [4.5], ["s", "t"], [[True], [False, True]]])

    rng = np.random.default_rng(1234)
    w.add_tensor("w.f32", rng.standard_normal((3, 8)).astype(np.float32))
    w.add_tensor("w.f16", rng.standard_normal((2, 2, 16)).astype(np.float16))
    w.add_tensor("w.f32_4d", np.arange(48, dtype=np.float32).reshape(2, 4, 3, 2))
    w.add_tensor("w.q8_0", quant_blocks(QT.Q8_0, 4, 1).reshape(2, -1), raw_dtype=QT.Q8_0)
    w.add_tensor("w.q4_k", quant_blocks(QT.Q4_K, 2, 2).reshape(2, -1), raw_dtype=QT.Q4_K)
    w.add_tensor("w.q6_k", quant_blocks(QT.Q6_K, 1, 3).reshape(1, -1), raw_dtype=QT.Q6_K)
    bf16 = np.array([0x3F80, 0xC000, 0x0000, 0x8000, 0x7F7F, 0x0001], dtype=np.uint16)
    w.add_tensor("w.bf16", bf16.view(np.uint8).reshape(1, -1), raw_dtype=QT.BF16)
    w.add_tensor("w.i32", np.arange(-3, 5, dtype=np.int32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def check_python_written(fails: gc.Failures, pocketlm: str, workdir: str) -> None:
    path = os.path.join(workdir, "python_written.gguf")
    write_python_file(path)
    r, doc = gc.compare_file(fails, pocketlm, path)
    fails.check(doc["alignment"] == 64, f"custom alignment read as {doc['alignment']}")
    fails.check(len(doc["tensors"]) == 8, f"{len(doc['tensors'])} tensors listed")

    for t in r.tensors:
        out = os.path.join(workdir, "dump.f32")
        p = gc.run([pocketlm, "dump", path, t.name, "-o", out])
        if t.tensor_type == QT.I32:
            lines = p.stderr.decode().splitlines()
            fails.check(p.returncode == 2, f"dump of an i32 tensor exited {p.returncode}")
            fails.check(len(lines) == 1 and "cannot dequantize" in lines[0],
                        f"dump of an i32 tensor said {lines!r}")
            continue
        if not fails.check(p.returncode == 0,
                           f"dump {t.name} exited {p.returncode}: {p.stderr.decode()}"):
            continue
        ours = np.fromfile(out, dtype="<f4")
        ref = (t.data.view(np.uint16).astype(np.uint32) << 16).view(np.float32) \
            if t.tensor_type == QT.BF16 else gguf.quants.dequantize(t.data, t.tensor_type)
        if not gc.float_bits_equal(ours, ref):
            fails.check(False, f"dump {t.name} ({t.tensor_type.name}): "
                               f"{gc.first_difference(ours, ref)}")
        else:
            fails.check(True, "")

    # Dump to stdout gives the same bytes as to a file.
    p = gc.run([pocketlm, "dump", path, "w.f32", "-o", "-"])
    ref = r.tensors[0].data.astype("<f4").tobytes()
    fails.check(p.returncode == 0 and p.stdout == ref, "dump -o - differs from the tensor")

    # --all writes one file per tensor; with an i32 tensor present it refuses up front.
    alldir = os.path.join(workdir, "all")
    p = gc.run([pocketlm, "dump", path, "--all", "-o", alldir])
    fails.check(p.returncode == 2 and not os.path.exists(alldir),
                f"dump --all with an i32 tensor exited {p.returncode}")


# --- (b) pocketlm writes, gguf reads -----------------------------------------------------------

def f32v(x: float) -> tuple:
    return gc.canon_float("float32", x)


def sample_expected(alignment: int | None) -> list[tuple[str, tuple]]:
    """The metadata gguf_write_sample.cpp writes, in order, canonical form."""
    def arr(t, xs):
        return ("array", t, [gc.canon_scalar(t, x) if t not in ("float32", "float64")
                             else gc.canon_float(t, x) for x in xs])
    md = [("general.architecture", ("string", "pocketlm-test"))]
    if alignment is not None:
        md.append(("general.alignment", ("uint32", alignment)))
    md += [
        ("test.u8", ("uint8", 200)),
        ("test.i8", ("int8", -100)),
        ("test.u16", ("uint16", 60000)),
        ("test.i16", ("int16", -30000)),
        ("test.u32", ("uint32", 4000000000)),
        ("test.i32", ("int32", -2000000000)),
        ("test.u64", ("uint64", 2**64 - 1)),
        ("test.i64", ("int64", -(2**63))),
        ("test.f32", f32v(3.14159265)),
        ("test.f64", gc.canon_float("float64", 2.718281828459045)),
        ("test.bool_true", ("bool", True)),
        ("test.bool_false", ("bool", False)),
        ("test.string", ("string", "h\u00e9llo \"quoted\"\n\ttab \u2713")),
        ("test.empty_string", ("string", "")),
        ("test.f32_special", arr("float32", [
            0.0, -0.0, math.inf, -math.inf, math.nan, float(np.float32(1e-45)),
            float(np.float32(3.4028235e38)), float(np.float32(0.1))])),
        ("test.arr_u8", arr("uint8", [0, 1, 255])),
        ("test.arr_i8", arr("int8", [-128, 0, 127])),
        ("test.arr_u16", arr("uint16", [0, 65535])),
        ("test.arr_i16", arr("int16", [-32768, 32767])),
        ("test.arr_u32", arr("uint32", [0, 4294967295])),
        ("test.arr_i32", arr("int32", [-(2**31), -1, 2**31 - 1])),
        ("test.arr_u64", arr("uint64", [0, 2**64 - 1])),
        ("test.arr_i64", arr("int64", [-(2**63), 7, 2**63 - 1])),
        ("test.arr_f64", arr("float64", [-1.5, 1e300, 5e-324])),
        ("test.arr_bool", arr("bool", [True, False, True])),
        ("test.arr_string",
         arr("string", ["a", "", "\u00fcn\u00efc\u00f6d\u00e9", "with\nnewline"])),
        ("test.arr_empty_i32", arr("int32", [])),
        ("test.nested", ("array", "array", [
            arr("int32", [1, 2, 3]),
            arr("string", ["x", "y"]),
            ("array", "array", [arr("float32", [1.5]), arr("uint8", [])]),
        ])),
        ("test.long_array", arr("uint32", [i * 3 for i in range(1000)])),
    ]
    return md


def sample_tensors() -> list[tuple[str, QT, list[int], bytes]]:
    f16 = ((np.arange(64, dtype=np.float32) - 32.0) / 8.0).astype(np.float16)
    return [
        ("t.f32", QT.F32, [8, 3], (np.arange(24, dtype=np.float32) * 0.25 - 3.0).tobytes()),
        ("t.f16", QT.F16, [16, 2, 2], f16.tobytes()),
        ("t.q8_0", QT.Q8_0, [64, 2], pattern(4 * 34, 31, 7).tobytes()),
        ("t.empty", QT.F32, [0, 4], b""),
        ("t.q4_k", QT.Q4_K, [256, 1], pattern(144, 13, 5).tobytes()),
        ("t.bf16", QT.BF16, [4], np.array([0x3F80, 0xC000, 0x0000, 0x7F80], np.uint16).tobytes()),
        ("t.i32", QT.I32, [5], np.arange(-2, 3, dtype=np.int32).tobytes()),
        ("t.f32_4d", QT.F32, [2, 3, 4, 2], np.arange(48, dtype=np.float32).tobytes()),
    ]


def check_pocketlm_written(fails: gc.Failures, pocketlm: str, write_sample: str, workdir: str,
                           alignment: int | None) -> None:
    path = os.path.join(workdir, f"pocketlm_written_{alignment or 'default'}.gguf")
    cmd = [write_sample, path] + (["--alignment", str(alignment)] if alignment else [])
    p = gc.run(cmd)
    if not fails.check(p.returncode == 0, f"{cmd} failed: {p.stderr.decode()}"):
        return
    leftovers = [f for f in os.listdir(workdir) if ".tmp-" in f]
    fails.check(not leftovers, f"writer left temporary files: {leftovers}")
    r = gguf.GGUFReader(path)
    want_align = alignment or 32
    fails.check(int(r.alignment) == want_align, f"{path}: alignment {r.alignment}")
    fails.check(r.data_offset % want_align == 0, f"{path}: data offset {r.data_offset}")
    got = gc.reader_metadata(r)
    want = sample_expected(alignment)
    fails.check([k for k, _ in got] == [k for k, _ in want],
                f"{path}: keys {[k for k, _ in got]}")
    for (k, v), (_, w) in zip(got, want):
        fails.check(v == w, f"{path}: key {k}: gguf read {gc.short(v)}, expected {gc.short(w)}")
    tensors = sample_tensors()
    fails.check(len(r.tensors) == len(tensors), f"{path}: {len(r.tensors)} tensors")
    for t, (name, qtype, shape, data) in zip(r.tensors, tensors):
        fails.check(t.name == name, f"{path}: tensor {t.name} != {name}")
        fails.check(t.tensor_type == qtype, f"{path}: {name}: type {t.tensor_type.name}")
        fails.check([int(x) for x in t.shape] == shape, f"{path}: {name}: shape {t.shape}")
        fails.check(t.data_offset % want_align == 0, f"{path}: {name}: offset {t.data_offset}")
        fails.check(t.data.tobytes() == data, f"{path}: {name}: data differs")
    # The file ends padded, as gguf's own writer pads it.
    fails.check(os.path.getsize(path) % want_align == 0, f"{path}: size {os.path.getsize(path)}")
    # And pocketlm agrees with gguf on its own file.
    gc.compare_file(fails, pocketlm, path)


# --- (c) the CLI's error contract ---------------------------------------------------------------

def check_cli_errors(fails: gc.Failures, pocketlm: str, workdir: str) -> None:
    good = os.path.join(workdir, "python_written.gguf")
    data = open(good, "rb").read()
    truncated = os.path.join(workdir, "truncated.gguf")
    with open(truncated, "wb") as f:
        f.write(data[: len(data) - 100])
    bad_version = os.path.join(workdir, "v1.gguf")
    with open(bad_version, "wb") as f:
        f.write(data[:4] + struct.pack("<I", 1) + data[8:])
    big_endian = os.path.join(workdir, "big_endian.gguf")
    with open(big_endian, "wb") as f:
        f.write(data[:4] + struct.pack(">I", 3) + data[8:])
    out = os.path.join(workdir, "x.f32")
    cases = [
        ([], "missing a command"),
        (["frobnicate"], "unknown command"),
        (["--frobnicate"], "unknown option"),
        (["inspect"], "missing"),
        (["inspect", good, "--bogus"], "unknown option"),
        (["inspect", good, "extra"], "unexpected argument"),
        (["inspect", os.path.join(workdir, "absent.gguf")], "cannot open"),
        (["inspect", truncated], "runs past end of file"),
        (["inspect", "--json", truncated], "runs past end of file"),
        (["inspect", bad_version], "version 1"),
        (["inspect", big_endian], "big-endian"),
        (["dump", good, "w.f32"], "missing -o"),
        (["dump", good, "no.such.tensor", "-o", out], "no tensor 'no.such.tensor'"),
        (["dump", good, "w.f32", "-o"], "needs a value"),
        (["dump", truncated, "w.f32", "-o", out], "runs past end of file"),
    ]
    for args, needle in cases:
        p = gc.run([pocketlm] + args)
        lines = p.stderr.decode(errors="replace").splitlines()
        fails.check(p.returncode == 2, f"pocketlm {args}: exit {p.returncode}, expected 2")
        fails.check(len(lines) == 1 and needle in lines[0],
                    f"pocketlm {args}: stderr {lines!r}, expected one line with {needle!r}")
        fails.check(p.stdout == b"", f"pocketlm {args}: printed {p.stdout[:80]!r} on stdout")
    for args in (["--help"], ["inspect", "--help"], ["dump", "-h"]):
        p = gc.run([pocketlm] + args)
        fails.check(p.returncode == 0 and b"usage" in p.stdout, f"pocketlm {args}: no help")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pocketlm", required=True)
    ap.add_argument("--write-sample", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)

    fails = gc.Failures()
    check_python_written(fails, args.pocketlm, args.workdir)
    check_pocketlm_written(fails, args.pocketlm, args.write_sample, args.workdir, None)
    check_pocketlm_written(fails, args.pocketlm, args.write_sample, args.workdir, 64)
    check_cli_errors(fails, args.pocketlm, args.workdir)
    return fails.finish("gguf_roundtrip")


if __name__ == "__main__":
    sys.exit(main())
