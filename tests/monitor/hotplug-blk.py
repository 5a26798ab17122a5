#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hot-unplug of a virtio-blk disk with I/O in flight (S9 with a real
device): the guest keeps requests in flight and ejects with some still
outstanding (or, IGNORING_ELF, never ejects and the forced removal takes
the disk away under it); each time DEVICE_DELETED comes once the device is
gone, the guest sees the slot empty and nothing written into its rings
afterwards, and parvm exits cleanly (under ASan/TSan: no use after free, no
race).  Also device_add of virtio-blk-device with QEMU's errors.
Usage: hotplug-blk.py PARVM UNPLUG_ELF IGNORING_ELF"""
import os, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmptest import Client, Tap, Vm, forced_removal

parvm, elf, ignoring_elf = sys.argv[1], sys.argv[2], sys.argv[3]
t = Tap()


def start(d, guest, extra="", aio="io_uring"):
    sock = os.path.join(d, "qmp-%s.sock" % os.path.basename(guest))
    for n in ("d0", "d1", "d2"):
        with open(os.path.join(d, n + ".img"), "wb") as f:
            f.truncate(4 << 20)
    drives = []
    for n in ("d0", "d1", "d2"):
        drives += ["-drive", "file=%s/%s.img,format=raw,if=none,id=%s,aio=%s" % (d, n, n, aio)]
    vm = Vm([parvm, "-machine", "virt" + extra, "-smp", "1", "-m", "128M",
             "-bios", "none", "-kernel", guest, "-nographic"] + drives +
            ["-device", "virtio-blk-device,drive=d0,id=blk0"], sock)
    c = Client(sock)
    c.recv()
    c.cmd("qmp_capabilities")
    return vm, c



with tempfile.TemporaryDirectory() as d:
    for aio in ("io_uring", "threads"):
        vm, c = start(d, elf, aio=aio)
        try:
            t.ok(vm.until("hammering"), "%s: guest keeps requests in flight" % aio)
            r = c.cmd("device_add", driver="virtio-blk-device", id="x", drive="d0")
            t.ok("can't find value 'd0'" in r.get("error", {}).get("desc", ""),
                 "device_add with the attached drive: %s" % r)
            r = c.cmd("device_add", driver="virtio-blk-device", id="x")
            t.ok("drive property not set" in r.get("error", {}).get("desc", ""),
                 "device_add without a drive: %s" % r)
            r = c.cmd("device_add", driver="virtio-blk-device", id="x", drive="d1", bogus="1")
            t.ok("Property 'virtio-blk-device.bogus' not found" in
                 r.get("error", {}).get("desc", ""), "unknown property: %s" % r)
            r = c.cmd("device_add", driver="virtio-blk-device", id="blk1", drive="d1")
            t.ok(r == {"return": {}, "id": "device_add"}, "device_add blk1 on d1: %s" % r)
            time.sleep(0.3)
            t.ok(c.cmd("device_del", id="blk1") == {"return": {}, "id": "device_del"},
                 "device_del blk1 (the guest does not use it; it powers off first)")
            time.sleep(0.3)                 # the guest hammers blk0 meanwhile
            t.ok(c.cmd("device_del", id="blk0") == {"return": {}, "id": "device_del"},
                 "device_del blk0 while the guest hammers it")
            e = c.deleted("blk0")
            t.ok(e["data"]["path"] == "/machine/peripheral/blk0", "DEVICE_DELETED blk0")
            t.ok(vm.until("nothing written after eject"),
                 "guest: %r" % vm.text()[-300:])
            t.ok("all ok" in vm.text() and "ejected with requests in flight" in vm.text(),
                 "requests before the eject all succeeded")
            t.ok(vm.p.wait(timeout=30) == 0, "guest powered off with success")
        finally:
            vm.close()

    vm, c = start(d, ignoring_elf, ",hotplug-timeout=300")
    try:
        t.ok(vm.until("hammering"), "ignoring guest keeps requests in flight")
        time.sleep(0.3)
        forced_removal(t, c, "blk0", 0.25)
        t.ok(vm.until("after removal"), "guest: %r" % vm.text()[-300:])
        t.ok("nothing written after removal" in vm.text() and "all ok" in vm.text(),
             "nothing written after the forced removal")
        t.ok(vm.p.wait(timeout=30) == 0, "guest powered off with success")
    finally:
        vm.close()
t.done()
