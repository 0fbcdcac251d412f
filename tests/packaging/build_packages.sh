#!/usr/bin/env bash
# The packaging tests' fixture: builds the .deb packages once per test run from BUILD_DIR's
# install rules (ctest builds nothing: the tree must be built) into OUT/current, and the same
# packages under a higher version into OUT/upgrade, for the upgrade step of the lifecycle test.
#   usage: build_packages.sh BUILD_DIR OUT
set -euo pipefail
build=$1
out=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps is missing: run scripts/setup --deps"

rm -rf "$out"
mkdir -p "$out"
# cpack_into DIR [-D VAR=VALUE...]: one cpack run, its staging area in DIR (runs may overlap).
cpack_into() {
  local dir=$1
  shift
  cpack --config "$build/CPackConfig.cmake" -B "$dir" "$@" >"$dir.log" 2>&1 ||
    fail "cpack failed ($dir): $(cat "$dir.log")"
  rm -rf "$dir/_CPack_Packages"
}
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[[ -n "$version" ]] || fail "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake"
# "+1" sorts after the plain version for dpkg: an upgrade, as a rebuild with a bumped version.
cpack_into "$out/current" &
current=$!
cpack_into "$out/upgrade" -D "CPACK_PACKAGE_VERSION=$version+1" &
upgrade=$!
wait "$current" || exit 1
wait "$upgrade" || exit 1
ls -l "$out"/current/*.deb "$out"/upgrade/*.deb
