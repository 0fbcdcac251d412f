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
make_stage "$packages" current upgrade
cp "$build/bin/factotum-client" "$here/lifecycle_inside.sh" "$stage/"
in_overlay "$stage" chroot:lifecycle_inside.sh
