"""Shared helpers for the GGUF format tests: run pocketlm, and compare what `pocketlm inspect
--json` reports with what the `gguf` package's GGUFReader reads from the same file.

Values are compared in a canonical form, (type name, payload), where payload is:
  integers/bools/strings: the Python value;
  floats: the IEEE bit pattern (so -0.0 and 0.0 differ and a round trip must keep every bit),
          or "nan" for any NaN (JSON carries NaN as the string "NaN", without payload);
  arrays: ("array", element type name, [canonical items]).
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from typing import Any

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType

SKIP = 77  # ctest SKIP_RETURN_CODE

# Synthetic fields GGUFReader adds for the header; they are not metadata keys.
READER_HEADER_FIELDS = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count"}


class Failures:
    """Collects mismatches so one run reports all of them, then exits non-zero if any."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.checks = 0

    def check(self, cond: bool, msg: str) -> bool:
        self.checks += 1
        if not cond:
            self.items.append(msg)
            print("FAIL:", msg, file=sys.stderr)
        return cond

    def finish(self, what: str) -> int:
        if self.items:
            print(f"{what}: {len(self.items)} of {self.checks} checks failed", file=sys.stderr)
            return 1
        print(f"{what}: all {self.checks} checks passed")
        return 0


def type_name(t: int) -> str:
    return GGUFValueType(t).name.lower()


def canon_float(tname: str, x: float) -> tuple[str, Any]:
    if math.isnan(x):
        return (tname, "nan")
    if tname == "float32":
        return (tname, struct.unpack("<I", struct.pack("<f", x))[0])
    return (tname, struct.unpack("<Q", struct.pack("<d", x))[0])


def canon_scalar(tname: str, v: Any) -> tuple[str, Any]:
    if tname in ("float32", "float64"):
        return canon_float(tname, float(v))
    if tname == "bool":
        return (tname, bool(v))
    if tname == "string":
        return (tname, v)
    return (tname, int(v))


# --- GGUFReader side -------------------------------------------------------------------------

_FLOAT_BITS = {"float32": (np.float32, np.uint32), "float64": (np.float64, np.uint64)}


def _canon_many(tname: str, values: np.ndarray) -> list:
    """canon_scalar over a whole numpy array at once (vocabularies have 262144 entries)."""
    if tname in _FLOAT_BITS:
        ftype, utype = _FLOAT_BITS[tname]
        values = np.ascontiguousarray(values, dtype=ftype)
        nan = np.isnan(values).tolist()
        bits = values.view(utype).tolist()
        return [(tname, "nan" if n else b) for n, b in zip(nan, bits)]
    if tname == "bool":
        return [(tname, bool(v)) for v in values.tolist()]
    return [(tname, int(v)) for v in values.tolist()]


def _decode_parts(parts: list, i: int, vtype: int) -> tuple[Any, int]:
    """Walks GGUFReader's flat `parts` list (which keeps every length and type field) to rebuild
    a value, nested arrays included (GGUFReader.contents() flattens those)."""
    t = GGUFValueType(vtype)
    if t == GGUFValueType.STRING:
        return ("string", bytes(parts[i + 1]).decode("utf-8")), i + 2
    if t == GGUFValueType.ARRAY:
        itype = int(parts[i][0])
        n = int(parts[i + 1][0])
        i += 2
        et = GGUFValueType(itype)
        if et == GGUFValueType.STRING:
            items = [("string", bytes(p).decode("utf-8")) for p in parts[i + 1:i + 2 * n:2]]
            return ("array", "string", items), i + 2 * n
        if et != GGUFValueType.ARRAY:
            # One part per scalar element.
            values = np.concatenate(parts[i:i + n]) if n else np.zeros(0)
            return ("array", type_name(itype), _canon_many(type_name(itype), values)), i + n
        items = []
        for _ in range(n):
            item, i = _decode_parts(parts, i, itype)
            items.append(item)
        return ("array", "array", items), i
    return canon_scalar(type_name(vtype), parts[i][0].item()), i + 1


def reader_value(field) -> Any:
    # parts: key length, key bytes, value type, then the value's own parts.
    value, end = _decode_parts(field.parts, 3, int(field.parts[2][0]))
    assert end == len(field.parts), f"{field.name}: {len(field.parts) - end} parts left over"
    return value


def reader_metadata(r: GGUFReader) -> list[tuple[str, Any]]:
    return [(k, reader_value(f)) for k, f in r.fields.items() if k not in READER_HEADER_FIELDS]


def reader_tensors(r: GGUFReader) -> list[dict]:
    out = []
    for t in r.tensors:
        out.append({
            "name": t.name,
            "type": GGMLQuantizationType(t.tensor_type).name.lower(),
            "shape": [int(x) for x in t.shape],
            "offset": int(t.field.parts[5][0]),
            "file_offset": int(t.data_offset),
            "bytes": int(t.n_bytes),
        })
    return out


# --- pocketlm side ---------------------------------------------------------------------------

_JSON_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _canon_json(tname: str, v: Any, elem: str | None = None) -> Any:
    if tname == "array":
        if elem == "array":
            return ("array", "array", [_canon_json("array", it["value"], it["element_type"])
                                       for it in v])
        return ("array", elem, [_canon_json(elem, it) for it in v])
    if tname in ("float32", "float64"):
        return canon_float(tname, _JSON_SPECIAL[v] if isinstance(v, str) else float(v))
    return canon_scalar(tname, v)


def json_metadata(doc: dict) -> list[tuple[str, Any]]:
    return [(m["key"], _canon_json(m["type"], m["value"], m.get("element_type")))
            for m in doc["metadata"]]


def json_tensors(doc: dict) -> list[dict]:
    return [{
        "name": t["name"],
        "type": t["type"].lower(),
        "shape": t["shape"],
        "offset": t["offset"],
        "file_offset": t["file_offset"],
        "bytes": t["bytes"],
    } for t in doc["tensors"]]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, **kw)


def inspect_json(pocketlm: str, path: str) -> dict:
    p = run([pocketlm, "inspect", "--json", path])
    if p.returncode != 0:
        raise RuntimeError(f"pocketlm inspect --json {path} failed ({p.returncode}): "
                           f"{p.stderr.decode(errors='replace')}")
    return json.loads(p.stdout)


def short(v: Any, n: int = 160) -> str:
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


def compare_file(fails: Failures, pocketlm: str, path: str) -> tuple[GGUFReader, dict]:
    """Checks that `pocketlm inspect --json` and GGUFReader agree on every key, value and
    tensor (name, type, shape, offsets, size) of `path`."""
    r = GGUFReader(path)
    doc = inspect_json(pocketlm, path)
    fails.check(doc["alignment"] == int(r.alignment),
                f"{path}: alignment {doc['alignment']} != {r.alignment}")
    fails.check(doc["data_offset"] == int(r.data_offset),
                f"{path}: data offset {doc['data_offset']} != {r.data_offset}")
    ours = json_metadata(doc)
    theirs = reader_metadata(r)
    fails.check([k for k, _ in ours] == [k for k, _ in theirs],
                f"{path}: metadata keys differ: {short([k for k, _ in ours])} vs "
                f"{short([k for k, _ in theirs])}")
    theirs_by_key = dict(theirs)
    for k, v in ours:
        if k in theirs_by_key:
            fails.check(v == theirs_by_key[k],
                        f"{path}: key {k}: pocketlm {short(v)} vs gguf {short(theirs_by_key[k])}")
    ot, tt = json_tensors(doc), reader_tensors(r)
    fails.check(len(ot) == len(tt), f"{path}: {len(ot)} tensors vs {len(tt)}")
    for a, b in zip(ot, tt):
        fails.check(a == b, f"{path}: tensor {a['name']}: pocketlm {a} vs gguf {b}")
    return r, doc


def float_bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    a = np.ascontiguousarray(a, dtype=np.float32).reshape(-1)
    b = np.ascontiguousarray(b, dtype=np.float32).reshape(-1)
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def first_difference(a: np.ndarray, b: np.ndarray) -> str:
    a = np.ascontiguousarray(a, dtype=np.float32).reshape(-1)
    b = np.ascontiguousarray(b, dtype=np.float32).reshape(-1)
    if a.shape != b.shape:
        return f"{a.shape[0]} elements vs {b.shape[0]}"
    idx = np.nonzero(a.view(np.uint32) != b.view(np.uint32))[0]
    if len(idx) == 0:
        return "bit-identical"
    i = int(idx[0])
    return f"{len(idx)} elements differ, first at {i}: {a[i]!r} vs {b[i]!r}"
