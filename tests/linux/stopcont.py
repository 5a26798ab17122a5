#!/usr/bin/env python3
"""A guest-visible bad day (issue [linux]): the Linux guest on -smp 4 while a
QMP client stops and continues the machine in a loop.  The guest must keep
running (a shell loop and a sleep finish, every CPU stays online), its
clock must stay sane (guest time advances like host time, within a
second or two, and the kernel logs no RCU stall, soft lockup or unstable
clocksource), the monitor must answer throughout, and poweroff still exits
with status 0.

Usage: tests/linux/stopcont.py PARVM [--guest DIR] [--seconds N] [--smp N]
"""
import argparse
import os
import random
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "monitor"))
from boot import BANNER, PROMPT, Console, TestFailure  # noqa: E402
from qmptest import Client  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("parvm")
    ap.add_argument("--guest", default=os.path.join(os.environ.get("PARVM_CACHE", "/var/cache/parvm"),
                                                    "linux-guest"))
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--smp", type=int, default=4)
    ap.add_argument("--timeout-scale", type=float, default=1.0)
    a = ap.parse_args()
    t_boot, t_cmd = 300 * a.timeout_scale, 120 * a.timeout_scale

    tmp = tempfile.mkdtemp(prefix="parvm-stopcont-")
    sock = os.path.join(tmp, "qmp.sock")
    argv = [a.parvm, "-machine", "virt", "-smp", str(a.smp), "-m", "256M", "-nographic",
            "-bios", "default", "-kernel", os.path.join(a.guest, "Image"),
            "-initrd", os.path.join(a.guest, "initramfs.cpio.gz"), "-append", "console=ttyS0",
            "-qmp", f"unix:{sock},server=on,wait=off"]
    log = open(os.path.join(tmp, "console.log"), "w", encoding="latin-1")
    print("stopcont.py: " + " ".join(argv), flush=True)
    con = Console(argv, log, False)
    try:
        m = con.expect(BANNER, t_boot, "init's banner")
        if int(m.group(1)) != a.smp:
            raise TestFailure(f"init saw {m.group(1)} CPUs, -smp is {a.smp}")
        con.expect(PROMPT, t_boot, "the first prompt")
        con.run("dmesg -n 1", t_cmd)
        qmp = Client(sock, timeout=t_cmd)
        qmp.recv()
        qmp.cmd("qmp_capabilities")

        _, out = con.run("date +%s", t_cmd)
        g0, h0 = int(out.split()[-1]), time.time()

        cycles = [0]
        errors = []

        def hammer():
            """stop / cont with random short gaps, for a.seconds."""
            rnd = random.Random(1)
            end = time.monotonic() + a.seconds
            try:
                while time.monotonic() < end:
                    r = qmp.cmd("stop")
                    if r.get("return") != {}:
                        errors.append(f"stop: {r}")
                        return
                    qmp.event("STOP")
                    time.sleep(rnd.uniform(0.005, 0.05))
                    r = qmp.cmd("cont")
                    if r.get("return") != {}:
                        errors.append(f"cont: {r}")
                        return
                    qmp.event("RESUME")
                    cycles[0] += 1
                    time.sleep(rnd.uniform(0.005, 0.1))
            except (OSError, EOFError, ValueError) as e:
                errors.append(f"monitor: {e}")

        th = threading.Thread(target=hammer)
        th.start()
        # Work in the guest meanwhile, on every CPU the scheduler picks.
        con.run("i=0; while [ $i -lt 4000 ]; do i=$((i+1)); done; echo loop $i", t_cmd)
        con.run("sleep 2; echo slept", t_cmd)
        th.join()
        if errors:
            raise TestFailure("; ".join(errors))
        r = qmp.cmd("query-status")["return"]
        if r["status"] != "running":
            raise TestFailure(f"query-status after the loop: {r}")

        _, out = con.run("date +%s", t_cmd)
        g1, h1 = int(out.split()[-1]), time.time()
        drift = (g1 - g0) - (h1 - h0)
        print(f"stopcont.py: {cycles[0]} stop/cont cycles in {a.seconds:.0f}s; guest clock "
              f"advanced {g1 - g0}s while the host's did {h1 - h0:.1f}s", flush=True)
        if abs(drift) > 2:
            raise TestFailure(f"guest clock off by {drift:.1f}s after the stop/cont loop")
        if cycles[0] < 10:
            raise TestFailure(f"only {cycles[0]} stop/cont cycles")
        _, out = con.run("grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online",
                         t_cmd)
        want = "0" if a.smp == 1 else f"0-{a.smp - 1}"
        if out.split() != [str(a.smp), want]:
            raise TestFailure(f"CPUs after the loop: {out.split()}")
        _, out = con.run("dmesg", t_cmd)
        for bad in ("rcu_sched self-detected stall", "rcu: INFO", "soft lockup",
                    "clocksource", "hung_task"):
            if bad in out and not (bad == "clocksource" and "unstable" not in out):
                raise TestFailure(f"kernel log mentions {bad!r}")
        con.send("poweroff\n")
        status = con.wait_exit(t_cmd)
        if status != 0:
            raise TestFailure(f"parvm exited with status {status} after poweroff")
        print("stopcont.py: PASS", flush=True)
        return 0
    except TestFailure as e:
        print(f"stopcont.py: FAIL: {e}", file=sys.stderr)
        print("---- console (last 3000 characters) ----\n" + con.buf[-3000:] + "\n----",
              file=sys.stderr)
        return 1
    finally:
        con.kill()


if __name__ == "__main__":
    sys.exit(main())
