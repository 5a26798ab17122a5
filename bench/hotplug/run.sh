#!/usr/bin/env bash
# bench/hotplug: hot-unplug latency under load (issue #4).  The hot-plug
# stress guest (tests/guest/programs/hotplug.c) runs on -smp 4: hart 0 is
# the driver, two harts hammer the test device's lockless counter, its
# device-locked register and its DMA doorbell, the last hart reads every
# slot all the time; meanwhile a QMP client runs CYCLES device_add /
# device_del cycles.  Printed, for parvm and for parvm in all-global mode
# (S12), in one run: the latency from device_del to DEVICE_DELETED (median,
# p99, max) and the global lock's acquisitions and hold time during the
# stress, from x-query-sync-profile.  A benchmark: it asserts nothing.
# Usage: run.sh PARVM HOTPLUG_ELF [CYCLES]   (e.g. build/src/parvm
#        build/tests/monitor/hotplug.elf 1000)
set -u
here=$(cd "$(dirname "$0")" && pwd)
parvm=$1 elf=$2 cycles=${3:-1000}
stress="$here/../../tests/monitor/hotplug-stress.py"
echo "parvm hot-unplug under load: $cycles cycles, -smp 4, $(nproc) host CPUs"
for accel in "" "parvm,global-lock=all"; do
  echo "--- ${accel:-parvm (default: per-device locks, lockless regions)}"
  python3 "$stress" --bench ${accel:+--accel "$accel"} "$parvm" "$elf" 4 "$cycles" |
    grep -v '^ok '
done
