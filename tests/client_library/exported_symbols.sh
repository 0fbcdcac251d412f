#!/usr/bin/env bash
# libfactotum-faktory exports its public API and nothing else: every dynamic symbol it defines
# is in namespace faktory (or the typeinfo/vtable of faktory::Exception), in version node
# FACTOTUM_FAKTORY_0, and its SONAME carries the ABI major.
#   usage: exported_symbols.sh LIBRARY
set -euo pipefail
library=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -f $library ]] || fail "$library is missing: build factotum_faktory_shared first"

soname=$(readelf -d "$library" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[[ $soname == libfactotum-faktory.so.0 ]] || fail "SONAME is '$soname', not libfactotum-faktory.so.0"

# Defined dynamic symbols, demangled, without the version node's own marker.
symbols=$(nm -D --defined-only --with-symbol-versions "$library" | awk '$2 != "A" { $1 = ""; $2 = ""; print }' |
  sed 's/^ *//' | c++filt)
[[ -n $symbols ]] || fail "no symbols exported"
stray=$(grep -v -E '^(faktory::|(typeinfo|typeinfo name|vtable) for faktory::)' <<<"$symbols" || true)
[[ -z $stray ]] || fail "symbols outside the public API: $stray"
unversioned=$(grep -v '@@FACTOTUM_FAKTORY_0$' <<<"$symbols" || true)
[[ -z $unversioned ]] || fail "symbols outside version node FACTOTUM_FAKTORY_0: $unversioned"
internal=$(grep -E 'factotum::|::Impl::|boost::' <<<"$symbols" || true)
[[ -z $internal ]] || fail "implementation details exported: $internal"
for wanted in 'faktory::Client::push(faktory::Job const&)' 'faktory::Pool::acquire()' \
  'faktory::detail::AsyncCore::push(' 'typeinfo for faktory::Exception'; do
  grep -qF -- "$wanted" <<<"$symbols" || fail "$wanted is not exported"
done
echo "ok: $(wc -l <<<"$symbols") symbols, all faktory::, version FACTOTUM_FAKTORY_0, SONAME $soname"
