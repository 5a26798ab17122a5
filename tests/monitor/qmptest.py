# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for the whole-board monitor tests: a QMP client as a QEMU script
would use it, TAP output, and the guest's console read as it comes."""
import json, os, select, socket, subprocess, sys, time


class Tap:
    def __init__(self):
        self.n = 0
        self.fails = 0

    def ok(self, cond, what):
        self.n += 1
        print(("ok" if cond else "not ok"), self.n, "-", what, flush=True)
        if not cond:
            self.fails += 1
        return cond

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.fails else 0)


class Client:
    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX)
        deadline = time.time() + timeout
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
        self.s.settimeout(timeout)

    def recv(self):
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

    def event(self, name, match=None):
        for i, e in enumerate(self.events):
            if e["event"] == name and (match is None or match(e)):
                return self.events.pop(i)
        while True:
            e = self.recv()
            if e.get("event") == name and (match is None or match(e)):
                return e
            self.events.append(e)

    def deleted(self, dev):
        """Wait for DEVICE_DELETED of @dev (other events are kept)."""
        return self.event("DEVICE_DELETED", lambda e: e["data"]["device"] == dev)


def forced_removal(t, c, dev, at_least):
    """device_del of @dev on a guest that ignores the request: answered at
    once, DEVICE_DELETED only after the hotplug-timeout (@at_least s)."""
    t0 = time.time()
    t.ok(c.cmd("device_del", id=dev) == {"return": {}, "id": "device_del"}, "device_del")
    c.deleted(dev)
    waited = time.time() - t0
    t.ok(waited >= at_least, "forced removal after the timeout (%.2f s)" % waited)


class Vm:
    """parvm (or any QEMU-like binary) with a QMP socket; the console is
    read as it comes."""

    def __init__(self, argv, sock):
        self.p = subprocess.Popen(argv + ["-qmp", "unix:%s,server=on,wait=off" % sock],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        self.console = b""

    def text(self):
        return self.console.decode(errors="replace")

    def until(self, text, count=1, timeout=20):
        deadline = time.time() + timeout
        while self.text().count(text) < count and time.time() < deadline:
            r, _, _ = select.select([self.p.stdout], [], [], 0.1)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 4096)
                if not chunk:
                    break
                self.console += chunk
        return self.text().count(text) >= count

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
