#!/usr/bin/env bash
# Every public symbol of libfactotum-faktory has a Doxygen comment: doxygen reads the installed
# headers' sources with undocumented members reported as warnings, and any warning fails.
#   usage: documented.sh INCLUDE_DIR
set -euo pipefail
include=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v doxygen >/dev/null || fail "doxygen is missing: run scripts/setup --deps"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/Doxyfile" <<DOXY
INPUT                  = $include/factotum/faktory.hpp $include/factotum/faktory
RECURSIVE              = YES
FILE_PATTERNS          = *.hpp
EXTRACT_ALL            = NO
EXTRACT_PRIVATE        = NO
HIDE_UNDOC_CLASSES     = NO
WARN_IF_UNDOCUMENTED   = YES
WARN_IF_DOC_ERROR      = YES
WARN_NO_PARAMDOC       = NO
WARN_LOGFILE           = $work/warnings.txt
QUIET                  = YES
GENERATE_HTML          = NO
GENERATE_LATEX         = NO
GENERATE_XML           = YES
OUTPUT_DIRECTORY       = $work/out
ENABLE_PREPROCESSING   = YES
MACRO_EXPANSION        = YES
PREDEFINED             = FACTOTUM_FAKTORY_API=
DOXY
doxygen "$work/Doxyfile" >"$work/doxygen.log" 2>&1 || fail "doxygen failed: $(cat "$work/doxygen.log")"
if [[ -s $work/warnings.txt ]]; then
  fail "undocumented or badly documented public symbols:
$(sed "s|$include/||" "$work/warnings.txt")"
fi
count=$(grep -ho '<memberdef kind="[a-z]*"' "$work"/out/xml/*.xml | wc -l)
((count > 50)) || fail "doxygen found only $count members: is the input right?"
echo "ok: $count public members, every one documented"
