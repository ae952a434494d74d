#!/bin/sh
# Build a minimal root filesystem from Debian's busybox-static.
#
#   scripts/build-busybox-rootfs.sh DEST
#
# DEST gets /bin/busybox plus a symlink for every applet (at the location
# `busybox --list-full` gives, e.g. /bin/sh, /usr/bin/env, /sbin/ip), the usual
# top-level directories, and /etc/passwd + /etc/group with root, nobody and a
# uid-1000 user. The script is idempotent and fast: a second run with the same
# busybox binary and script version only verifies a stamp file and exits.
#
# Environment:
#   BUSYBOX   path of the static busybox to use (default /bin/busybox)
#
# Used by the integration tests (CTest fixture `rootfs`), by the project's main
# job and by the benches. Needs no root (files are owned by the caller).
set -eu

ROOTFS_VERSION=1

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DEST" >&2
  exit 2
fi
DEST=$1
case "$DEST" in /*) ;; *) DEST=$PWD/$DEST ;; esac  # the script cd's into it below
BUSYBOX=${BUSYBOX:-/bin/busybox}

if [ ! -x "$BUSYBOX" ]; then
  echo "$0: $BUSYBOX not found: install busybox-static (apt-get install busybox-static)" >&2
  exit 1
fi
# A dynamically linked busybox would not run inside the rootfs: an ELF with a
# PT_INTERP program header names its loader in the first bytes of the file.
if head -c 4096 "$BUSYBOX" | grep -q '/lib.*/ld-'; then
  echo "$0: $BUSYBOX is dynamically linked; busybox-static is needed" >&2
  exit 1
fi

stamp_of() {
  # version + size + mtime of the busybox binary: cheap and changes on upgrade.
  echo "v$ROOTFS_VERSION $(stat -Lc '%s %Y' "$BUSYBOX")"
}

STAMP="$DEST/.minidocker-rootfs"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_of)" ] && [ -x "$DEST/bin/busybox" ] \
   && [ -L "$DEST/bin/sh" ]; then
  exit 0
fi

mkdir -p "$DEST"
cd "$DEST"

for d in bin sbin usr/bin usr/sbin etc root home/user proc sys dev tmp var/tmp run mnt opt; do
  mkdir -p "$d"
done
chmod 0755 . bin sbin usr usr/bin usr/sbin etc home proc sys dev var run mnt opt
chmod 0700 root
chmod 1777 tmp var/tmp

# Copy busybox (replace atomically so a running container never sees a torn file).
if ! cmp -s "$BUSYBOX" bin/busybox 2>/dev/null; then
  cp "$BUSYBOX" bin/.busybox.tmp
  chmod 0755 bin/.busybox.tmp
  mv -f bin/.busybox.tmp bin/busybox
fi

# One symlink per applet, pointing at the absolute in-container path.
# `--list-full` gives dir/name; fall back to /bin/name with plain `--list`.
if "$BUSYBOX" --list-full >/dev/null 2>&1; then
  list=$("$BUSYBOX" --list-full)
else
  list=$("$BUSYBOX" --list | sed 's|^|bin/|')
fi
for path in $list; do
  case "$path" in
    bin/busybox) continue ;;
  esac
  if [ -L "$path" ] && [ "$(readlink "$path")" = /bin/busybox ]; then
    continue
  fi
  rm -f "$path"
  ln -s /bin/busybox "$path"
done
# A few names every tool expects even if the applet list lacks them.
for name in sh true false sleep cat; do
  [ -e "bin/$name" ] || [ -L "bin/$name" ] || ln -s /bin/busybox "bin/$name"
done

cat > etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
EOF
cat > etc/group <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
user:x:1000:
EOF
chmod 0644 etc/passwd etc/group
chown 1000:1000 home/user 2>/dev/null || true
# Files engines bind-mount over; they must exist as mount targets.
for f in etc/hostname etc/hosts etc/resolv.conf; do
  [ -e "$f" ] || : > "$f"
done

stamp_of > "$STAMP"
