#!/usr/bin/env bash
# Every plugin in PLUGIN_DIR (the shipped ones, plus any other factotum_add_plugin target
# built there) exports exactly factotum_plugin_v1 and needs nothing from the daemon: no
# undefined factotum_ symbol, no factotum or Boost library (Boost.JSON is compiled in
# header-only) among its NEEDED entries (DESIGN.md §4.3, §4.6).
#   usage: exported_symbols.sh PLUGIN_DIR
set -euo pipefail
dir=$1
shopt -s nullglob
plugins=("$dir"/*.so)
((${#plugins[@]})) || { echo "FAIL: no plugins in $dir (build them first)" >&2; exit 1; }
for so in echo joblog shell; do
  [[ -f "$dir/$so.so" ]] || { echo "FAIL: the shipped plugin $dir/$so.so is missing" >&2; exit 1; }
done
status=0
for so in "${plugins[@]}"; do
  ok=1
  exported=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sort -u)
  if [[ "$exported" != "factotum_plugin_v1" ]]; then
    echo "FAIL $so must export factotum_plugin_v1 alone, it exports:" >&2
    echo "$exported" | sed 's/^/    /' >&2
    ok=0
  fi
  if nm -D --undefined-only "$so" | awk '{ print $NF }' | grep -q '^factotum'; then
    echo "FAIL $so has undefined factotum symbols (it would need the daemon):" >&2
    nm -D --undefined-only "$so" | awk '{ print $NF }' | grep '^factotum' | sed 's/^/    /' >&2
    ok=0
  fi
  needed=$(readelf -d "$so" | awk '/\(NEEDED\)/ { print $NF }' | tr -d '[]')
  if grep -Eqi 'factotum|boost' <<<"$needed"; then
    echo "FAIL $so depends on a daemon library:" >&2
    echo "$needed" | sed 's/^/    /' >&2
    ok=0
  fi
  if ((ok)); then
    echo "ok   $so exports only factotum_plugin_v1; needs $(tr '\n' ' ' <<<"$needed")"
  else
    status=1
  fi
done
exit $status
