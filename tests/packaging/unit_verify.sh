#!/usr/bin/env bash
# `systemd-analyze verify` on the unit as installed: the factotum package goes into a throw-away
# overlay of / (overlay.sh), so ExecStart=, ExecReload= and Documentation=man:factotum(8) are
# checked against what the package really ships. Any complaint fails the test.
#   usage: unit_verify.sh PACKAGES_DIR
set -euo pipefail
packages=$1
here=$(dirname "$(readlink -f "$0")")
source "$here/overlay.sh"
make_stage "$packages" current
cat >"$stage/verify_inside.sh" <<'INSIDE'
source /stage/inside.sh
dpkg_run -i /stage/current/factotum_*.deb
rc=0
out=$(systemd-analyze verify /usr/lib/systemd/system/factotum.service 2>&1) || rc=$?
((rc == 0)) && [[ -z $out ]] || fail "systemd-analyze verify (exit $rc): $out"
echo "systemd-analyze verify: factotum.service as installed has no complaint"
INSIDE
in_overlay "$stage" chroot:verify_inside.sh
