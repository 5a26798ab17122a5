#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""virtio-net throughput, side by side in one run: the test guest built with
-DBENCH_NET (build/bench/bench-net-LEN.elf) sends 100000 frames, then
receives 100000 frames, over -netdev dgram (unix: flow-controlled, so
nothing is lost and the rates are real).  The host end times both phases.
Rows: parvm per receive flow, parvm with -accel parvm,global-lock=all, and
qemu-system-riscv64 where installed; ratios against QEMU.  Each row is the
best of --runs runs (interference on a shared machine only slows a run).

Usage: bench/net/run.py [--runs N] PARVM BUILD_DIR
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

N = 100000


def one(cmd, tmp, flen):
    host, dev = os.path.join(tmp, 'host.sock'), os.path.join(tmp, 'dev.sock')
    for p in (host, dev):
        if os.path.exists(p):
            os.unlink(p)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(host)
    s.settimeout(120)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        s.recv(65536)
        t0 = time.perf_counter()
        for _ in range(N - 1):
            s.recv(65536)
        tx = time.perf_counter() - t0
        frame = bytes.fromhex('525400123456') + bytes.fromhex('52550a000202') + \
            b'\x88\xb5' + bytes(flen - 14)

        def sender():
            for _ in range(N):
                s.sendto(frame, dev)
        t0 = time.perf_counter()
        t = threading.Thread(target=sender)
        t.start()
        s.recv(65536)                   # the guest's "done"
        rx = time.perf_counter() - t0
        t.join()
    finally:
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        s.close()
    return tx, rx


def main():
    args = sys.argv[1:]
    runs = 3
    if args[:1] == ['--runs']:
        runs = int(args[1])
        args = args[2:]
    parvm, build = args
    tmp = tempfile.mkdtemp(prefix='parvm-bench-net-')
    netdev = ('dgram,id=n0,local.type=unix,local.path=%s/dev.sock,'
              'remote.type=unix,remote.path=%s/host.sock' % (tmp, tmp))
    qemu = shutil.which('qemu-system-riscv64')
    try:
        for flen in (64, 1514):
            elf = os.path.join(build, 'bench', 'bench-net-%d.elf' % flen)
            base = ['-machine', 'virt', '-smp', '1', '-m', '128M', '-bios', 'none',
                    '-kernel', elf, '-nographic', '-device', 'virtio-net-device,netdev=n0']
            rows = [('parvm rx-flow=' + f, [parvm] + base + ['-netdev', netdev + ',rx-flow=' + f])
                    for f in ('trylock', 'queue', 'notify')]
            rows.append(('parvm global-lock=all',
                         [parvm] + base + ['-netdev', netdev, '-accel', 'parvm,global-lock=all']))
            if qemu:
                rows.append(('qemu-system-riscv64', [qemu] + base + [
                    '-netdev', netdev, '-global', 'virtio-mmio.force-legacy=false']))
            res = {}
            for name, cmd in rows:
                best = None
                for _ in range(runs):
                    tx, rx = one(cmd, tmp, flen)
                    best = (tx, rx) if best is None else (min(best[0], tx), min(best[1], rx))
                res[name] = best
            print('%d-byte frames, %d each way (best of %d):' % (flen, N, runs))
            print('  %-24s %12s %10s %12s %10s' % ('', 'guest->host', 'Mbit/s', 'host->guest',
                                                   'Mbit/s'))
            q = res.get('qemu-system-riscv64')
            for name, (tx, rx) in res.items():
                line = '  %-24s %9.0f p/s %10.1f %9.0f p/s %10.1f' % (
                    name, N / tx, N * flen * 8 / tx / 1e6, N / rx, N * flen * 8 / rx / 1e6)
                if q and name != 'qemu-system-riscv64':
                    line += '   x%.2f / x%.2f vs QEMU' % (q[0] / tx, q[1] / rx)
                print(line)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
