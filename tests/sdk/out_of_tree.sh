#!/usr/bin/env bash
# Installs the SDK component of BUILD_DIR to a temporary prefix, builds the out-of-tree plugin
# project against it with find_package(FactotumSDK), and runs it with `factotum run-job`.
#   usage: out_of_tree.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --component sdk --prefix "$work/prefix" >/dev/null
cmake -S "$source" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
plugin="$work/build/hello.so"
[[ -f "$plugin" ]] || { echo "FAIL: $plugin was not built" >&2; exit 1; }

out=$("$build/bin/factotum" run-job --plugin "$plugin" --jobtype Hello --args '["world"]' --json)
echo "$out"
grep -q '"status":"succeeded"' <<<"$out" || { echo "FAIL: expected success" >&2; exit 1; }

set +e
out=$("$build/bin/factotum" run-job --plugin "$plugin" --jobtype Hello --args '["fail"]' --json)
code=$?
set -e
echo "$out"
[[ $code -eq 1 ]] || { echo "FAIL: expected exit 1 for a failed job, got $code" >&2; exit 1; }
grep -q '"errtype":"HelloError"' <<<"$out" || { echo "FAIL: expected errtype HelloError" >&2; exit 1; }
echo "out-of-tree plugin built with find_package(FactotumSDK) loads and runs"
