#!/usr/bin/env bash
# virtio-blk end to end: the bare-metal driver (programs/virtio-blk.c) on a
# read-write and a read-only raw disk.  parvm must print "all checks
# passed", the read-write image must hold the sectors the guest wrote, and
# qemu-system-riscv64 (with modern virtio-mmio) must print the same and exit
# the same.  Usage: virtio-blk.sh PARVM ELF [aio]
set -u
parvm=$1 elf=$2 aio=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
limit=60

# The read-only disk already holds the pattern of every sector the guest
# reads: byte i of sector S is (S * 7 + i) & 0xff.
mkimages() {
  truncate -s 4M "$tmp/rw.img"
  python3 - "$tmp/ro.img" <<'PY'
import sys
img = bytearray(1 << 20)
for s in [0, 1, 7, 100] + list(range(10, 18)):
    img[s * 512:(s + 1) * 512] = bytes((s * 7 + i) & 0xff for i in range(512))
open(sys.argv[1], 'wb').write(img)
PY
}

args() {
  local extra=${aio:+,aio=$aio}
  echo -machine virt -smp 1 -m 128M -bios none -kernel "$elf" -nographic \
    -drive "file=$tmp/rw.img,format=raw,if=none,id=disk0$extra" \
    -device virtio-blk-device,drive=disk0,serial=parvm-serial-0123456789 \
    -drive "file=$tmp/ro.img,format=raw,if=none,id=disk1,readonly=on$extra" \
    -device virtio-blk-device,drive=disk1,serial=ro-disk
}

mkimages
# shellcheck disable=SC2046
out_p=$(timeout "$limit" "$parvm" $(args) 2>"$tmp/stderr")
rc_p=$?
printf '%s\n' "$out_p"
# stderr: only the guest errors the bad requests are logged as.
if grep -v "guest error" "$tmp/stderr"; then
  echo "FAIL: unexpected messages on stderr"
  exit 1
fi
sed 's/^/stderr: /' "$tmp/stderr"
fails=0
if [ "$rc_p" -ne 0 ] || ! grep -q "all checks passed" <<<"$out_p"; then
  echo "FAIL: parvm exit $rc_p"
  fails=1
fi
# The host file: the pattern where the guest wrote (sector 1 was zeroed and
# rewritten), zeros elsewhere; the read-only image untouched.
python3 - "$tmp/rw.img" "$tmp/ro.img" <<'PY' || fails=1
import sys
img = open(sys.argv[1], 'rb').read()
bad = []
written = [0, 1, 7, 100] + list(range(10, 18))
for s in range(len(img) // 512):
    want = bytes((s * 7 + i) & 0xff for i in range(512)) if s in written else bytes(512)
    if img[s * 512:(s + 1) * 512] != want:
        bad.append(s)
ro = open(sys.argv[2], 'rb').read()
if ro[:512] != bytes((i) & 0xff for i in range(512)):
    bad.append('ro:0')
if bad:
    print('FAIL: disk image sectors differ from what the guest wrote:', bad[:10])
    sys.exit(1)
print('disk image: the written sectors hold the pattern, the rest is zero')
PY
[ "$fails" -eq 0 ] || exit 1

if ! command -v qemu-system-riscv64 >/dev/null; then
  echo "qemu-system-riscv64 not installed: parvm only"
  exit 0
fi
rm -f "$tmp/rw.img" "$tmp/ro.img"
mkimages
aio=                    # QEMU's default
# shellcheck disable=SC2046
out_q=$(timeout "$limit" qemu-system-riscv64 $(args) -global virtio-mmio.force-legacy=false 2>&1)
rc_q=$?
if [ "$rc_p" -eq "$rc_q" ] && [ "$out_p" == "$out_q" ]; then
  echo "same output and exit status ($rc_p) as qemu-system-riscv64"
  exit 0
fi
echo "qemu-system-riscv64 (exit $rc_q):"
printf '%s\n' "$out_q" | tail -40
diff <(printf '%s\n' "$out_p") <(printf '%s\n' "$out_q") | head -20
exit 1
