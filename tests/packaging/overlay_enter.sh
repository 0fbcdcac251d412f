#!/usr/bin/env bash
# The inside of in_overlay (overlay.sh), run by `unshare --mount`: mounts the overlay root on
# TOP, copies STAGE to /stage in it, and runs `bash /stage/SCRIPT ARGS...` chrooted there.
# Exit status 77 only when the overlay cannot be set up.
#   usage: overlay_enter.sh TOP STAGE SCRIPT [ARGS...]
set -uo pipefail
top=$1
stage=$2
script=$3
shift 3
skip() { echo "SKIP: $*"; exit 77; }

# Upper and work directories on a tmpfs: nothing reaches the disk, and the overlay's lower
# layer (/) does not contain its own upper layer.
mount -t tmpfs -o mode=0755 factotum-overlay "$top" || skip "cannot mount a tmpfs in a private mount namespace"
mkdir "$top/upper" "$top/work" "$top/root"
root=$top/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$top/upper,workdir=$top/work" "$root" 2>"$top/mount.err" ||
  skip "overlayfs over / is not permitted here: $(cat "$top/mount.err")"

# The overlay shows the root file system only: give the chroot its kernel file systems, and a
# fresh /run and /tmp (the machine's /run holds systemd's sockets).
set -e
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs -o mode=0755 run "$root/run"
mount -t tmpfs -o mode=1777 tmp "$root/tmp"
cp -a "$stage" "$root/stage"
set +e

chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive bash "/stage/$script" "$@"
rc=$?
((rc == 77)) && rc=1
exit "$rc"
