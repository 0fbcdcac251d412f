#!/usr/bin/env bash
# Does what sdk/README.md tells a plugin author to do: installs the SDK component of BUILD_DIR
# to a temporary prefix, builds plugin projects against it with find_package(FactotumSDK) and
# runs them with `factotum run-job`. Built are the committed project SOURCE_DIR
# (tests/sdk/out_of_tree) and, when README is given, the README's own C++ and C examples,
# extracted verbatim, so the guide cannot drift from what works.
#   usage: out_of_tree.sh BUILD_DIR SOURCE_DIR [README]
set -euo pipefail
build=$1
source=$2
readme=${3:-}
factotum="$build/bin/factotum"
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -x "$factotum" ]] || fail "$factotum is missing: build the factotum target first"

# factotum refuses plugin files writable by group or others; whatever umask the caller has,
# build what a careful author would deploy.
umask 022
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --component sdk --prefix "$work/prefix" >"$work/install.log" ||
  fail "installing the sdk component failed: $(cat "$work/install.log")"
for f in include/factotum/sdk.h include/factotum/plugin.hpp; do
  [[ -f "$work/prefix/$f" ]] || fail "the sdk component does not install $f"
done

# build_plugin PROJECT_DIR NAME: configure + build like the README says; prints the .so path.
build_plugin() {
  local project=$1 name=$2
  cmake -S "$project" -B "$project/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
    >"$work/configure.log" 2>&1 || fail "configuring $project failed: $(cat "$work/configure.log")"
  cmake --build "$project/build" >"$work/build.log" 2>&1 ||
    fail "building $project failed: $(cat "$work/build.log")"
  [[ -f "$project/build/$name.so" ]] || fail "$project/build/$name.so was not built"
  local exported
  exported=$(nm -D --defined-only "$project/build/$name.so" | awk '{ print $NF }')
  [[ "$exported" == factotum_plugin_v1 ]] || fail "$name.so exports: $exported"
  echo "$project/build/$name.so"
}

# run_job EXIT PATTERN -- run-job args...
run_job() {
  local want=$1 pattern=$2 out code
  shift 3
  set +e
  out=$("$factotum" run-job --json "$@" 2>"$work/stderr")
  code=$?
  set -e
  [[ $code -eq $want ]] || fail "run-job $* exited $code, expected $want: $out $(cat "$work/stderr")"
  grep -q -- "$pattern" <<<"$out" || fail "run-job $* printed $out, expected $pattern"
  echo "ok   run-job $*"
}

cp -r "$source" "$work/committed"
plugin=$(build_plugin "$work/committed" hello)
run_job 0 '"status":"succeeded"' -- --plugin "$plugin" --jobtype Hello --args '["world"]'
run_job 1 '"errtype":"HelloError","message":"asked to fail"' -- --plugin "$plugin" --jobtype Hello --args '["fail"]'

if [[ -n "$readme" ]]; then
  # example FILE: the fenced code block that follows "<!-- example: FILE -->" in the README.
  example() {
    awk -v marker="<!-- example: $1 -->" '
      $0 == marker { armed = 1; next }
      armed && /^```/ { if (inside) exit; inside = 1; next }
      inside { print }' "$readme"
  }
  mkdir -p "$work/readme-cpp" "$work/readme-c"
  for f in readme-cpp/hello.cpp readme-cpp/CMakeLists.txt readme-c/noop.c readme-c/CMakeLists.txt; do
    example "$f" >"$work/$f"
  done
  for f in readme-cpp/hello.cpp readme-cpp/CMakeLists.txt readme-c/noop.c readme-c/CMakeLists.txt; do
    [[ -s "$work/$f" ]] || fail "no code block after <!-- example: $f --> in $readme"
  done
  plugin=$(build_plugin "$work/readme-cpp" hello)
  run_job 0 '"status":"succeeded"' -- --plugin "$plugin" --jobtype Hello --args '["world"]'
  run_job 1 '"errtype":"HelloError"' -- --plugin "$plugin" --jobtype Hello --args '["fail"]'
  plugin=$(build_plugin "$work/readme-c" noop)
  run_job 0 '"status":"succeeded"' -- --plugin "$plugin" --jobtype noop
fi
echo "out-of-tree plugins built with find_package(FactotumSDK) load and run"
