#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The QMP monitor on the real board: parvm runs a spinning guest under
-S -qmp unix:...,server=on,wait=off; a client drives it as a QEMU script
would (capabilities, query-status, cont, stop, query-cpus-fast,
x-query-sync-profile, system_reset, quit) and checks replies and events.
Usage: qmp-board.py PARVM SPIN_ELF"""
import json, os, select, socket, subprocess, sys, tempfile, time

parvm, elf = sys.argv[1], sys.argv[2]
n = 0
fails = 0


def ok(cond, what):
    global n, fails
    n += 1
    print(("ok" if cond else "not ok"), n, "-", what, flush=True)
    if not cond:
        fails += 1


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        deadline = time.time() + 10
        while True:
            try:
                self.s.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.02)
        self.f = self.s.makefile("rb")
        self.events = []

    def recv(self):
        self.s.settimeout(10)
        line = self.f.readline()
        if not line:
            raise EOFError("monitor closed the connection")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name, "id": name}
        if args:
            msg["arguments"] = args
        self.s.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self.recv()
            if "event" in r:
                self.events.append(r)
            else:
                return r

    def event(self, name):
        for i, e in enumerate(self.events):
            if e["event"] == name:
                return self.events.pop(i)
        while True:
            e = self.recv()
            if e.get("event") == name:
                return e
            self.events.append(e)


console = b""


def console_until(count, text, timeout=20):
    """Read the guest's console until @text appeared @count times."""
    global console
    deadline = time.time() + timeout
    while console.decode(errors="replace").count(text) < count and time.time() < deadline:
        r, _, _ = select.select([vm.stdout], [], [], 0.1)
        if r:
            chunk = os.read(vm.stdout.fileno(), 4096)
            if not chunk:
                break
            console += chunk
    return console.decode(errors="replace").count(text) >= count


with tempfile.TemporaryDirectory() as d:
    sock = os.path.join(d, "qmp.sock")
    vm = subprocess.Popen([parvm, "-machine", "virt", "-smp", "2", "-m", "128M",
                           "-bios", "none", "-kernel", elf, "-nographic", "-S",
                           "-qmp", "unix:%s,server=on,wait=off" % sock],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    try:
        c = Client(sock)
        g = c.recv()
        ok("QMP" in g and "qemu" in g["QMP"]["version"] and g["QMP"]["capabilities"] == [],
           "greeting %s" % json.dumps(g))
        r = c.cmd("query-status")
        ok(r.get("error", {}).get("class") == "CommandNotFound", "capabilities first: %s" % r)
        ok(c.cmd("qmp_capabilities") == {"return": {}, "id": "qmp_capabilities"}, "qmp_capabilities")
        r = c.cmd("query-status")["return"]
        ok(r["status"] == "prelaunch" and r["running"] is False, "-S: %s" % r)
        r = c.cmd("cont")
        ok(r == {"return": {}, "id": "cont"}, "cont")
        e = c.event("RESUME")
        ok("timestamp" in e and "seconds" in e["timestamp"], "RESUME event %s" % e)
        ok(c.cmd("query-status")["return"]["status"] == "running", "running")
        time.sleep(0.2)
        r = c.cmd("stop")
        ok(r == {"return": {}, "id": "stop"}, "stop")
        c.event("STOP")
        ok(c.cmd("query-status")["return"] == {"running": False, "singlestep": False,
                                               "status": "paused"}, "paused")
        cpus = c.cmd("query-cpus-fast")["return"]
        ok(len(cpus) == 2 and [x["cpu-index"] for x in cpus] == [0, 1] and
           all(x["thread-id"] > 0 and x["target"] == "riscv64" for x in cpus),
           "query-cpus-fast %s" % cpus)
        prof = c.cmd("x-query-sync-profile")["return"]
        ok(len(prof) > 0 and all({"class", "site", "acquisitions", "contended", "wait-ns",
                                  "hold-ns"} <= set(p) for p in prof),
           "x-query-sync-profile: %d sites" % len(prof))
        ok(c.cmd("stop") == {"return": {}, "id": "stop"}, "stop when paused")
        ok(c.cmd("cont") == {"return": {}, "id": "cont"}, "cont again")
        c.event("RESUME")
        ok(c.cmd("system_reset") == {"return": {}, "id": "system_reset"}, "system_reset")
        e = c.event("RESET")
        ok(e["data"] == {"guest": False, "reason": "host-qmp-system-reset"}, "RESET %s" % e)
        ok(console_until(2, "hart 0 up") and console_until(2, "hart 1 up"),
           "harts came up, and again after the reset: %r" % console)
        r = c.cmd("no-such-command")
        ok(r["error"]["class"] == "CommandNotFound" and r["id"] == "no-such-command",
           "unknown command")
        ok(c.cmd("quit") == {"return": {}, "id": "quit"}, "quit")
        e = c.event("SHUTDOWN")
        ok(e["data"] == {"guest": False, "reason": "host-qmp-quit"}, "SHUTDOWN %s" % e)
        rc = vm.wait(timeout=20)
        ok(rc == 0, "parvm exits 0 after quit (got %s)" % rc)
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()

print("1..%d" % n)
sys.exit(1 if fails else 0)
