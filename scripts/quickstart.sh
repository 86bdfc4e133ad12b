#!/usr/bin/env bash
# Set-up command 1 of the README: installs everything (scripts/setup.sh), builds the release
# `pocketlm` binary and runs the default model (SmolLM2-135M-Instruct) on a prompt, as a chat
# turn. The reply streams to stdout; the statistics line goes to stderr.
#
#   scripts/quickstart.sh                                   # a default question
#   scripts/quickstart.sh "Write a haiku about the sea."    # your own
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
prompt=${1:-"What is the capital of France, and what is it famous for?"}

scripts/setup.sh
# The same build directory as scripts/test.sh; only the command-line tool is compiled here.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build pocketlm_cli >/dev/null
echo
build/pocketlm run --chat -n 200 -p "$prompt"
