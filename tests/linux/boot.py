#!/usr/bin/env python3
"""Boot the Linux guest (scripts/build-linux-guest.sh) on an emulator and
drive its serial console like a user would.

Checks, in order, on one emulator process:
  1. the guest reaches its shell; init's banner and `nproc` report -smp CPUs;
  2. udhcpc gets an address through the user network backend;
  3. a TCP connection from the guest reaches a host service through the
     backend's gateway (10.0.2.2);
  4. a TCP connection from the host reaches a guest service through hostfwd;
  5. /dev/vda (virtio-blk) takes an ext2 filesystem and a file;
  6. `reboot` restarts the guest inside the same emulator process and the
     file reads back from /dev/vda;
  7. `poweroff` makes the emulator exit with status 0.
Prints the time from starting the emulator to the first prompt (and to the
prompt after the reboot).

Usage:
  tests/linux/boot.py [--preset qemu|parvm] [--smp N] [options]
  tests/linux/boot.py [options] -- EMULATOR ARG...
The command after `--` replaces the preset; in it, {kernel} {initrd}
{append} {smp} {disk} {fwd_port} are replaced by the guest's Image,
initramfs, kernel command line, CPU count, a scratch raw disk image and the
host port forwarded to the guest's TCP port 23. The command must give the
guest a virtio-net device on a user backend forwarding {fwd_port} to guest
port 23, and a virtio-blk device on {disk}; the serial console must be the
emulator's stdin/stdout.

Timeouts only detect a hung guest (generous, scaled by --timeout-scale);
nothing here asserts on how fast the guest is.
"""

import argparse
import os
import re
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
PROMPT = "parvm# "
BANNER = re.compile(r"parvm-linux: init up, (\d+) cpus")

COMMON_ARGS = [
    "-machine", "virt", "-smp", "{smp}", "-m", "256M", "-nographic",
    "-kernel", "{kernel}", "-initrd", "{initrd}", "-append", "{append}",
    "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:{fwd_port}-:23",
    "-device", "virtio-net-device,netdev=n0",
    "-drive", "file={disk},format=raw,if=none,id=d0",
    "-device", "virtio-blk-device,drive=d0",
]
PRESETS = {
    # QEMU 7.2 loads a raw binary firmware at the start of RAM; fw_jump.bin
    # jumps to the kernel at RAM + 2 MiB where -kernel put it.
    "qemu": ["qemu-system-riscv64", "-bios", OPENSBI] + COMMON_ARGS,
    "parvm": [os.path.join(ROOT, "build", "src", "parvm"), "-bios", "default"] + COMMON_ARGS,
}


class TestFailure(Exception):
    pass


class Console:
    """The emulator process and its serial console (stdin/stdout pipes)."""

    def __init__(self, argv, log, echo):
        self.log = log
        self.echo = echo
        self.buf = ""      # everything the console printed, latin-1 decoded
        self.pos = 0       # expect() searches from here
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        self.seq = 0

    def _read(self, deadline):
        """Reads what the console has, waiting until deadline; False at EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        ready, _, _ = select.select([self.proc.stdout], [], [], left)
        if not ready:
            return True
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return False
        text = data.decode("latin-1")
        self.buf += text
        self.log.write(text)
        self.log.flush()
        if self.echo:
            sys.stderr.write(text)
            sys.stderr.flush()
        return True

    def expect(self, pattern, timeout, what):
        """Waits for pattern (regex or str) after the last match; returns
        the match and moves past it."""
        rx = re.compile(re.escape(pattern) if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            if time.monotonic() >= deadline:
                raise TestFailure(f"timed out after {timeout:.0f}s waiting for {what}")
            if not self._read(deadline):
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise TestFailure(f"emulator exited (status {self.proc.wait()}) "
                                  f"while waiting for {what}")

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def run(self, cmd, timeout, check=True):
        """Runs cmd in the guest shell; returns (status, output). The
        markers are built by the shell (quotes, $?) so the echo of the
        typed line never matches them."""
        self.seq += 1
        b, e = f"@B{self.seq}@", f"@E{self.seq}@"
        sep = " " if cmd.rstrip().endswith("&") else "; "
        self.send(f"echo '{b[:2]}''{b[2:]}'; {cmd}{sep}echo '{e}'$?'@'\n")
        self.expect(b + "\r\n", timeout, f"start of `{cmd}`")
        start = self.pos
        m = self.expect(re.compile(re.escape(e) + r"(\d+)@"), timeout, f"end of `{cmd}`")
        out = self.buf[start:m.start()].replace("\r\n", "\n")
        status = int(m.group(1))
        self.expect(PROMPT, timeout, f"prompt after `{cmd}`")
        if check and status != 0:
            raise TestFailure(f"`{cmd}` exited {status}: {out!r}")
        return status, out

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            if time.monotonic() >= deadline:
                raise TestFailure(f"emulator still running {timeout:.0f}s after poweroff")
        return self.proc.wait()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class HostService(threading.Thread):
    """A TCP service on the host's loopback: reads what the client sends
    until it shuts down its side, then answers and closes."""

    def __init__(self, reply):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.received = None
        self.start()

    def run(self):
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            self.received = data.decode("latin-1")
            conn.sendall(self.reply.encode())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_to_guest(port, message, timeout):
    """Connects to the forwarded port until the guest's listener answers;
    the backend accepts on the host even before the guest listens, and then
    closes without data, so an empty answer means "try again"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
                s.sendall(message.encode())
                s.shutdown(socket.SHUT_WR)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    return data.decode("latin-1")
        except OSError:
            pass
        time.sleep(0.5)
    raise TestFailure(f"no answer through hostfwd on port {port} within {timeout:.0f}s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="qemu")
    ap.add_argument("--parvm", help="the parvm binary for --preset parvm "
                    "(default: build/src/parvm)")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--guest", default=os.path.join(os.environ.get("PARVM_CACHE", "/var/cache/parvm"),
                                                    "linux-guest"),
                    help="folder with Image and initramfs.cpio.gz")
    ap.add_argument("--append", default="console=ttyS0 earlycon=sbi")
    ap.add_argument("--timeout-scale", type=float, default=1.0,
                    help="multiply every hang-detection timeout (slow emulators)")
    ap.add_argument("--log", help="write the whole console here (default: a temp file)")
    ap.add_argument("-v", "--verbose", action="store_true", help="echo the console to stderr")
    ap.add_argument("command", nargs="*", help="emulator and arguments (after --)")
    args = ap.parse_args()

    t_boot = 300 * args.timeout_scale
    t_cmd = 120 * args.timeout_scale
    kernel = os.path.join(args.guest, "Image")
    initrd = os.path.join(args.guest, "initramfs.cpio.gz")
    for f in (kernel, initrd):
        if not os.path.isfile(f):
            print(f"boot.py: {f} missing: run scripts/build-linux-guest.sh first", file=sys.stderr)
            return 2

    tmp = tempfile.mkdtemp(prefix="parvm-linux-")
    disk = os.path.join(tmp, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    fwd_port = free_port()
    subst = {"{kernel}": kernel, "{initrd}": initrd, "{append}": args.append,
             "{smp}": str(args.smp), "{disk}": disk, "{fwd_port}": str(fwd_port)}
    argv = []
    preset = list(PRESETS[args.preset])
    if args.parvm and args.preset == "parvm":
        preset[0] = args.parvm
    for a in (args.command or preset):
        for k, v in subst.items():
            a = a.replace(k, v)
        argv.append(a)

    log_path = args.log or os.path.join(tmp, "console.log")
    log = open(log_path, "w", encoding="latin-1")
    print("boot.py: " + " ".join(argv), flush=True)
    con = None
    ok = False
    try:
        t0 = time.monotonic()
        con = Console(argv, log, args.verbose)

        def step(name):
            print(f"boot.py: {name}", flush=True)

        step("boot to the shell")
        m = con.expect(BANNER, t_boot, "init's banner")
        if int(m.group(1)) != args.smp:
            raise TestFailure(f"init saw {m.group(1)} CPUs, -smp is {args.smp}")
        con.expect(PROMPT, t_boot, "the first prompt")
        boot_s = time.monotonic() - t0
        print(f"boot.py: boot to prompt: {boot_s:.2f}s", flush=True)
        con.run("dmesg -n 1", t_cmd)   # kernel messages would interleave with output

        step("CPUs")
        _, out = con.run("nproc; grep -c ^processor /proc/cpuinfo", t_cmd)
        if out.split() != [str(args.smp)] * 2:
            raise TestFailure(f"nproc/cpuinfo say {out.split()}, -smp is {args.smp}")

        step("DHCP through the user backend")
        con.run("udhcpc -i eth0 -n -q -t 10", t_cmd)
        _, out = con.run("ip -4 addr show dev eth0; ip route", t_cmd)
        m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
        if not m or "default via 10.0.2.2" not in out:
            raise TestFailure(f"no address or default route after udhcpc: {out!r}")
        print(f"boot.py: guest address {m.group(1)}", flush=True)

        step("TCP from the guest to a host service via 10.0.2.2")
        svc = HostService("hello-from-host\n")
        _, out = con.run(f"echo hello-from-guest | nc 10.0.2.2 {svc.port}", t_cmd)
        svc.join(t_cmd)
        if "hello-from-host" not in out or svc.received != "hello-from-guest\n":
            raise TestFailure(f"guest->host: guest got {out!r}, host got {svc.received!r}")

        step("TCP from the host into the guest via hostfwd")
        con.run("(echo pong-from-guest | nc -l -p 23 > /tmp/got) &", t_cmd)
        answer = host_to_guest(fwd_port, "ping-from-host\n", t_cmd)
        _, out = con.run("wait; cat /tmp/got", t_cmd)
        if "pong-from-guest" not in answer or "ping-from-host" not in out:
            raise TestFailure(f"host->guest: host got {answer!r}, guest got {out!r}")

        step("ext2 on /dev/vda")
        token = secrets.token_hex(8)
        con.run("test -b /dev/vda && mkfs.ext2 /dev/vda >/dev/null && mkdir -p /mnt/d"
                " && mount -t ext2 /dev/vda /mnt/d", t_cmd)
        con.run(f"echo {token} > /mnt/d/token && sync && cat /mnt/d/token", t_cmd)

        step("reboot")
        t1 = time.monotonic()
        con.send("reboot\n")
        con.expect(BANNER, t_boot, "init's banner after reboot")
        con.expect(PROMPT, t_boot, "the prompt after reboot")
        print(f"boot.py: reboot to prompt: {time.monotonic() - t1:.2f}s", flush=True)
        con.run("dmesg -n 1", t_cmd)
        _, out = con.run("mkdir -p /mnt/d && mount -t ext2 /dev/vda /mnt/d && cat /mnt/d/token",
                         t_cmd)
        if out.strip() != token:
            raise TestFailure(f"after reboot /mnt/d/token holds {out!r}, wrote {token}")
        con.run("umount /mnt/d", t_cmd)

        step("poweroff")
        con.send("poweroff\n")
        status = con.wait_exit(t_cmd)
        if status != 0:
            raise TestFailure(f"emulator exited with status {status} after poweroff")
        ok = True
        print(f"boot.py: PASS (smp {args.smp}, boot to prompt {boot_s:.2f}s, "
              f"total {time.monotonic() - t0:.2f}s)", flush=True)
    except TestFailure as e:
        print(f"boot.py: FAIL: {e}", file=sys.stderr)
        if con:
            print("---- console (last 4000 characters) ----\n" + con.buf[-4000:] +
                  "\n----", file=sys.stderr)
        print(f"boot.py: console log: {log_path}", file=sys.stderr)
    finally:
        if con:
            con.kill()
        log.close()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
