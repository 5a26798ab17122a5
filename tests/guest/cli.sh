#!/usr/bin/env bash
# Bad input on the command line and in images: each case must end with a
# one-line error that names the problem and a non-zero exit, never a crash.
# Usage: cli.sh PARVM GOOD_ELF
set -u
parvm=$1 good=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

# expect WORDS -- ARGS...: exit 1, exactly one line on stderr, containing WORDS
expect() {
  local words=$1; shift; shift
  n=$((n + 1))
  local err rc lines
  err=$(timeout 20 "$parvm" "$@" 2>&1 >/dev/null </dev/null)
  rc=$?
  lines=$(printf '%s\n' "$err" | grep -c .)
  if [ "$rc" -ne 1 ] || [ "$lines" -ne 1 ] || ! printf '%s' "$err" | grep -qF -- "$words"; then
    echo "not ok $n - parvm $* (exit $rc, $lines lines): $err"
    fails=$((fails + 1))
  else
    echo "ok $n - parvm $*: $err"
  fi
}

head -c 40 "$good" > "$tmp/truncated-header.elf"
head -c 200 "$good" > "$tmp/truncated-segments.elf"
printf '\177ELF\001\001\001' > "$tmp/elf32.elf"; head -c 100 /dev/zero >> "$tmp/elf32.elf"
cp /bin/true "$tmp/x86.elf"
head -c $((200 << 20)) /dev/zero > "$tmp/huge.bin"
# A RISC-V ELF whose segments lie below RAM: patch every program header's
# p_paddr (headers of 56 bytes at e_phoff, paddr at +24) to 0x1000.
cp "$good" "$tmp/outside.elf"
phoff=$(od -An -t u8 -j 32 -N 8 "$good" | tr -d ' ')
phnum=$(od -An -t u2 -j 56 -N 2 "$good" | tr -d ' ')
for ((i = 0; i < phnum; i++)); do
  printf '\000\020\000\000\000\000\000\000' |
    dd of="$tmp/outside.elf" bs=1 seek=$((phoff + 56 * i + 24)) conv=notrunc status=none
done
touch "$tmp/unreadable.elf"; chmod 000 "$tmp/unreadable.elf"

expect "unknown option '-bogus'" -- -bogus
expect "-initrd only allowed with -kernel" -- -machine virt -bios none -initrd "$good"
expect "-initrd $tmp/missing" -- -machine virt -bios none -kernel "$good" -initrd "$tmp/missing"
head -c 300000000 /dev/zero > "$tmp/big.initrd"
expect "do not fit in" -- -machine virt -m 128M -bios none -kernel "$good" -initrd "$tmp/big.initrd"
expect "needs an argument" -- -kernel
expect "-smp" -- -smp 0
expect "-smp" -- -smp 100000
expect "-smp" -- -smp two
expect "-m" -- -m 12X
expect "-m" -- -m 0
expect "machine" -- -machine pc
expect "cannot open" -- -bios none -kernel "$tmp/missing.elf"
expect "truncated" -- -bios none -kernel "$tmp/truncated-header.elf"
expect "truncated" -- -bios none -kernel "$tmp/truncated-segments.elf"
expect "64-bit" -- -bios none -kernel "$tmp/elf32.elf"
expect "not a RISC-V ELF" -- -bios none -kernel "$tmp/x86.elf"
expect "outside RAM" -- -bios none -kernel "$tmp/outside.elf"
expect "do not fit" -- -bios none -m 128M -kernel "$tmp/huge.bin"
expect "nothing to run" -- -bios none
expect "stdio" -- -bios none -kernel "$good" -qmp stdio
expect "-qmp" -- -bios none -kernel "$good" -qmp tcp:1234
expect "hotplug-timeout" -- -machine virt,hotplug-timeout=0
# Disks and devices (QEMU's messages).
truncate -s 1M "$tmp/disk.img"
dr="file=$tmp/disk.img,format=raw,if=none,id=d0"
k=(-bios none -kernel "$good")
expect "-device virtio-blk-device: drive property not set" -- "${k[@]}" -device virtio-blk-device
expect "Property 'virtio-blk-device.drive' can't find value 'nope'" -- "${k[@]}" -device virtio-blk-device,drive=nope
expect "'bogus-device' is not a valid device model name" -- "${k[@]}" -device bogus-device
expect "Property 'virtio-blk-device.speed' not found" -- "${k[@]}" -drive "$dr" -device virtio-blk-device,drive=d0,speed=9
expect "Drive 'd0' is already in use by another device" -- "${k[@]}" -drive "$dr" -device virtio-blk-device,drive=d0 -device virtio-blk-device,drive=d0
expect "Duplicate ID 'x' for device" -- "${k[@]}" -drive "$dr" -drive "file=$tmp/disk.img,if=none,id=d1" -device virtio-blk-device,drive=d0,id=x -device virtio-blk-device,drive=d1,id=x
expect "Could not open '$tmp/missing.img': No such file or directory" -- "${k[@]}" -drive "file=$tmp/missing.img,format=raw,if=none,id=d0" -device virtio-blk-device,drive=d0
expect "Could not open '$tmp'" -- "${k[@]}" -drive "file=$tmp,format=raw,if=none,id=d0"
expect "Unknown driver 'qcow2'" -- "${k[@]}" -drive "file=$tmp/disk.img,format=qcow2,if=none,id=d0"
expect "does not support the option 'bogus'" -- "${k[@]}" -drive "$dr,bogus=1"
expect "Duplicate ID 'd0' for drive" -- "${k[@]}" -drive "$dr" -drive "$dr"
expect "read-only" -- "${k[@]}" -drive "$dr,readonly=maybe"
expect "needs file=PATH" -- "${k[@]}" -drive "if=none,id=d0"
expect "needs id=ID" -- "${k[@]}" -drive "file=$tmp/disk.img,if=none"
expect "if=none" -- "${k[@]}" -drive "file=$tmp/disk.img,if=ide,id=d0"
expect "aio" -- "${k[@]}" -drive "$dr,aio=native"
expect "x-flow" -- "${k[@]}" -drive "$dr" -device virtio-blk-device,drive=d0,x-flow=fast
expect "no free virtio-mmio slot" -- "${k[@]}" $(for i in 1 2 3 4 5 6 7 8 9; do echo -drive "file=$tmp/disk.img,if=none,id=x$i" -device "virtio-blk-device,drive=x$i"; done)
expect "-netdev user: Parameter 'id' is missing" -- "${k[@]}" -netdev user
expect "Property 'virtio-net-device.netdev' can't find value 'n0'" -- "${k[@]}" -device virtio-net-device,netdev=n0
expect "needs an argument" -- -drive
if [ "$(id -u)" -ne 0 ]; then
  expect "cannot open" -- -bios none -kernel "$tmp/unreadable.elf"
  touch "$tmp/locked.img"; chmod 000 "$tmp/locked.img"
  expect "Permission denied" -- "${k[@]}" -drive "file=$tmp/locked.img,if=none,id=d0"
fi
echo "1..$n"
[ "$fails" -eq 0 ]
