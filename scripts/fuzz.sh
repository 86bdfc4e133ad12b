#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs the GGUF reader fuzzer for a bounded time,
# starting from the committed seed corpus. Findings are written to build-fuzz/findings/ and fail
# the run.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPOCKETLM_FUZZ=ON -DPOCKETLM_BUILD_TESTS=OFF -DPOCKETLM_BUILD_BENCH=OFF \
  -DPOCKETLM_BUILD_TOOLS=OFF >/dev/null
ninja -C build-fuzz -j"${JOBS:-$(nproc)}" gguf_reader_fuzz
work=build-fuzz/corpus-gguf
mkdir -p "$work" build-fuzz/findings
build-fuzz/fuzz/gguf_reader_fuzz -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 -artifact_prefix=build-fuzz/findings/ "$work" fuzz/corpus/gguf
