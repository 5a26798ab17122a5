#!/usr/bin/env bash
# Build and run every test, three times: a debug build with the lock
# validator (-Werror), then under ThreadSanitizer, then under
# AddressSanitizer + UndefinedBehaviorSanitizer; then the libFuzzer targets
# for a bounded time (fuzz/run.sh, clang); then the Linux guest
# (scripts/build-linux-guest.sh, cached outside the clone under
# ${PARVM_CACHE:-/var/cache/parvm}/linux-guest, keyed by its inputs) on the
# plain build's parvm and on qemu-system-riscv64, and on -smp 4 under a
# QMP stop/cont loop.  Ends with "N passed, M failed".
# Usage: scripts/test.sh [plain|thread|address|fuzz|linux ...]   (default: all)
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test || exit 1

configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(plain thread address fuzz linux)

passed=0
failed=0
for cfg in "${configs[@]}"; do
  if [ "$cfg" = fuzz ]; then
    echo "=== fuzz: libFuzzer targets, 60 s in all"
    if fuzz/run.sh 60 >build/test-fuzz.log 2>&1; then
      passed=$((passed + 1))
    else
      tail -40 build/test-fuzz.log
      failed=$((failed + 1))
    fi
    grep -E "^fuzz/run.sh|stat::number_of_executed_units" build/test-fuzz.log
    continue
  fi
  if [ "$cfg" = linux ]; then
    echo "=== linux: building the guest (cached), booting it"
    guest=${PARVM_CACHE:-/var/cache/parvm}/linux-guest
    if ! scripts/build-linux-guest.sh "$guest" >build/test-linux-build.log 2>&1; then
      tail -40 build/test-linux-build.log
      failed=$((failed + 1))
      continue
    fi
    grep "done in" build/test-linux-build.log
    parvm=build/test-plain/src/parvm
    if [ ! -x "$parvm" ]; then
      echo "=== linux: needs the plain build first (scripts/test.sh plain linux)"
      failed=$((failed + 1))
      continue
    fi
    for t in "tests/linux/boot.py --guest $guest --preset parvm --parvm $parvm --smp 2" \
             "tests/linux/boot.py --guest $guest --preset qemu --smp 2" \
             "tests/linux/stopcont.py --guest $guest $parvm --smp 4"; do
      name=${t#tests/linux/}
      if $t --timeout-scale 3 >build/test-linux.log 2>&1; then
        echo "ok: $name: $(grep -E 'PASS|cycles' build/test-linux.log | tr '\n' ' ')"
        passed=$((passed + 1))
      else
        tail -60 build/test-linux.log
        echo "FAILED: $name"
        failed=$((failed + 1))
      fi
    done
    continue
  fi
  dir="build/test-$cfg"
  opts=(-Dwerror=true -Dvalidator=true --buildtype=debugoptimized)
  case "$cfg" in
    plain) ;;
    thread) opts+=(-Db_sanitize=thread) ;;
    address) opts+=(-Db_sanitize=address,undefined -Dc_args=-fno-sanitize-recover=all) ;;
    *) echo "unknown configuration $cfg" >&2; exit 2 ;;
  esac
  echo "=== $cfg: building in $dir"
  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "${opts[@]}" >/dev/null || { failed=$((failed + 1)); continue; }
  else
    meson setup "$dir" "${opts[@]}" >/dev/null || { failed=$((failed + 1)); continue; }
  fi
  if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
    tail -40 "$dir.build.log"
    echo "=== $cfg: build failed"
    failed=$((failed + 1))
    continue
  fi
  echo "=== $cfg: running tests"
  # halt_on_error: a sanitizer report fails the test instead of scrolling by.
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" \
  ASAN_OPTIONS="detect_leaks=1 abort_on_error=1" \
  UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1" \
    meson test -C "$dir" --print-errorlogs --num-processes 2 >"$dir.test.log" 2>&1
  grep -E '^ *[0-9]+/[0-9]+ ' "$dir.test.log"
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$dir.test.log")
  bad=0
  for k in Fail Timeout 'Unexpected Pass'; do
    n=$(sed -n "s/^$k: *\([0-9]*\).*/\1/p" "$dir.test.log")
    bad=$((bad + ${n:-0}))
  done
  if [ -z "$ok" ]; then
    tail -40 "$dir.test.log"
    bad=$((bad + 1))
  elif [ "$bad" -gt 0 ]; then
    sed -n '/^Summary of Failures/,$p' "$dir.test.log"
    grep -B2 -A30 -E 'WARNING: ThreadSanitizer|ERROR: AddressSanitizer|runtime error|not ok' \
      "$dir/meson-logs/testlog.txt" | head -80
  fi
  passed=$((passed + ${ok:-0}))
  failed=$((failed + bad))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
