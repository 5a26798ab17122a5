#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hot-unplug of virtio-net with traffic in flight (S9 with a real device):
a host peer floods the guest over -netdev dgram (unix) and drains what it
sends, while the guest (tests/guest/programs/virtio-net-unplug.c) keeps
transmitting and keeps receive buffers posted.  device_del: the guest
ejects with frames still moving; when the store returns the slot reads as
an empty transport and the used rings stay put; DEVICE_DELETED follows;
device_add on the same netdev (netdevs outlive devices) brings a new device
the guest drives again -- CYCLES times.  Then the forced removal: the
guest ignores the request, hotplug-timeout is short.  parvm exits cleanly
each time (under ASan/TSan: no use after free, no race).
Usage: hotplug-net.py PARVM UNPLUG_ELF IGNORING_ELF CYCLES"""
import os, socket, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmptest import Client, Tap, Vm, forced_removal

parvm, elf, ignoring_elf, cycles = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t = Tap()
GUEST_MAC = bytes.fromhex("525400123456")
HOST_MAC = bytes.fromhex("52550a000202")


class Peer:
    """The host end of the wire: floods the device's socket (dropping what
    does not fit: nobody reads while no device is attached) and drains the
    guest's frames."""

    def __init__(self, d):
        self.dev = os.path.join(d, "dev.sock")
        host = os.path.join(d, "host.sock")
        for p in (self.dev, host):
            if os.path.exists(p):
                os.unlink(p)
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(host)
        self.s.setblocking(False)
        self.stop = False
        self.sent = self.received = 0
        self.th = threading.Thread(target=self.run)
        self.th.start()

    def run(self):
        seq = 0
        while not self.stop:
            busy = False
            try:
                n = 60 + (seq * 37) % 1400
                f = GUEST_MAC + HOST_MAC + b"\x88\xb5" + seq.to_bytes(4, "big")
                self.s.sendto(f + bytes((seq + i) & 0xff for i in range(n - len(f))), self.dev)
                self.sent += 1
                seq += 1
                busy = True
            except OSError:
                pass            # not there yet, or full: the flood goes on
            try:
                while True:
                    self.s.recv(65536)
                    self.received += 1
                    busy = True
            except OSError:
                pass
            if not busy:
                time.sleep(0.001)

    def close(self):
        self.stop = True
        self.th.join()
        self.s.close()


def start(d, guest, extra=""):
    sock = os.path.join(d, "qmp-%s.sock" % os.path.basename(guest))
    netdev = ("dgram,id=n0,local.type=unix,local.path=%s/dev.sock,"
              "remote.type=unix,remote.path=%s/host.sock" % (d, d))
    vm = Vm([parvm, "-machine", "virt" + extra, "-smp", "1", "-m", "128M",
             "-bios", "none", "-kernel", guest, "-nographic", "-netdev", netdev,
             "-device", "virtio-net-device,netdev=n0,id=net0"], sock)
    c = Client(sock)
    c.recv()
    c.cmd("qmp_capabilities")
    return vm, c



with tempfile.TemporaryDirectory() as d:
    peer = Peer(d)
    vm, c = start(d, elf)
    try:
        t.ok(vm.until("up 1\n"), "guest drives the device, traffic both ways")
        r = c.cmd("device_add", driver="virtio-net-device", id="x", netdev="n0")
        t.ok("it's in use" in r.get("error", {}).get("desc", ""),
             "device_add on the netdev in use: %s" % r)
        r = c.cmd("device_add", driver="virtio-net-device", id="x", netdev="nope")
        t.ok("can't find value 'nope'" in r.get("error", {}).get("desc", ""),
             "device_add on no netdev: %s" % r)
        bad = []
        for n in range(1, cycles + 1):
            dev = "net%d" % (n - 1)
            if n > 1:
                r = c.cmd("device_add", driver="virtio-net-device", id=dev, netdev="n0")
                if r != {"return": {}, "id": "device_add"}:
                    bad.append("cycle %d: device_add: %s" % (n, r))
                    break
                if not vm.until("up %d\n" % n):
                    bad.append("cycle %d: the guest did not drive the new device" % n)
                    break
            time.sleep(0.05)             # frames in flight both ways meanwhile
            r = c.cmd("device_del", id=dev)
            if r != {"return": {}, "id": "device_del"}:
                bad.append("cycle %d: device_del: %s" % (n, r))
                break
            c.deleted(dev)
            if not vm.until("[done]", count=n):
                bad.append("cycle %d: no report from the guest" % n)
                break
        t.ok(not bad, "%d device_add/device_del cycles on one netdev%s"
             % (cycles, ": " + "; ".join(bad) if bad else ""))
        out = vm.text()
        t.ok(out.count("; ejected, the slot is empty; nothing written after eject") == cycles
             and out.count(": frames moved both ways") == cycles,
             "every eject with traffic in flight left an empty slot and quiet rings: %r"
             % out[-400:])
        t.ok(vm.until("all cycles ok"), "guest: all cycles ok")
        t.ok(vm.p.wait(timeout=60) == 0, "guest powered off with success")
    finally:
        vm.close()

    vm, c = start(d, ignoring_elf, ",hotplug-timeout=300")
    try:
        t.ok(vm.until("up 1\n"), "ignoring guest drives the device")
        time.sleep(0.3)
        forced_removal(t, c, "net0", 0.25)
        t.ok(vm.until("after removal"), "guest: %r" % vm.text()[-300:])
        t.ok("frames moved both ways; the device was taken away while in use; nothing "
             "written after removal" in vm.text(), "nothing written after the forced removal")
        t.ok(vm.p.wait(timeout=60) == 0, "guest powered off with success")
    finally:
        vm.close()
    t.ok(peer.sent > 0 and peer.received > 0,
         "the peer sent %d and received %d frames" % (peer.sent, peer.received))
    peer.close()
t.done()
