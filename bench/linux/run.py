#!/usr/bin/env python3
"""bench/linux: the Linux guest (scripts/build-linux-guest.sh) on parvm and
on qemu-system-riscv64, same kernel and initramfs, in one run:
  boot     seconds from starting the emulator to the shell's first prompt
  loop     a busybox shell loop of 20000 iterations (interpreter-bound)
  dd-write 32 MiB written to /dev/vda with dd (virtio-blk) and synced
  dd-read  the same 32 MiB read back (caches dropped first)
at -smp 1 and 2, best of N runs (default 2).  Times are taken on the host,
from sending the command to its end marker on the console.  A benchmark:
it prints, it asserts nothing.
Usage: bench/linux/run.py PARVM [--guest DIR] [--runs N]
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "linux"))
from boot import BANNER, OPENSBI, PROMPT, Console  # noqa: E402

WORK = [
    ("loop", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"),
    ("dd-write", "dd if=/dev/zero of=/dev/vda bs=1M count=32 2>/dev/null; sync"),
    ("dd-read", "echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda of=/dev/null bs=1M 2>/dev/null"),
]


def one(emu, smp, guest, tmp):
    disk = os.path.join(tmp, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    fw = ["-bios", "default"] if emu[0] != "qemu-system-riscv64" else ["-bios", OPENSBI]
    argv = emu + fw + ["-machine", "virt", "-smp", str(smp), "-m", "256M", "-nographic",
                       "-kernel", os.path.join(guest, "Image"),
                       "-initrd", os.path.join(guest, "initramfs.cpio.gz"),
                       "-append", "console=ttyS0",
                       "-drive", f"file={disk},format=raw,if=none,id=d0",
                       "-device", "virtio-blk-device,drive=d0"]
    log = open(os.path.join(tmp, "console.log"), "w", encoding="latin-1")
    t0 = time.monotonic()
    con = Console(argv, log, False)
    try:
        con.expect(BANNER, 300, "banner")
        con.expect(PROMPT, 300, "prompt")
        res = {"boot": time.monotonic() - t0}
        con.run("dmesg -n 1", 60)
        for name, cmd in WORK:
            t = time.monotonic()
            con.run(cmd, 600)
            res[name] = time.monotonic() - t
        con.send("poweroff\n")
        con.wait_exit(60)
        return res
    finally:
        con.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("parvm")
    ap.add_argument("--guest", default=os.path.join(os.environ.get("PARVM_CACHE", "/var/cache/parvm"),
                                                    "linux-guest"))
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    emus = [("parvm", [a.parvm]), ("parvm-all-global", [a.parvm, "-accel", "parvm,global-lock=all"]),
            ("qemu", ["qemu-system-riscv64"])]
    cols = ["boot"] + [w[0] for w in WORK]
    print(f"Linux guest, parvm vs qemu-system-riscv64, {os.cpu_count()} host CPUs, "
          f"seconds, best of {a.runs}")
    print(f"{'emulator':18s} {'smp':>3s} " + " ".join(f"{c:>9s}" for c in cols))
    best = {}
    with tempfile.TemporaryDirectory() as tmp:
        for smp in (1, 2):
            for name, emu in emus:
                runs = [one(emu, smp, a.guest, tmp) for _ in range(a.runs)]
                b = {c: min(r[c] for r in runs) for c in cols}
                best[(name, smp)] = b
                print(f"{name:18s} {smp:3d} " + " ".join(f"{b[c]:9.2f}" for c in cols),
                      flush=True)
            q = best[("qemu", smp)]
            p = best[("parvm", smp)]
            print(f"{'qemu/parvm time':18s} {smp:3d} " +
                  " ".join(f"{q[c] / p[c]:9.2f}" for c in cols) + "   (>1: parvm faster)")


if __name__ == "__main__":
    main()
