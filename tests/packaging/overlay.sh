# Sourced by the packaging tests that install packages: in_overlay runs a script as root in
# private mount and PID namespaces, chrooted into an overlay over the machine's /. Every write
# (dpkg's database, /etc/passwd, /usr) lands in a tmpfs that disappears with the namespace, and
# every process still running when the script ends is killed with it: the machine running the
# tests is never changed. /run is a fresh tmpfs inside, so nothing there can reach the
# machine's service manager.
#
# Where that is not permitted (not root, no unshare, no overlayfs: an unprivileged container),
# the test is skipped with exit status 77 (ctest SKIP_RETURN_CODE), never passed.

# in_overlay STAGE_DIR STEP...: copies STAGE_DIR to /stage inside and runs the steps there:
# chroot:SCRIPT runs `bash /stage/SCRIPT` chrooted in the overlay (77 from it becomes 1),
# boot boots the overlay as a systemd container (see overlay_enter.sh). Returns 0 when every
# step succeeded.
in_overlay() {
  local stage=$1
  shift
  if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: installing packages into an overlay of / needs root (CI runs as root)"
    exit 77
  fi
  if ! unshare --mount --propagation private --pid --fork true 2>/dev/null; then
    echo "SKIP: unshare --mount --pid is not permitted here"
    exit 77
  fi
  local top
  top=$(mktemp -d /tmp/factotum-overlay.XXXXXX)
  local rc=0
  # A PID namespace too: when the script ends, the kernel kills whatever it left running.
  unshare --mount --propagation private --pid --fork -- \
    bash "$(dirname "${BASH_SOURCE[0]}")/overlay_enter.sh" "$top" "$stage" "$@" || rc=$?
  rmdir "$top" 2>/dev/null || true
  return "$rc"
}

# make_stage PACKAGES_DIR SUBDIR...: sets $stage, a directory removed on exit, holding a copy of
# PACKAGES_DIR/SUBDIR for each SUBDIR (both packages, as the packaging_build_packages fixture
# built them) and inside.sh, the helpers of the scripts that run in the overlay.
make_stage() {
  local packages=$1 dir
  shift
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  for dir in "$@"; do
    if ! ls "$packages/$dir"/factotum_*.deb "$packages/$dir"/factotum-dev_*.deb >/dev/null 2>&1; then
      echo "FAIL: no packages in $packages/$dir: the packaging_build_packages fixture did not run" >&2
      exit 1
    fi
    cp -r "$packages/$dir" "$stage/$dir"
  done
  cp "$(dirname "${BASH_SOURCE[0]}")/inside.sh" "$stage/"
}
