#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs them for a bounded time, starting from the
# committed seed corpora: the GGUF reader fuzzer for SECONDS (default 60), then the tokenizer
# fuzzer (SmolLM2's vocabulary, seeded with the tokenizer corpus) for TOKENIZER_SECONDS (default
# 15; skipped with a message when models/SmolLM2-135M-Instruct.Q4_1.gguf is absent). Findings
# are written to <build>/findings/ and fail the run.
#   scripts/fuzz.sh [SECONDS]
#   FUZZ_BUILD_DIR=build-fuzz TOKENIZER_SECONDS=15 JOBS=2 scripts/fuzz.sh 60
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
tokenizer_seconds=${TOKENIZER_SECONDS:-15}
build=${FUZZ_BUILD_DIR:-build-fuzz}
vocab=models/SmolLM2-135M-Instruct.Q4_1.gguf
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPOCKETLM_FUZZ=ON -DPOCKETLM_BUILD_TESTS=OFF -DPOCKETLM_BUILD_BENCH=OFF \
  -DPOCKETLM_BUILD_TOOLS=OFF >/dev/null
ninja -C "$build" -j"${JOBS:-$(nproc)}" gguf_reader_fuzz tokenizer_fuzz
mkdir -p "$build/corpus-gguf" "$build/corpus-tokenizer" "$build/findings"
"$build/fuzz/gguf_reader_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$build/findings/" "$build/corpus-gguf" fuzz/corpus/gguf

if [[ ! -f $vocab ]]; then
  echo "tokenizer fuzzer skipped: $vocab is absent (scripts/setup.sh fetches it)" >&2
  exit 0
fi
# Seeds: one file per document of the tokenizer corpus (written once into the work directory).
# Inputs are capped at 512 bytes: long enough for every pre-tokenizer rule and special-token
# overlap, short enough for hundreds of runs a second under the sanitizers.
work="$build/corpus-tokenizer"
if [[ -z $(ls -A "$work") ]]; then
  python3 - "$work" <<'PY'
import pathlib, sys
work = pathlib.Path(sys.argv[1])
for path in sorted(pathlib.Path("tests/data/tokenizer/corpus").glob("*.txt")):
    for i, doc in enumerate(path.read_bytes().split(b"\n\x1e\n")[:-1]):
        (work / f"seed-{path.stem}-{i:04d}").write_bytes(doc[:512])
PY
fi
POCKETLM_FUZZ_VOCAB="$root/$vocab" "$build/fuzz/tokenizer_fuzz" \
  -max_total_time="$tokenizer_seconds" -max_len=512 -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$build/findings/" "$work"
