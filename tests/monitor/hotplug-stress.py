#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hot-plug stress (S9, G1-G4) on the real board: every hart but the
driver's hammers the test device's lockless counter, its device-locked
register and its DMA doorbell, while this QMP client runs CYCLES
device_add/device_del cycles.  Checks:
  G1  the guest finds the slot empty right after each eject write, and the
      test device aborts the process if any handler runs after its removal
      returned (its tripwire), so parvm must survive to quit with status 0;
  G3  before each eject the guest checks that the device's counter equals
      the writes its harts made and the DMA sequence the doorbells rung;
  G2  the test suite runs this under ASan/UBSan and TSan too;
  G4  a watchdog: if a cycle makes no progress for WATCHDOG seconds, every
      parvm thread's stack is dumped (gdb) and the test fails.
With --bench it prints the latency from device_del to DEVICE_DELETED and
the global lock's hold times from x-query-sync-profile instead of TAP.
Usage: hotplug-stress.py [--bench] [--accel ACCEL] PARVM ELF SMP CYCLES"""
import argparse, os, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmptest import Client, Tap, Vm

WATCHDOG = 60

ap = argparse.ArgumentParser()
ap.add_argument("--bench", action="store_true")
ap.add_argument("--accel", default=None)
ap.add_argument("parvm")
ap.add_argument("elf")
ap.add_argument("smp", type=int)
ap.add_argument("cycles", type=int)
a = ap.parse_args()
t = Tap()


def dump_stacks(pid):
    """Every thread's backtrace, to find who waits for whom."""
    try:
        out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx",
                              "-ex", "thread apply all bt"],
                             capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        out = "cannot run gdb: %s" % e
    for line in out.splitlines():
        print("# " + line, flush=True)


def global_lock_profile(c):
    prof = c.cmd("x-query-sync-profile")["return"]
    return [p for p in prof if p["class"] == "global"]


with tempfile.TemporaryDirectory() as d:
    sock = os.path.join(d, "qmp.sock")
    argv = [a.parvm, "-machine", "virt", "-smp", str(a.smp), "-m", "128M",
            "-bios", "none", "-kernel", a.elf, "-nographic"]
    if a.accel:
        argv += ["-accel", a.accel]
    vm = Vm(argv, sock)
    try:
        c = Client(sock, timeout=WATCHDOG)
        c.recv()
        c.cmd("qmp_capabilities")
        t.ok(vm.until("hotplug driver ready"), "guest driver up on %d harts" % a.smp)
        before = {p["site"]: p for p in global_lock_profile(c)}
        lat = []
        done = 0
        start = time.time()
        try:
            for i in range(a.cycles):
                dev = "s%d" % i
                # Rotate the slots: DEVICE_DELETED comes before the guest's
                # eject write returns, and the guest then reads the slot to
                # see it empty; refilling the same slot at once would race
                # that read.
                r = c.cmd("device_add", driver="parvm-testdev", id=dev, slot=i % 8)
                if "error" in r:
                    t.ok(False, "device_add %s: %s" % (dev, r))
                    break
                t0 = time.time()
                r = c.cmd("device_del", id=dev)
                if "error" in r:
                    t.ok(False, "device_del %s: %s" % (dev, r))
                    break
                c.deleted(dev)
                lat.append(time.time() - t0)
                done += 1
        except (OSError, EOFError) as e:
            t.ok(False, "no progress for %d s in cycle %d (%s): stacks follow" %
                 (WATCHDOG, done, e))
            if vm.p.poll() is None:
                dump_stacks(vm.p.pid)
        elapsed = time.time() - start
        t.ok(done == a.cycles, "%d of %d device_add/device_del cycles under load" %
             (done, a.cycles))
        # The console holds the guest's verdict on every eject.
        vm.until("ejected, the slot is empty again", done, 10)
        text = vm.text()
        if os.environ.get("HP_DUMP"):
            open(os.environ["HP_DUMP"], "w").write(text)
        ejected = text.count("ejected, the slot is empty again")
        t.ok(ejected == done and "STILL THERE" not in text,
             "G1: every eject left an empty slot (%d ejects seen by the guest)" % ejected)
        t.ok("COUNTS DO NOT ADD UP" not in text and "unexpected" not in text,
             "G3: counter and DMA sequence matched the harts' accesses each time")
        if done == a.cycles:
            after = global_lock_profile(c)
            acq = sum(p["acquisitions"] - before.get(p["site"], {}).get("acquisitions", 0)
                      for p in after)
            hold = sum(p["hold-ns"] - before.get(p["site"], {}).get("hold-ns", 0)
                       for p in after)
            lat.sort()
            summary = ("%d cycles in %.1f s, -smp %d%s: device_del -> DEVICE_DELETED "
                       "median %.2f ms, p99 %.2f ms, max %.2f ms; global lock during the "
                       "stress: %d acquisitions, %.3f ms held in all (%.0f%% of the run)" %
                       (done, elapsed, a.smp, " " + a.accel if a.accel else "",
                        1000 * statistics.median(lat), 1000 * lat[int(0.99 * (len(lat) - 1))],
                        1000 * lat[-1], acq, hold / 1e6, 100 * hold / 1e9 / elapsed))
            print(("" if a.bench else "# ") + summary, flush=True)
            if a.bench:
                for p in sorted(after, key=lambda p: -p["hold-ns"])[:5]:
                    print("   global lock at %-40s %8d acquisitions %10.3f ms held" %
                          (p["site"], p["acquisitions"], p["hold-ns"] / 1e6))
            t.ok(c.cmd("query-status")["return"]["status"] == "running", "the guest still runs")
            c.cmd("quit")
        rc = vm.p.wait(timeout=30) if done == a.cycles else vm.p.poll()
        t.ok(rc == 0, "parvm exits 0 (no tripwire, validator or sanitizer abort): %s" % rc)
    finally:
        vm.close()
if not a.bench:
    t.done()
