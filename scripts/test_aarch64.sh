#!/usr/bin/env bash
# Cross-compiles pocketlm for 64-bit ARM and runs the kernel tests (ctest label `kernels`) under
# qemu-aarch64 -cpu max, which offers the dot-product, fp16 and i8mm extensions the NEON table
# needs. Every runnable table (ref and neon) is checked against ref there.
#
# Usage: scripts/test_aarch64.sh [build-dir]      (default: build-aarch64, relative to the repo)
# Environment:
#   JOBS=2             parallel compile jobs and parallel test processes
#   POCKETLM_WERROR=ON warnings are errors, as in CI (OFF to look at a warning without stopping)
#
# Safe to re-run: configuring an existing build directory again only refreshes it, and ninja
# rebuilds what changed. Exits non-zero when configuring, building or any test fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build-aarch64}
jobs=${JOBS:-2}
werror=${POCKETLM_WERROR:-ON}

for tool in aarch64-linux-gnu-g++ qemu-aarch64 cmake ninja ctest; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "test_aarch64: '$tool' not found (scripts/setup.sh installs g++-aarch64-linux-gnu," \
      "qemu-user, cmake and ninja-build)" >&2
    exit 2
  fi
done

# A directory configured for the host compiler cannot be switched to the cross toolchain in place.
if [[ -f "$build/CMakeCache.txt" ]] &&
  ! grep -Eq '^CMAKE_(TOOLCHAIN_FILE|CXX_COMPILER[A-Z_]*):[A-Z]+=.*aarch64-linux-gnu' \
    "$build/CMakeCache.txt"; then
  echo "test_aarch64: $build is configured for another compiler; remove it or pass another" \
    "build directory" >&2
  exit 2
fi

# -Wno-restrict: g++ 12 reports a false -Wrestrict inside libstdc++'s std::string when it builds
# GoogleTest from /usr/src (cross builds have no prebuilt gtest), which -Werror would turn fatal.
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="-Wno-restrict" \
  -DPOCKETLM_WERROR="$werror" \
  -DPOCKETLM_BUILD_BENCH=OFF \
  -DPOCKETLM_BUILD_TOOLS=OFF >/dev/null

# kernel_tests links the whole library, so this also compiles every source of libpocketlm for
# aarch64 under -Wall -Wextra (and -Werror).
ninja -C "$build" -j"$jobs" pocketlm kernel_tests

# An empty selection must not pass for a green run: say why it is empty and fail.
count=$(ctest --test-dir "$build" -N -L kernels | sed -n 's/^Total Tests: //p')
if [[ "${count:-0}" -eq 0 ]]; then
  echo "test_aarch64: no test in $build carries the ctest label 'kernels', so nothing would" \
    "run. gtest_discover_tests(... PROPERTIES LABELS \"unit;kernels\") writes" \
    "'LABELS unit kernels', which sets only 'unit' (no escaping survives CMake 3.25's" \
    "GoogleTestAddTests); set the labels after discovery instead, from a TEST_INCLUDE_FILES" \
    "script that calls set_tests_properties on the discovered TEST_LIST." >&2
  exit 1
fi

ctest --test-dir "$build" -L kernels -j"$jobs" --output-on-failure --timeout 600 --no-tests=error
