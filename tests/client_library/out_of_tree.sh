#!/usr/bin/env bash
# Does what daemon/libfaktory/README.md tells an application author to do: installs the
# library's packages' content (components faktory_lib and faktory_dev) to a temporary prefix,
# builds the installed example project with find_package(FactotumFaktory), and runs both of its
# producers against factotum-testserver while the factotum daemon (echo plugin) runs the jobs.
# The README's producer must be the installed example, verbatim.
# In a sanitizer build the installed library is instrumented, and so must the programs be.
#   usage: out_of_tree.sh BUILD_DIR LIBRARY_SOURCE_DIR [SANITIZERS]   (e.g. "address;undefined")
set -euo pipefail
build=$(readlink -f "$1")
source=$2
sanitize_flags=""
[[ -n ${3:-} ]] && sanitize_flags="-fsanitize=${3//;/,} -fno-omit-frame-pointer"
# (GCC 12 warns about atomic_thread_fence under TSan from inside libstdc++, as in the tree.)
[[ ${3:-} == thread ]] && sanitize_flags+=" -Wno-tsan"
bin=$build/bin
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in factotum factotum-testserver factotum-client; do
  [[ -x $bin/$tool ]] || fail "$bin/$tool is missing: build the tree first"
done
umask 022
work=$(mktemp -d)
server_pid="" daemon_pid=""
cleanup() {
  [[ -n $daemon_pid ]] && kill -KILL "$daemon_pid" 2>/dev/null || true
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The README shows the example producer as it is installed.
awk '/^```cpp producer.cpp$/ { on = 1; next } on && /^```$/ { exit } on' "$source/README.md" \
  >"$work/readme_producer.cpp"
diff -u "$source/examples/producer/producer.cpp" "$work/readme_producer.cpp" ||
  fail "README.md's producer.cpp block differs from examples/producer/producer.cpp"

prefix=$work/prefix
for component in faktory_lib faktory_dev; do
  cmake --install "$build" --component "$component" --prefix "$prefix" >>"$work/install.log" ||
    fail "installing $component failed: $(cat "$work/install.log")"
done
# (lib, or Debian's multiarch lib/<triplet>, as GNUInstallDirs chose.)
libdir=$(dirname "$(find "$prefix" -name 'libfactotum-faktory.so.0' | head -n1)")
libdir=${libdir#"$prefix"/}
for f in include/factotum/faktory.hpp include/factotum/faktory/async.hpp \
  "$libdir/libfactotum-faktory.so" "$libdir/libfactotum-faktory.so.0" \
  "$libdir/cmake/FactotumFaktory/FactotumFaktoryConfig.cmake" \
  share/doc/libfactotum-faktory-dev/README.md \
  share/doc/libfactotum-faktory-dev/examples/producer/CMakeLists.txt; do
  [[ -e $prefix/$f ]] || fail "the installed package lacks $f"
done

project=$work/producer
cp -r "$prefix/share/doc/libfactotum-faktory-dev/examples/producer" "$project"
cmake -S "$project" -B "$project/build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_FLAGS="-Wall -Wextra -pedantic -Werror $sanitize_flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$sanitize_flags" >"$work/configure.log" 2>&1 ||
  fail "configuring the example failed: $(cat "$work/configure.log")"
cmake --build "$project/build" >"$work/build.log" 2>&1 ||
  fail "building the example failed: $(cat "$work/build.log")"
for program in producer async_producer; do
  [[ -x $project/build/$program ]] || fail "$program was not built: $(cat "$work/build.log")"
done
# It runs on the installed library, found through its RUNPATH (not this build tree's).
ldd "$project/build/producer" | grep -q "$prefix/$libdir/libfactotum-faktory.so.0" ||
  fail "producer does not load the installed library: $(ldd "$project/build/producer")"

"$bin/factotum-testserver" --port 0 --fetch-block 500 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do grep -q "listening on" "$work/server.log" && break; sleep 0.1; done
address=$(sed -n 's/.*listening on //p' "$work/server.log" | head -n1)
[[ -n $address ]] || fail "factotum-testserver did not start: $(cat "$work/server.log")"
export FAKTORY_URL="tcp://$address"

cat >"$work/factotum.yaml" <<YAML
worker:
  concurrency: 2
plugins:
  directories: [$build/plugins]
  strict_permissions: false
YAML
"$bin/factotum" --config "$work/factotum.yaml" 2>"$work/factotum.log" &
daemon_pid=$!

"$project/build/producer" echo alpha beta gamma >"$work/jids" || fail "producer failed"
[[ $(wc -l <"$work/jids") -eq 3 ]] || fail "producer printed $(cat "$work/jids")"
"$project/build/async_producer" echo 4 >"$work/async.out" || fail "async_producer failed"
grep -q "^pushed 4, server " "$work/async.out" || fail "async_producer printed $(cat "$work/async.out")"

"$bin/factotum-client" wait-processed 7 --timeout 120 >/dev/null ||
  fail "the daemon did not run the 7 jobs: $(tail -n 30 "$work/factotum.log")"
failures=$("$bin/factotum-client" info | sed -n 's/.*"total_failures":\([0-9]*\).*/\1/p')
[[ $failures == 0 ]] || fail "$failures jobs failed: $(tail -n 30 "$work/factotum.log")"

# Bad input: the producer reports an unreachable server and exits non-zero.
set +e
FAKTORY_URL=tcp://127.0.0.1:1 "$project/build/producer" echo x 2>"$work/err"
status=$?
set -e
[[ $status -eq 69 ]] || fail "producer against no server exited $status"
grep -q "not connected" "$work/err" || fail "producer's error: $(cat "$work/err")"

kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=""
[[ $status -eq 0 ]] || fail "factotum exited $status: $(tail -n 30 "$work/factotum.log")"
echo "ok: the example producers, built against the installed package, pushed 7 jobs the daemon ran"
