#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs every test pocketlm has:
#   1. scripts/setup.sh (Debian packages, Python references, models)
#   2. release build with -Werror, all ctest labels (unit, e2e, golden)
#   3. ASan + UBSan build, the unit and end-to-end suites again
#   4. aarch64 cross build, kernel tests under qemu-aarch64
#   5. the GGUF reader fuzzer for a bounded time
# Each stage's output is shown; the script stops at the first failing stage.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-60}
py="$root/.venv/bin/python"

stage() { printf '\n==== %s ====\n' "$*"; }

stage "setup"
scripts/setup.sh

stage "release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOCKETLM_WERROR=ON \
  -DPython3_EXECUTABLE="$py" >/dev/null
ninja -C build -j"$jobs"

stage "tests: unit + golden"
ctest --test-dir build -j"$jobs" --output-on-failure --timeout 900

stage "ASan + UBSan build"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOCKETLM_WERROR=ON \
  -DPOCKETLM_SANITIZE=address,undefined -DPOCKETLM_BUILD_BENCH=OFF \
  -DPython3_EXECUTABLE="$py" >/dev/null
ninja -C build-asan -j"$jobs"

stage "tests under ASan + UBSan: unit + e2e"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L "unit|e2e" -j"$jobs" --output-on-failure --timeout 900

stage "aarch64 cross build, kernel tests under qemu"
scripts/test_aarch64.sh build-aarch64

stage "fuzz: GGUF reader, ${fuzz_seconds}s"
scripts/fuzz.sh "$fuzz_seconds"

stage "all stages passed"
