#!/usr/bin/env bash
# lintian on every package: no error and no warning. What cannot be fixed is overridden in
# packaging/lintian/<package>, each override under a comment giving the reason; lintian's own
# reports of overrides that no longer match fail the test too, so none outlives its cause.
#   usage: lintian.sh PACKAGES_DIR
set -euo pipefail
packages=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v lintian >/dev/null || fail "lintian is missing: run scripts/setup --deps"
debs=("$packages"/current/factotum_*.deb "$packages"/current/factotum-dev_*.deb
  "$packages"/current/libfactotum-faktory0_*.deb "$packages"/current/libfactotum-faktory-dev_*.deb)
for deb in "${debs[@]}"; do
  [[ -f $deb ]] || fail "$deb is missing: the packaging_build_packages fixture did not run"
done

# Info and pedantic tags are shown but do not fail; unused or mismatched overrides do. (Two
# runs: with --show-overrides, lintian's exit status counts the overridden tags too.)
rc=0
lintian --fail-on error,warning --tag-display-limit 0 "${debs[@]}" >/dev/null 2>&1 || rc=$?
report=$(lintian --display-info --show-overrides --tag-display-limit 0 "${debs[@]}" 2>&1) || true
echo "$report"
stale=$(grep -E '^[A-Z]: [^ ]+: (unused-override|mismatched-override)' <<<"$report" || true)
[[ -z $stale ]] || fail "overrides that no longer match anything: $stale"
((rc == 0)) || fail "lintian reports errors or warnings (exit $rc)"

# Every override carries its reason: a comment right above it.
for deb in "${debs[@]}"; do
  name=$(dpkg-deb -f "$deb" Package)
  overrides=$(dpkg-deb --fsys-tarfile "$deb" |
    tar -xOf - "./usr/share/lintian/overrides/$name" 2>/dev/null || true)
  unexplained=$(awk '/^[^#[:space:]]/ && prev !~ /^#/ { print } { prev = $0 }' <<<"$overrides")
  [[ -z $unexplained ]] || fail "$name: overrides without a reason (a '#' line above): $unexplained"
done
echo "lintian: no errors or warnings in ${debs[*]##*/}"
