#!/usr/bin/env bash
# `systemd-analyze verify` on the unit as installed: the factotum package goes into a throw-away
# overlay of / (overlay.sh), so ExecStart=, ExecReload= and Documentation=man:factotum(8) are
# checked against what the package really ships. Any complaint fails the test.
#   usage: unit_verify.sh PACKAGES_DIR
set -euo pipefail
packages=$1
here=$(dirname "$(readlink -f "$0")")
source "$here/overlay.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }

deb=$(ls "$packages"/current/factotum_*.deb 2>/dev/null) ||
  fail "no factotum package in $packages/current: the packaging_build_packages fixture did not run"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$deb" "$stage/"
cat >"$stage/verify_inside.sh" <<'INSIDE'
set -euo pipefail
rm -f /usr/sbin/policy-rc.d /var/lib/man-db/auto-update
dpkg --path-include='*' -i /stage/factotum_*.deb </dev/null >/stage/dpkg.log 2>&1 ||
  { echo "FAIL: dpkg -i failed: $(cat /stage/dpkg.log)" >&2; exit 1; }
rc=0
out=$(systemd-analyze verify /usr/lib/systemd/system/factotum.service 2>&1) || rc=$?
if ((rc != 0)) || [[ -n $out ]]; then
  echo "FAIL: systemd-analyze verify (exit $rc): $out" >&2
  exit 1
fi
echo "systemd-analyze verify: factotum.service as installed has no complaint"
INSIDE
in_overlay "$stage" chroot:verify_inside.sh
