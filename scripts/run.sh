#!/usr/bin/env bash
# parvm's main job, from a clean clone: install what is missing, build an
# optimised parvm (lock validator off) and run it.  Until the virt board
# lands ([harts]), the main job is the dispatch benchmark.
# Usage: scripts/run.sh [bench/dispatch options, e.g. -n 1000000 -s lockless]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh build
dir=build/release
if [ ! -d "$dir" ]; then
  meson setup "$dir" --buildtype=release -Dvalidator=false >/dev/null
fi
ninja -C "$dir" >/dev/null
exec "$dir/bench/dispatch" "$@"
