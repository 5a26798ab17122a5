#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""virtio-net end to end: the bare-metal driver (programs/virtio-net.c) with
this script as the host end of a -netdev dgram (unix) wire.

The guest sends TX_FRAMES UDP-in-ethernet frames: each must be exactly the
frame the guest builds (checked byte for byte, in order).  Then the peer
sends ECHO_FRAMES frames numbered 0.. and the guest echoes each one: the
echoes must come back unchanged and in order.  parvm runs once per receive
flow (rx-flow=trylock|queue|notify) and once with -accel
parvm,global-lock=all; where qemu-system-riscv64 is installed the same
guest runs there too (-global virtio-mmio.force-legacy=false, the same
-netdev) and must print the same.

Usage: virtio-net-peer.py PARVM ELF   (TAP output)
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

TX_FRAMES = 64
ECHO_FRAMES = 64
GUEST_MAC = bytes.fromhex('525400123456')
HOST_MAC = bytes.fromhex('52550a000202')
LIMIT = 120


def guest_frame(seq):
    """What programs/virtio-net.c's build_frame() sends."""
    plen = 64 + seq * 11
    tag = b'parvm-net tx %04d' % seq
    payload = bytearray(tag) + bytes((seq * 7 + n) & 0xff for n in range(len(tag), plen))
    udp = (1234).to_bytes(2, 'big') + (5555).to_bytes(2, 'big') + \
        (8 + plen).to_bytes(2, 'big') + b'\0\0'
    ip = bytearray([0x45, 0]) + (20 + 8 + plen).to_bytes(2, 'big') + \
        seq.to_bytes(2, 'big') + bytes([0, 0, 64, 17, 0, 0, 10, 0, 2, 15, 10, 0, 2, 2])
    s = sum(int.from_bytes(ip[i:i + 2], 'big') for i in range(0, 20, 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    ip[10:12] = (~s & 0xffff).to_bytes(2, 'big')
    return HOST_MAC + GUEST_MAC + b'\x08\x00' + bytes(ip) + udp + bytes(payload)


def echo_frame(seq):
    n = 60 + (seq * 37) % 1400
    body = bytes((seq + i) & 0xff for i in range(n - 18))
    return GUEST_MAC + HOST_MAC + b'\x88\xb5' + seq.to_bytes(4, 'big') + body


def run(cmd, tmp):
    """Start @cmd (its -netdev points at tmp/dev.sock, tmp/host.sock), play
    the peer.  Returns (guest stdout, exit status, list of problems)."""
    host = os.path.join(tmp, 'host.sock')
    dev = os.path.join(tmp, 'dev.sock')
    for p in (host, dev):
        if os.path.exists(p):
            os.unlink(p)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(host)
    s.settimeout(LIMIT)
    problems = []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for i in range(TX_FRAMES):
            f = s.recv(65536)
            if f != guest_frame(i):
                problems.append('guest frame %d differs (len %d, want %d)'
                                % (i, len(f), len(guest_frame(i))))
                break

        def sender():
            for i in range(ECHO_FRAMES):
                s.sendto(echo_frame(i), dev)
        t = threading.Thread(target=sender)
        t.start()
        for i in range(ECHO_FRAMES):
            f = s.recv(65536)
            if f != echo_frame(i):
                problems.append('echo %d differs (len %d, seq %s)'
                                % (i, len(f), f[14:18].hex()))
                break
        t.join()
    except (socket.timeout, OSError) as e:
        problems.append('peer: %s' % e)
    try:
        out, err = proc.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        problems.append('timed out')
    s.close()
    out = out.decode(errors='replace')
    err = err.decode(errors='replace')
    if err.strip():
        problems.append('stderr: ' + err.strip().splitlines()[0])
    if proc.returncode != 0 or 'all checks passed' not in out:
        problems.append('guest exit %d' % proc.returncode)
    return out, proc.returncode, problems


def main():
    parvm, elf = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix='parvm-net-')
    netdev = ('dgram,id=n0,local.type=unix,local.path=%s/dev.sock,'
              'remote.type=unix,remote.path=%s/host.sock' % (tmp, tmp))
    base = ['-machine', 'virt', '-smp', '1', '-m', '128M', '-bios', 'none', '-kernel', elf,
            '-nographic', '-device', 'virtio-net-device,netdev=n0']
    cases = [('parvm rx-flow=' + f, [parvm] + base + ['-netdev', netdev + ',rx-flow=' + f])
             for f in ('trylock', 'queue', 'notify')]
    cases.append(('parvm global-lock=all',
                  [parvm] + base + ['-netdev', netdev, '-accel', 'parvm,global-lock=all']))
    qemu = shutil.which('qemu-system-riscv64')
    if qemu:
        cases.append(('qemu-system-riscv64',
                      [qemu] + base + ['-netdev', netdev,
                                       '-global', 'virtio-mmio.force-legacy=false']))
    print('1..%d' % len(cases))
    first = None
    fails = 0
    try:
        for n, (name, cmd) in enumerate(cases, 1):
            out, rc, problems = run(cmd, tmp)
            if first is None:
                first = (out, rc)
                for line in out.splitlines():
                    print('# ' + line)
            elif (out, rc) != first:
                problems.append('output or exit status differs from parvm rx-flow=trylock')
                for line in out.splitlines():
                    print('# ' + line)
            if problems:
                fails += 1
                print('not ok %d - %s: %s' % (n, name, '; '.join(problems)))
            else:
                print('ok %d - %s' % (n, name))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not qemu:
        print('# qemu-system-riscv64 not installed: parvm only')
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
