#!/usr/bin/env python3
"""pocketlm's GGUF reader and dequantizers against the `gguf` package on real models
(ctest label: golden).

For each model present in the models folder:
  (a) `pocketlm inspect --json` lists the same metadata keys and values, in the same order, and
      the same tensors (name, type, shape, offsets, size) as gguf.GGUFReader;
  (b) `pocketlm dump --all` of every tensor equals gguf.quants.dequantize() bit for bit in
      float32 (compared as uint32).

A missing model is skipped with a message; with no model at all (or no gguf module) the test
exits 77, which ctest reports as skipped.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time

try:
    import numpy as np
    import gguf
    import gguf_compare as gc
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIP: the real-model test needs numpy and the gguf package ({e})", file=sys.stderr)
    sys.exit(77)

MODELS = ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"]


def dump_file_name(name: str, index: int) -> str:
    """The file `pocketlm dump --all` writes a tensor to (see tools/pocketlm/dump.cpp)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if safe != name or not safe or safe.startswith("."):
        safe += f"~{index}"
    return safe + ".f32"


def check_model(fails: gc.Failures, pocketlm: str, path: str, workdir: str) -> None:
    t0 = time.time()
    r, doc = gc.compare_file(fails, pocketlm, path)
    n_keys = len(doc["metadata"])
    t1 = time.time()

    out = os.path.join(workdir, os.path.basename(path) + ".dump")
    shutil.rmtree(out, ignore_errors=True)
    p = gc.run([pocketlm, "dump", path, "--all", "-o", out])
    if not fails.check(p.returncode == 0, f"{path}: dump --all exited {p.returncode}: "
                                          f"{p.stderr.decode(errors='replace')}"):
        return
    t2 = time.time()
    types: dict[str, int] = {}
    for i, t in enumerate(r.tensors):
        f = os.path.join(out, dump_file_name(t.name, i))
        ours = np.fromfile(f, dtype="<f4")
        os.remove(f)  # keep at most one tensor's dump on disk beyond what is left to check
        ref = gguf.quants.dequantize(t.data, t.tensor_type)
        if gc.float_bits_equal(ours, ref):
            fails.check(True, "")
            types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
        else:
            fails.check(False, f"{path}: tensor {t.name} ({t.tensor_type.name}): "
                               f"{gc.first_difference(ours, ref)}")
    shutil.rmtree(out, ignore_errors=True)
    t3 = time.time()
    print(f"{os.path.basename(path)}: {n_keys} keys and {len(r.tensors)} tensors match gguf "
          f"({t1 - t0:.1f}s); dequantized bit-exact: "
          f"{', '.join(f'{n} {k}' for k, n in sorted(types.items()))} "
          f"(dump {t2 - t1:.1f}s, compare {t3 - t2:.1f}s)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pocketlm", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()

    present = [m for m in MODELS if os.path.isfile(os.path.join(args.models, m))]
    for m in MODELS:
        if m not in present:
            print(f"SKIP: {m} is not in {args.models}")
    if not present:
        print(f"SKIP: no test models in {args.models} (see tests/format/real_models.py)",
              file=sys.stderr)
        return gc.SKIP
    os.makedirs(args.workdir, exist_ok=True)
    fails = gc.Failures()
    for m in present:
        check_model(fails, args.pocketlm, os.path.join(args.models, m), args.workdir)
    return fails.finish("real_models")


if __name__ == "__main__":
    sys.exit(main())
