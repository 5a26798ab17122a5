#!/usr/bin/env bash
# Build the Linux guest for parvm's virt board (same board as QEMU's virt)
# from Debian packages only:
#   - Linux 6.1 from linux-source-6.1, cross-built with riscv64-linux-gnu-gcc,
#     config = tinyconfig + guests/linux/kernel.config;
#   - a static busybox from Debian's busybox *source* package (apt-get
#     source), config = allnoconfig + guests/linux/busybox.config;
#   - a gzip'd newc initramfs: busybox + guests/linux/rootfs/.
# Usage: scripts/build-linux-guest.sh [OUTDIR]   (default build/linux-guest)
# Outputs in OUTDIR: Image (raw, for -kernel), vmlinux, initramfs.cpio.gz,
# busybox, kernel.config and busybox.config (the full resolved configs).
# Boot: -kernel OUTDIR/Image -initrd OUTDIR/initramfs.cpio.gz
#       -append "console=ttyS0 earlycon=sbi"
#
# Each stage (kernel, busybox, initramfs) keeps a stamp: the sha256 of its
# inputs (its function's text below, its config files, the Debian package
# versions it builds from/with). A stage runs again only when that changes,
# so a second run with nothing changed does no work. JOBS=N sets make -j
# (default: nproc). Runs as root on a fresh Debian 12: installs what it
# lacks (scripts/deps.sh linux) and adds deb-src entries for the Debian
# mirror apt already uses if apt has none (idempotent).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$root/build/linux-guest}")
jobs=${JOBS:-$(nproc)}
guest=$root/guests/linux
cross=riscv64-linux-gnu-
work=$out/work
mkdir -p "$work"

log() { echo "build-linux-guest: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- deb-src for the configured Debian mirror -------------------------------
# apt-get source needs deb-src entries; Debian's cloud/container images ship
# deb only. Derive them from the deb entries for this release (codename and
# its -updates/-security suites), in both the deb822 and the one-line form,
# into one file of ours, so rerunning never duplicates anything.
ensure_deb_src() {
  if apt-cache showsrc busybox 2>/dev/null | grep -q '^Package: busybox$'; then
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "apt has no deb-src entry for busybox; run as root once to add it"
  local codename list=/etc/apt/sources.list.d/parvm-deb-src.sources f
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
  : > "$list.tmp"
  for f in /etc/apt/sources.list.d/*.sources; do
    if [ ! -e "$f" ] || [ "$f" = "$list" ]; then continue; fi
    awk -v cn="$codename" '
      function suite_ok(s,   n, w, i) {
        n = split(s, w, /[ \t]+/)
        for (i = 2; i <= n; i++) if (w[i] == cn || index(w[i], cn "-") == 1) return 1
        return 0
      }
      BEGIN { RS = ""; }
      {
        n = split($0, l, "\n"); types = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= n; i++) {
          if (l[i] ~ /^Types:/) types = l[i]
          if (l[i] ~ /^Suites:/) suites = l[i]
          if (l[i] ~ /^Enabled:/) enabled = tolower(l[i])
        }
        if (types !~ /[ \t]deb([ \t]|$)/ || enabled ~ /no/ || !suite_ok(suites)) next
        for (i = 1; i <= n; i++) print (l[i] ~ /^Types:/ ? "Types: deb-src" : l[i])
        print ""
      }' "$f" >> "$list.tmp"
  done
  # One-line form: "deb [opts] URI SUITE COMPONENTS..." -> Deb822 stanza.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    awk -v cn="$codename" '
      $1 != "deb" { next }
      {
        i = 2; opts = ""
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { opts = opts " " $i; i++ } opts = opts " " $i; i++ }
        uri = $i; suite = $(i + 1)
        if (suite != cn && index(suite, cn "-") != 1) next
        comps = ""; for (j = i + 2; j <= NF; j++) comps = comps " " $j
        print "Types: deb-src"; print "URIs: " uri; print "Suites: " suite
        print "Components:" comps
        if (opts ~ /signed-by=/) { match(opts, /signed-by=[^] ]+/); print "Signed-By: " substr(opts, RSTART + 10, RLENGTH - 10) }
        print ""
      }' "$f" >> "$list.tmp"
  done
  if [ ! -s "$list.tmp" ]; then
    log "no Debian $codename entry found in apt's sources; using deb.debian.org"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$codename" > "$list.tmp"
  fi
  mv "$list.tmp" "$list"
  log "added deb-src entries in $list; apt-get update"
  apt-get update -q >/dev/null
  apt-cache showsrc busybox 2>/dev/null | grep -q '^Package: busybox$' ||
    die "apt-get update did not make busybox's source package visible"
}

pkgver() { dpkg-query -W -f='${Version}' "$1"; }

# A stage's key: sha256 over the text of its function and its inputs.
stage_key() {
  local fn=$1; shift
  { declare -f "$fn"; cat "$@"; } | sha256sum | cut -d' ' -f1
}
stamp_ok() { [ -f "$work/$1.stamp" ] && [ "$(cat "$work/$1.stamp")" = "$2" ]; }

# Every line of a config fragment must hold in the resolved .config:
# "CONFIG_X=v" exactly, "# CONFIG_X is not set" as not =y/=m.
check_config() {
  local frag=$1 cfg=$2 line sym bad=0
  while IFS= read -r line; do
    case "$line" in
      CONFIG_*=*)
        grep -qxF -- "$line" "$cfg" || { log "$frag: wanted '$line', got '$(grep -E "^(# )?${line%%=*}[= ]" "$cfg" || echo unset)'"; bad=1; } ;;
      "# CONFIG_"*" is not set")
        sym=${line#\# }; sym=${sym%% *}
        ! grep -qE "^$sym=[ym]$" "$cfg" || { log "$frag: wanted $sym off, got '$(grep "^$sym=" "$cfg")'"; bad=1; } ;;
    esac
  done < "$frag"
  [ $bad -eq 0 ] || die "config $cfg does not match $frag"
}

# --- kernel -----------------------------------------------------------------
build_kernel() {
  local src=$work/linux-source-6.1 obj=$work/linux-obj
  local kmake=(make -C "$src" O="$obj" ARCH=riscv CROSS_COMPILE="$cross" -j"$jobs")
  if [ "$(cat "$work/linux-source.version" 2>/dev/null)" != "$(pkgver linux-source-6.1)" ]; then
    rm -rf "$src" "$obj"
    tar -C "$work" -xf /usr/src/linux-source-6.1.tar.xz
    pkgver linux-source-6.1 > "$work/linux-source.version"
  fi
  mkdir -p "$obj"
  "${kmake[@]}" -s tinyconfig >/dev/null
  ARCH=riscv "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
    "$guest/kernel.config" >/dev/null
  "${kmake[@]}" -s olddefconfig
  check_config "$guest/kernel.config" "$obj/.config"
  "${kmake[@]}" -s Image
  cp "$obj/arch/riscv/boot/Image" "$out/Image"
  cp "$obj/vmlinux" "$out/vmlinux"
  cp "$obj/.config" "$out/kernel.config"
}

# --- busybox ----------------------------------------------------------------
build_busybox() {
  local ver=$1 dir
  # The downloaded .dsc and tarballs stay (apt-get skips files it already
  # has and verified); the unpacked tree is always fresh.
  mkdir -p "$work/busybox-src"
  find "$work/busybox-src" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  (cd "$work/busybox-src" && apt-get source -q "busybox=$ver" >/dev/null 2>"$work/busybox-src.log") ||
    { cat "$work/busybox-src.log" >&2; die "apt-get source busybox=$ver failed"; }
  dir=$(find "$work/busybox-src" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n1)
  [ -n "$dir" ] || die "apt-get source busybox left no busybox-* directory"
  local bmake=(make -C "$dir" CROSS_COMPILE="$cross" -j"$jobs")
  "${bmake[@]}" -s allnoconfig >/dev/null
  # Apply the fragment: drop each symbol's line, append ours, then let
  # oldconfig give every newly visible sub-option its default.
  local line sym
  while IFS= read -r line; do
    case "$line" in
      CONFIG_*=*) sym=${line%%=*} ;;
      "# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *} ;;
      *) continue ;;
    esac
    sed -i -E "/^(# )?${sym}[= ]/d" "$dir/.config"
    echo "$line" >> "$dir/.config"
  done < "$guest/busybox.config"
  "${bmake[@]}" oldconfig < <(yes "") >/dev/null
  check_config "$guest/busybox.config" "$dir/.config"
  "${bmake[@]}" -s busybox >"$work/busybox-build.log" 2>&1 ||
    { tail -n 40 "$work/busybox-build.log" >&2; die "busybox build failed"; }
  "${bmake[@]}" -s busybox.links >/dev/null
  cp "$dir/busybox" "$out/busybox"
  cp "$dir/busybox.links" "$work/busybox.links"
  cp "$dir/.config" "$out/busybox.config"
}

# --- initramfs --------------------------------------------------------------
# Written with the kernel's gen_init_cpio from a list, so the archive holds
# root-owned files and a /dev/console node without running as root, and
# every mtime is 0 (the same inputs give the same bytes).
build_initramfs() {
  local list=$work/initramfs.list gen=$work/gen_init_cpio f rel mode d
  gcc -O2 -o "$gen" "$work/linux-source-6.1/usr/gen_init_cpio.c"
  {
    for d in /bin /sbin /usr /usr/bin /usr/sbin /usr/share /usr/share/udhcpc \
             /dev /proc /sys /tmp /mnt /root /etc /etc/init.d /var /var/run; do
      echo "dir $d 0755 0 0"
    done
    echo "nod /dev/console 0600 0 0 c 5 1"
    echo "file /bin/busybox $out/busybox 0755 0 0"
    grep -vx /bin/busybox "$work/busybox.links" | sed 's|.*|slink & /bin/busybox 0777 0 0|'
    (cd "$guest/rootfs" && find . -type f | LC_ALL=C sort) | while read -r f; do
      rel=${f#.}
      mode=0644; [ -x "$guest/rootfs/$rel" ] && mode=0755
      echo "file $rel $guest/rootfs$rel $mode 0 0"
    done
  } > "$list"
  "$gen" -t 0 "$list" | gzip -9 -n > "$out/initramfs.cpio.gz.tmp"
  mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
}

# --- main -------------------------------------------------------------------
# (A function, so bash has read the whole file before it runs any of it.)
main() {
  local start k b i rootfs bbver toolver
  start=$(date +%s)
  "$root/scripts/deps.sh" linux
  ensure_deb_src
  bbver=$(apt-cache showsrc busybox | awk '/^Version:/ { print $2 }' | sort -V | tail -n1)
  [ -n "$bbver" ] || die "no busybox source version"
  toolver="$(pkgver gcc-riscv64-linux-gnu) $(pkgver binutils-riscv64-linux-gnu) $(pkgver libc6-dev-riscv64-cross)"

  k=$(stage_key build_kernel "$guest/kernel.config" <(echo "$(pkgver linux-source-6.1) $toolver"))
  if stamp_ok kernel "$k" && [ -f "$out/Image" ]; then
    log "kernel: up to date"
  else
    log "kernel: building Linux $(pkgver linux-source-6.1) (make -j$jobs)"
    rm -f "$work/kernel.stamp"
    build_kernel
    echo "$k" > "$work/kernel.stamp"
  fi

  b=$(stage_key build_busybox "$guest/busybox.config" <(echo "$bbver $toolver"))
  if stamp_ok busybox "$b" && [ -f "$out/busybox" ]; then
    log "busybox: up to date"
  else
    log "busybox: building $bbver from Debian's source package (make -j$jobs)"
    rm -f "$work/busybox.stamp"
    build_busybox "$bbver"
    echo "$b" > "$work/busybox.stamp"
  fi

  mapfile -t rootfs < <(cd "$guest/rootfs" && find . -type f | LC_ALL=C sort)
  i=$(stage_key build_initramfs "$work/busybox.stamp" "$work/linux-source.version" \
        <(printf '%s\n' "${rootfs[@]}"; cd "$guest/rootfs" && for f in "${rootfs[@]}"; do
            stat -c %A "$f"; cat "$f"; done))
  if stamp_ok initramfs "$i" && [ -f "$out/initramfs.cpio.gz" ]; then
    log "initramfs: up to date"
  else
    log "initramfs: writing"
    rm -f "$work/initramfs.stamp"
    build_initramfs
    echo "$i" > "$work/initramfs.stamp"
  fi
  log "done in $(( $(date +%s) - start ))s: $out/Image $out/initramfs.cpio.gz"
}

main "$@"
