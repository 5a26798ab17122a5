#!/usr/bin/env bash
# Build the libFuzzer targets with clang under ASan+UBSan and run each for
# a bounded time.  Usage: fuzz/run.sh [SECONDS]   (default 60, shared: each
# of the targets gets SECONDS divided by their number, at least 5)
# Corpora grow in build/fuzz/corpus/<target>; crashes land in
# build/fuzz/artifacts/ and make this script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-60}"
targets="fuzz-virtqueue fuzz-virtio-blk fuzz-virtio-net"
ntargets=$(echo $targets | wc -w)
secs=$(( total / ntargets ))
[ "$secs" -ge 5 ] || secs=5
dir=build/fuzz
if ! command -v clang >/dev/null; then
  echo "fuzz/run.sh: clang not found (scripts/deps.sh test installs it)" >&2
  exit 1
fi
if [ ! -d "$dir" ]; then
  CC=clang meson setup "$dir" -Dfuzz=true -Dwerror=true \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$dir" -j2 $(for t in $targets; do echo fuzz/$t; done) | grep -v "^\[" || true
for t in $targets; do
  [ -x "$dir/fuzz/$t" ] || { echo "fuzz/run.sh: build of $t failed" >&2; exit 1; }
done
for t in $targets; do
  mkdir -p "$dir/corpus/$t" "$dir/artifacts"
  echo "fuzz/run.sh: $t for ${secs}s"
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$dir/fuzz/$t" -max_total_time="$secs" -max_len=20000 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/$t-" "$dir/corpus/$t" 2> "$dir/$t.log" || {
    tail -50 "$dir/$t.log" >&2
    echo "fuzz/run.sh: $t FAILED (log: $dir/$t.log)" >&2
    exit 1
  }
  grep -E "^stat::number_of_executed_units|Done" "$dir/$t.log" || true
done
