#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The QMP monitor on the real board: parvm runs a spinning guest under
-S -qmp unix:...,server=on,wait=off; a client drives it as a QEMU script
would (capabilities, query-status, cont, stop, query-cpus-fast,
x-query-sync-profile, system_reset, quit) and checks replies and events.
Usage: qmp-board.py PARVM SPIN_ELF"""
import json, os, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmptest import Client, Tap, Vm

parvm, elf = sys.argv[1], sys.argv[2]
t = Tap()

with tempfile.TemporaryDirectory() as d:
    sock = os.path.join(d, "qmp.sock")
    vm = Vm([parvm, "-machine", "virt", "-smp", "2", "-m", "128M", "-bios", "none",
             "-kernel", elf, "-nographic", "-S"], sock)
    try:
        c = Client(sock)
        g = c.recv()
        t.ok("QMP" in g and "qemu" in g["QMP"]["version"] and g["QMP"]["capabilities"] == [],
             "greeting %s" % json.dumps(g))
        r = c.cmd("query-status")
        t.ok(r.get("error", {}).get("class") == "CommandNotFound", "capabilities first: %s" % r)
        t.ok(c.cmd("qmp_capabilities") == {"return": {}, "id": "qmp_capabilities"},
             "qmp_capabilities")
        r = c.cmd("query-status")["return"]
        t.ok(r["status"] == "prelaunch" and r["running"] is False, "-S: %s" % r)
        t.ok(c.cmd("cont") == {"return": {}, "id": "cont"}, "cont")
        e = c.event("RESUME")
        t.ok("timestamp" in e and "seconds" in e["timestamp"], "RESUME event %s" % e)
        t.ok(c.cmd("query-status")["return"]["status"] == "running", "running")
        t.ok(vm.until("hart 0 up") and vm.until("hart 1 up"), "harts came up")
        t.ok(c.cmd("stop") == {"return": {}, "id": "stop"}, "stop")
        c.event("STOP")
        t.ok(c.cmd("query-status")["return"] == {"running": False, "singlestep": False,
                                                 "status": "paused"}, "paused")
        cpus = c.cmd("query-cpus-fast")["return"]
        t.ok(len(cpus) == 2 and [x["cpu-index"] for x in cpus] == [0, 1] and
             all(x["thread-id"] > 0 and x["target"] == "riscv64" for x in cpus),
             "query-cpus-fast %s" % cpus)
        prof = c.cmd("x-query-sync-profile")["return"]
        t.ok(len(prof) > 0 and all({"class", "site", "acquisitions", "contended", "wait-ns",
                                    "hold-ns"} <= set(p) for p in prof),
             "x-query-sync-profile: %d sites" % len(prof))
        t.ok(c.cmd("stop") == {"return": {}, "id": "stop"}, "stop when paused")
        t.ok(c.cmd("cont") == {"return": {}, "id": "cont"}, "cont again")
        c.event("RESUME")
        t.ok(c.cmd("system_reset") == {"return": {}, "id": "system_reset"}, "system_reset")
        e = c.event("RESET")
        t.ok(e["data"] == {"guest": False, "reason": "host-qmp-system-reset"}, "RESET %s" % e)
        t.ok(vm.until("hart 0 up", 2) and vm.until("hart 1 up", 2),
             "harts came up again after the reset: %r" % vm.text())
        # As QEMU: a reset while stopped leaves the machine in "prelaunch",
        # the harts parked at the reset vector until cont.
        t.ok(c.cmd("stop") == {"return": {}, "id": "stop"}, "stop before reset")
        c.event("STOP")
        ups = vm.text().count("hart 0 up")
        t.ok(c.cmd("system_reset") == {"return": {}, "id": "system_reset"}, "system_reset paused")
        c.event("RESET")
        r = c.cmd("query-status")["return"]
        t.ok(r["status"] == "prelaunch" and r["running"] is False,
             "reset while paused: prelaunch: %s" % r)
        t.ok(not vm.until("hart 0 up", ups + 1, 0.3), "no hart runs before cont")
        t.ok(c.cmd("cont") == {"return": {}, "id": "cont"}, "cont after reset")
        c.event("RESUME")
        t.ok(c.cmd("query-status")["return"]["status"] == "running", "running after cont")
        t.ok(vm.until("hart 0 up", ups + 1, 5), "harts run again after cont")
        r = c.cmd("no-such-command")
        t.ok(r["error"]["class"] == "CommandNotFound" and r["id"] == "no-such-command",
             "unknown command")
        t.ok(c.cmd("quit") == {"return": {}, "id": "quit"}, "quit")
        e = c.event("SHUTDOWN")
        t.ok(e["data"] == {"guest": False, "reason": "host-qmp-quit"}, "SHUTDOWN %s" % e)
        rc = vm.p.wait(timeout=20)
        t.ok(rc == 0, "parvm exits 0 after quit (got %s)" % rc)
    finally:
        vm.close()

    # SIGTERM ends the machine cleanly, as QEMU: SHUTDOWN host-signal, exit 0.
    sock2 = os.path.join(d, "qmp2.sock")
    vm = Vm([parvm, "-machine", "virt", "-smp", "2", "-m", "128M", "-bios", "none",
             "-kernel", elf, "-nographic"], sock2)
    try:
        c = Client(sock2)
        c.recv()
        c.cmd("qmp_capabilities")
        t.ok(vm.until("hart 1 up"), "running")
        vm.p.terminate()
        e = c.event("SHUTDOWN")
        t.ok(e["data"] == {"guest": False, "reason": "host-signal"}, "SIGTERM: %s" % e)
        rc = vm.p.wait(timeout=20)
        t.ok(rc == 0, "parvm exits 0 after SIGTERM (got %s)" % rc)
    finally:
        vm.close()
t.done()
