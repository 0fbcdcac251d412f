#!/usr/bin/env bash
# Every shipped plugin exports exactly factotum_plugin_v1 and needs nothing from the daemon
# (DESIGN.md §4.3, §4.6).   usage: exported_symbols.sh PLUGIN_DIR
set -euo pipefail
dir=$1
shopt -s nullglob
plugins=("$dir"/*.so)
((${#plugins[@]})) || { echo "no plugins in $dir" >&2; exit 1; }
status=0
for so in "${plugins[@]}"; do
  exported=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sort -u)
  if [[ "$exported" != "factotum_plugin_v1" ]]; then
    echo "FAIL $so exports more than factotum_plugin_v1:" >&2
    echo "$exported" | sed 's/^/    /' >&2
    status=1
  fi
  if nm -D --undefined-only "$so" | grep -q 'factotum'; then
    echo "FAIL $so has undefined factotum symbols (it would need the daemon):" >&2
    nm -D --undefined-only "$so" | grep factotum >&2
    status=1
  fi
  if readelf -d "$so" | grep NEEDED | grep -qi factotum; then
    echo "FAIL $so links against a factotum library" >&2
    status=1
  fi
  [[ $status -eq 0 ]] && echo "ok   $so exports only factotum_plugin_v1"
done
exit $status
