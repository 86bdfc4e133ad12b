#!/usr/bin/env bash
# Installs everything pocketlm's build and tests need on a fresh Debian 12 machine, then fetches
# the real models. Idempotent: what is already there is not installed again.
#
#   scripts/setup.sh            # Debian packages, Python venv (.venv), models/
#   SETUP_SKIP_MODELS=1 scripts/setup.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

apt_packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev            # libFuzzer and clang's sanitizer runtimes
  libgtest-dev libbenchmark-dev       # GoogleTest, Google Benchmark
  g++-aarch64-linux-gnu qemu-user     # ARM (phone) kernels: cross-compile, run under emulation
  libsimde-dev                        # portable x86 intrinsics: tests AVX-512 code on any x86
  python3 python3-venv
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# Python references live in a git-ignored venv so they never touch the system's Python.
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt

if [ "${SETUP_SKIP_MODELS:-0}" != 1 ]; then
  # A model that cannot be fetched is reported; tests that need it say they are skipped and why.
  .venv/bin/python scripts/fetch_models.py || echo "setup: warning: a model could not be fetched (see above)"
fi
echo "setup: done"
