#!/usr/bin/env bash
# The man pages cannot drift from the programs: every option `--help` prints (long and short)
# must appear in the page, and the pages must render without a groff or man warning.
#   usage: man_pages.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

# options HELP_TEXT: "--name" and "-x" for every option line of a Boost.Program_options help.
options() {
  grep -E '^  -' <<<"$1" | sed -E 's/^ +//; s/ +arg\b.*//; s/  .*//; s/\[ //; s/ \]//' | tr ' ' '\n'
}
# check PAGE COMMAND...: the options COMMAND --help lists, each in PAGE.
check() {
  local page=$1
  shift
  local help missing=()
  help=$("$@" --help) || fail "$* --help failed"
  local opts
  opts=$(options "$help")
  [[ -n $opts ]] || fail "found no options in: $help"
  while read -r opt; do
    # In roff a dash is \-; a short option must not match inside a long one (\-\-config).
    local escaped=${opt//-/\\\\-}
    grep -Eq "(^|[^-])${escaped}([^a-z-]|$)" "$page" || missing+=("$opt")
  done <<<"$opts"
  ((${#missing[@]} == 0)) || fail "$(basename "$page") does not document ${missing[*]} of '$*'"
  echo "ok   $(basename "$page") documents $(wc -l <<<"$opts") options of '$*'"
}

factotum8=$source/packaging/man/factotum.8
testserver1=$source/packaging/man/factotum-testserver.1
check "$factotum8" "$build/bin/factotum"
check "$factotum8" "$build/bin/factotum" run-job
check "$factotum8" "$build/bin/factotum" ctl
check "$testserver1" "$build/bin/factotum-testserver"

for page in "$build/packaging/factotum.8" "$build/packaging/factotum-testserver.1"; do
  [[ -f $page ]] || fail "$page is missing: build the tree first"
  grep -q '@PROJECT_VERSION@' "$page" && fail "$page still has @PROJECT_VERSION@"
  # What lintian runs on man pages (groff -ww): any warning fails.
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
  [[ -z $warnings ]] || fail "$(basename "$page") renders with warnings: $warnings"
  echo "ok   $(basename "$page") renders without warnings"
done
