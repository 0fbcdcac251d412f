#!/usr/bin/env bash
# The version comes from project(VERSION) alone: both packages carry it, `factotum --version`
# prints it, and the Debian changelog's latest entry names it (add an entry when bumping it).
#   usage: version.sh BUILD_DIR PACKAGES_DIR SOURCE_DIR PROJECT_VERSION
set -euo pipefail
build=$1
packages=$2
source=$3
version=$4
fail() { echo "FAIL: $*" >&2; exit 1; }

for deb in "$packages"/current/factotum_*.deb "$packages"/current/factotum-dev_*.deb \
  "$packages"/current/libfactotum-faktory0_*.deb "$packages"/current/libfactotum-faktory-dev_*.deb; do
  [[ -f $deb ]] || fail "$deb is missing: the packaging_build_packages fixture did not run"
  got=$(dpkg-deb -f "$deb" Version)
  [[ $got == "$version" ]] || fail "${deb##*/} has version $got, project(VERSION) is $version"
  [[ ${deb##*/} == *_"$version"_*.deb ]] || fail "${deb##*/} is not named <name>_${version}_<arch>.deb"
done
printed=$("$build/bin/factotum" --version)
[[ $printed == "factotum $version "* ]] || fail "factotum --version prints '$printed', not $version"
changelog=$(dpkg-parsechangelog -l "$source/packaging/debian/changelog" -S Version)
[[ $changelog == "$version" ]] ||
  fail "packaging/debian/changelog's latest entry is $changelog, project(VERSION) is $version: add an entry (dch -v $version)"
echo "version $version: packages, factotum --version and the changelog agree"
