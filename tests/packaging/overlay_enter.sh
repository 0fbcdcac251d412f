#!/usr/bin/env bash
# The inside of in_overlay (overlay.sh), run by `unshare --mount --pid --fork`: mounts the
# overlay root on TOP, copies STAGE to /stage in it, then runs the STEPs in order:
#   chroot:SCRIPT  `bash /stage/SCRIPT` chrooted in the overlay; its failure ends the run
#   boot           boots the overlay with systemd-nspawn (systemd as PID 1 of a container)
#                  until it powers itself off; a unit of the stage must do that
# Exit status 77 only when the overlay, or a boot, is not possible here.
#   usage: overlay_enter.sh TOP STAGE STEP...
set -uo pipefail
top=$1
stage=$2
shift 2
skip() { echo "SKIP: $*"; exit 77; }

# Upper and work directories on a tmpfs: nothing reaches the disk, and the overlay's lower
# layer (/) does not contain its own upper layer.
mount -t tmpfs -o mode=0755 factotum-overlay "$top" || skip "cannot mount a tmpfs in a private mount namespace"
mkdir "$top/upper" "$top/work" "$top/root"
root=$top/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$top/upper,workdir=$top/work" "$root" 2>"$top/mount.err" ||
  skip "overlayfs over / is not permitted here: $(cat "$top/mount.err")"
cp -a "$stage" "$root/stage" || exit 1

# The overlay shows the root file system only: a chroot gets its kernel file systems (this PID
# namespace's /proc, a read-only sysfs), and a fresh /run and /tmp: the machine's /run holds
# systemd's sockets.
chroot_mounts=(proc dev sys run tmp)
mount_chroot_fs() {
  mount -t proc proc "$root/proc" &&
    mount --rbind /dev "$root/dev" &&
    mount -t sysfs -o ro sysfs "$root/sys" &&
    mount -t tmpfs -o mode=0755 run "$root/run" &&
    mount -t tmpfs -o mode=1777 tmp "$root/tmp"
}
umount_chroot_fs() {
  local m
  for m in "${chroot_mounts[@]}"; do umount -R "$root/$m" || return 1; done
}

run_chroot() {
  mount_chroot_fs || { echo "cannot mount the chroot's file systems" >&2; return 1; }
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive bash "/stage/$1"
  local rc=$?
  umount_chroot_fs || { echo "cannot unmount the chroot's file systems" >&2; return 1; }
  ((rc == 77)) && rc=1
  return "$rc"
}

boot() {
  command -v systemd-nspawn >/dev/null ||
    { echo "FAIL: systemd-nspawn is missing: run scripts/setup --deps" >&2; return 1; }
  # nspawn must see this PID namespace in /proc, and no service manager in /run: a private
  # /run hides the machine's, so nspawn neither registers the container nor asks it for a
  # scope. The container's journal stays inside the overlay.
  mount -t proc proc /proc && mount -t tmpfs -o mode=0755 run /run && mkdir -p /run/systemd || {
    echo "cannot prepare /proc and /run for systemd-nspawn" >&2
    return 1
  }
  local rc=0
  timeout 200 systemd-nspawn --quiet --directory="$root" --boot --private-network --register=no --keep-unit \
    --link-journal=no >"$root/stage/nspawn.log" 2>&1 || rc=$?
  # The stage's units write /stage/booted first thing: without it, systemd did not come up as
  # a container here (a kernel or sandbox limit), which is not the package's doing.
  [[ -e $root/stage/booted ]] ||
    skip "systemd did not boot in a container here (systemd-nspawn exit $rc): $(tail -5 "$root/stage/nspawn.log")"
  return 0
}

for step in "$@"; do
  case $step in
  chroot:*) run_chroot "${step#chroot:}" || exit 1 ;;
  boot) boot || exit 1 ;;
  *)
    echo "overlay_enter.sh: unknown step $step" >&2
    exit 1
    ;;
  esac
done
exit 0
