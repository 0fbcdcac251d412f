#!/usr/bin/env bash
# The package lifecycle test: installs the packages the fixture built into a throw-away overlay
# of / and runs lifecycle_inside.sh there (install, check, run, edit, upgrade, remove, purge).
# The machine is not changed; where the overlay is not permitted the test is skipped (77).
#   usage: lifecycle.sh BUILD_DIR PACKAGES_DIR
set -euo pipefail
build=$1
packages=$2
here=$(dirname "$(readlink -f "$0")")
source "$here/overlay.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for dir in current upgrade; do
  ls "$packages/$dir"/factotum_*.deb "$packages/$dir"/factotum-dev_*.deb >/dev/null 2>&1 ||
    fail "no packages in $packages/$dir: the packaging_build_packages fixture did not run"
  cp -r "$packages/$dir" "$stage/$dir"
done
cp "$build/bin/factotum-client" "$here/lifecycle_inside.sh" "$stage/"
in_overlay "$stage" chroot:lifecycle_inside.sh
