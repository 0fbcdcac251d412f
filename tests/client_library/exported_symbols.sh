#!/usr/bin/env bash
# libfactotum-faktory exports its public API and nothing else, and keeps its ABI:
# - every dynamic symbol it defines is in namespace faktory (or the typeinfo/vtable of
#   faktory::Exception), in a version node FACTOTUM_FAKTORY_0.<minor>;
# - the set of them is the one recorded in abi-0.txt: a symbol removed or changed (a new
#   signature is a new mangled name) fails, and so does a new one until it is recorded there
#   (and, in a release, given a version node of its own: README "ABI policy");
# - it needs no Boost library and refers to no Boost symbol: its Boost is compiled in, hidden;
# - its SONAME carries the ABI major.
#   usage: exported_symbols.sh LIBRARY ABI_BASELINE
set -euo pipefail
library=$1
baseline=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -f $library ]] || fail "$library is missing: build factotum_faktory_shared first"

soname=$(readelf -d "$library" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[[ $soname == libfactotum-faktory.so.0 ]] || fail "SONAME is '$soname', not libfactotum-faktory.so.0"

# Defined dynamic symbols, demangled, without the version nodes' own markers.
symbols=$(nm -D --defined-only --with-symbol-versions "$library" |
  awk '$2 != "A" { $1 = ""; $2 = ""; print }' | sed 's/^ *//' | c++filt)
[[ -n $symbols ]] || fail "no symbols exported"
stray=$(grep -v -E '^(faktory::|(typeinfo|typeinfo name|vtable) for faktory::)' <<<"$symbols" || true)
[[ -z $stray ]] || fail "symbols outside the public API: $stray"
unversioned=$(grep -v -E '@@FACTOTUM_FAKTORY_0\.[0-9]+$' <<<"$symbols" || true)
[[ -z $unversioned ]] || fail "symbols outside a version node FACTOTUM_FAKTORY_0.N: $unversioned"
internal=$(grep -E 'factotum::|::Impl::|boost::' <<<"$symbols" || true)
[[ -z $internal ]] || fail "implementation details exported: $internal"

current=$(sed 's/@@FACTOTUM_FAKTORY_0\.[0-9]*$//' <<<"$symbols" | sort -u)
removed=$(comm -23 <(sort -u "$baseline") <(echo "$current"))
added=$(comm -13 <(sort -u "$baseline") <(echo "$current"))
[[ -z $removed ]] || fail "symbols of the 0.x ABI removed or changed (programs built against them \
would no longer load): $removed"
[[ -z $added ]] || fail "new exported symbols not recorded in $baseline (add them there, and in a \
release to a new version node): $added"

needed=$(readelf -d "$library" | grep NEEDED | grep -i boost || true)
[[ -z $needed ]] || fail "it needs a Boost library: $needed"
undefined=$(nm -D --undefined-only "$library" | c++filt | grep 'boost::' || true)
[[ -z $undefined ]] || fail "it refers to Boost symbols another library would provide: $undefined"
echo "ok: $(wc -l <<<"$current") symbols, all faktory::, as recorded; SONAME $soname; no Boost outside"
