#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs them for a bounded time, starting from the
# committed seed corpora: the GGUF reader fuzzer for SECONDS (default 60), then the tokenizer
# fuzzers for TOKENIZER_SECONDS in all (default 15): the byte-level BPE one (SmolLM2's
# vocabulary) and the SentencePiece one (Gemma 3's), half the time each, both seeded with the
# tokenizer corpus. A tokenizer fuzzer whose model is absent is skipped with a message (the other
# then gets the whole time). Findings are written to <build>/findings/ and fail the run.
#   scripts/fuzz.sh [SECONDS]
#   FUZZ_BUILD_DIR=build-fuzz TOKENIZER_SECONDS=15 JOBS=2 scripts/fuzz.sh 60
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${1:-60}
tokenizer_seconds=${TOKENIZER_SECONDS:-15}
build=${FUZZ_BUILD_DIR:-build-fuzz}
bpe_vocab=models/SmolLM2-135M-Instruct.Q4_1.gguf
spm_vocab=models/gemma-3-270m-q4_k_m.gguf
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPOCKETLM_FUZZ=ON -DPOCKETLM_BUILD_TESTS=OFF -DPOCKETLM_BUILD_BENCH=OFF \
  -DPOCKETLM_BUILD_TOOLS=OFF >/dev/null
ninja -C "$build" -j"${JOBS:-$(nproc)}" gguf_reader_fuzz tokenizer_fuzz spm_tokenizer_fuzz
mkdir -p "$build/corpus-gguf" "$build/corpus-tokenizer" "$build/corpus-spm-tokenizer" \
  "$build/findings"
"$build/fuzz/gguf_reader_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$build/findings/" "$build/corpus-gguf" tests/data/fuzz/gguf

targets=()
[[ -f $bpe_vocab ]] && targets+=(bpe) ||
  echo "BPE tokenizer fuzzer skipped: $bpe_vocab is absent (scripts/setup.sh fetches it)" >&2
[[ -f $spm_vocab ]] && targets+=(spm) ||
  echo "SentencePiece tokenizer fuzzer skipped: $spm_vocab is absent (scripts/setup.sh" \
    "fetches it)" >&2
((${#targets[@]} > 0)) || exit 0
share=$(((tokenizer_seconds + ${#targets[@]} - 1) / ${#targets[@]}))

# Seeds: one file per document of the tokenizer corpus (written once into each work directory),
# and for SentencePiece also Gemma's chat markup, user-defined tokens and byte-fallback text.
# Inputs are capped at 512 bytes: long enough for every pre-tokenizer rule and special-token
# overlap, short enough for hundreds of runs a second under the sanitizers.
seed() {
  python3 - "$1" "$2" <<'PY'
import pathlib, sys
work, kind = pathlib.Path(sys.argv[1]), sys.argv[2]
for path in sorted(pathlib.Path("tests/data/tokenizer/corpus").glob("*.txt")):
    for i, doc in enumerate(path.read_bytes().split(b"\n\x1e\n")[:-1]):
        (work / f"seed-{path.stem}-{i:04d}").write_bytes(doc[:512])
if kind == "spm":
    extra = [
        "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
        "<start_of_turn<end_of_turn>><eos><pad><unk><mask><unused0>[multimodal]",
        "a  b   c\t\td\n\n\ne</s><s>x</s><table><tr><td>1</td></tr></table>",
        "\u2581literal \u2581\u2581 marker \U00013000 byte fallback <0x41>",
    ]
    for i, text in enumerate(extra):
        (work / f"seed-gemma-{i}").write_bytes(text.encode())
    (work / "seed-gemma-bytes").write_bytes(b"\xf0 \xe2\x96 \xff\x80 \xc0\x80")
PY
}
for t in "${targets[@]}"; do
  if [[ $t == bpe ]]; then
    work="$build/corpus-tokenizer" target=tokenizer_fuzz env=POCKETLM_FUZZ_VOCAB vocab=$bpe_vocab
  else
    work="$build/corpus-spm-tokenizer" target=spm_tokenizer_fuzz env=POCKETLM_FUZZ_SPM_VOCAB
    vocab=$spm_vocab
  fi
  [[ -n $(ls -A "$work") ]] || seed "$work" "$t"
  env "$env=$root/$vocab" "$build/fuzz/$target" \
    -max_total_time="$share" -max_len=512 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$build/findings/" "$work"
done

# The safetensors reader and the JSON / config.json parsing behind `pocketlm convert`, for
# SAFETENSORS_SECONDS (default 10), from the committed seeds in tests/data/fuzz/safetensors.
ninja -C "$build" -j"${JOBS:-$(nproc)}" safetensors_fuzz
mkdir -p "$build/corpus-safetensors"
"$build/fuzz/safetensors_fuzz" -max_total_time="${SAFETENSORS_SECONDS:-10}" -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 -artifact_prefix="$build/findings/" \
  "$build/corpus-safetensors" tests/data/fuzz/safetensors
