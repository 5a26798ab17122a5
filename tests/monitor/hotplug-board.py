#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hot-plug on the real board (S9): device_add / device_del of the test
device while the guest's other harts hammer it; the guest driver ejects
(DEVICE_DELETED only once gone, and the slot reads empty right after the
eject write); QEMU-style errors for unknown, pending and duplicate ids; and
a guest that ignores the request gets the device removed after the timeout.
Usage: hotplug-board.py PARVM HOTPLUG_ELF IGNORING_ELF CYCLES"""
import os, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmptest import Client, Tap, Vm

parvm, elf, ignoring_elf, cycles = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t = Tap()


def start(d, guest, extra=()):
    sock = os.path.join(d, "qmp-%s.sock" % os.path.basename(guest))
    vm = Vm([parvm, "-machine", "virt" + "".join(extra), "-smp", "2", "-m", "128M",
             "-bios", "none", "-kernel", guest, "-nographic"], sock)
    c = Client(sock)
    c.recv()
    c.cmd("qmp_capabilities")
    return vm, c



with tempfile.TemporaryDirectory() as d:
    vm, c = start(d, elf)
    try:
        t.ok(vm.until("hotplug driver ready"), "guest driver up")
        r = c.cmd("device_add", driver="parvm-testdev", id="t1")
        t.ok(r == {"return": {}, "id": "device_add"}, "device_add t1: %s" % r)
        t.ok(vm.until("slot 0: testdev plugged"), "the guest saw it in slot 0")
        r = c.cmd("device_add", driver="parvm-testdev", id="t1")
        t.ok(r["error"]["class"] == "GenericError" and "t1" in r["error"]["desc"],
             "duplicate id: %s" % r)
        r = c.cmd("device_add", driver="no-such-device", id="x")
        t.ok(r["error"]["class"] == "GenericError", "unknown driver: %s" % r)
        r = c.cmd("device_del", id="nope")
        t.ok(r["error"]["class"] == "DeviceNotFound", "device_del of nothing: %s" % r)
        time.sleep(0.2)                     # let the other hart hammer it
        t.ok(c.cmd("device_del", id="t1") == {"return": {}, "id": "device_del"}, "device_del t1")
        e = c.deleted("t1")
        t.ok(e["data"]["path"] == "/machine/peripheral/t1", "DEVICE_DELETED %s" % e["data"])
        t.ok(vm.until("slot 0: ejected, the slot is empty again"),
             "after the eject write the slot read empty: %r" % vm.text()[-200:])
        t.ok(c.cmd("device_del", id="t1")["error"]["class"] == "DeviceNotFound",
             "t1 is gone for good")
        start_t = time.time()
        for i in range(cycles):
            dev = "c%d" % i
            r = c.cmd("device_add", driver="parvm-testdev", id=dev, slot=i % 8)
            if "error" in r:
                break
            c.cmd("device_del", id=dev)
            c.deleted(dev)
        dt = time.time() - start_t
        t.ok(i == cycles - 1 and "error" not in r, "%d device_add/device_del cycles "
             "(%.1f ms each, request to DEVICE_DELETED)" % (cycles, 1000 * dt / max(cycles, 1)))
        t.ok("STILL THERE" not in vm.text() and "unexpected" not in vm.text(),
             "every eject left an empty slot")
        t.ok(c.cmd("query-status")["return"]["status"] == "running", "the guest still runs")
        c.cmd("quit")
        t.ok(vm.p.wait(timeout=20) == 0, "quit")
    finally:
        vm.close()

    vm, c = start(d, ignoring_elf, [",hotplug-timeout=300"])
    try:
        t.ok(vm.until("hotplug driver ready"), "ignoring guest up")
        c.cmd("device_add", driver="parvm-testdev", id="stuck")
        t.ok(vm.until("testdev plugged"), "plugged")
        t0 = time.time()
        t.ok(c.cmd("device_del", id="stuck") == {"return": {}, "id": "device_del"}, "device_del")
        r = c.cmd("device_del", id="stuck")
        t.ok(r["error"]["class"] == "GenericError" and "process of unplug" in r["error"]["desc"],
             "device_del while pending: %s" % r)
        r = c.cmd("device_add", driver="parvm-testdev", id="stuck")
        t.ok("error" in r, "device_add reusing a pending id: %s" % r)
        c.deleted("stuck")
        waited = time.time() - t0
        t.ok(waited >= 0.25, "forced removal after the timeout (%.2f s)" % waited)
        t.ok(c.cmd("device_add", driver="parvm-testdev", id="stuck")["return"] == {},
             "the id is free again")
        c.cmd("quit")
        t.ok(vm.p.wait(timeout=20) == 0, "quit")
    finally:
        vm.close()
t.done()
