#!/usr/bin/env bash
# The unit's sandbox: `systemd-analyze security --offline=true` must report an exposure at or
# below the level stated in the unit's header ("at most N"), where each setting left open is
# justified. Raising the level means editing that justification.
#   usage: unit_security.sh UNIT_FILE
set -euo pipefail
unit=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing: run scripts/setup --deps"

stated=$(sed -n 's/^# Exposure (`systemd-analyze security --offline=true`): at most \([0-9.]*\),.*/\1/p' "$unit")
[[ $stated =~ ^[0-9]+\.[0-9]$ ]] || fail "$unit states no exposure level ('# Exposure (...): at most N.N,')"

report=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || true
measured=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' <<<"$report")
[[ -n $measured ]] || fail "no exposure level in: $report"
# Compared in tenths, as systemd prints them.
if ((10#${measured/./} > 10#${stated/./})); then
  fail "exposure $measured is above the stated $stated. Settings left open:
$(grep '✗' <<<"$report")"
fi
# systemd's own comparison must agree (its exit status is non-zero above the threshold).
systemd-analyze security --offline=true --threshold="${stated/./}" "$unit" >/dev/null 2>&1 ||
  fail "systemd-analyze --threshold=${stated/./} disagrees with the measured $measured"
echo "exposure $measured, at or below the stated $stated"
