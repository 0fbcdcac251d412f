#!/usr/bin/env bash
# The shipped plugins, run through `factotum run-job`.   usage: shipped_plugins.sh BUILD_DIR
set -euo pipefail
build=$1
factotum="$build/bin/factotum"
plugins="$build/plugins"
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect EXIT_CODE PATTERN -- run-job args...
expect() {
  local want=$1 pattern=$2; shift 3
  local out code
  set +e
  out=$("$factotum" run-job --json "$@" 2>"$work/stderr")
  code=$?
  set -e
  [[ $code -eq $want ]] || fail "run-job $* exited $code, expected $want: $out $(cat "$work/stderr")"
  grep -q -- "$pattern" <<<"$out$(cat "$work/stderr")" || fail "run-job $* did not print '$pattern': $out $(cat "$work/stderr")"
  echo "ok   $*"
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

expect 0 '"status":"succeeded"' -- --plugin "$plugins/echo.so" --jobtype echo --args '["hi"]'
expect 0 'echo \["hi"\]' -- --plugin "$plugins/echo.so" --jobtype echo --args '["hi"]'
expect 0 '"status":"succeeded"' -- --plugin "$plugins/joblog.so" --jobtype sleep --args '[10]'
expect 1 '"errtype":"ArgumentError"' -- --plugin "$plugins/joblog.so" --jobtype sleep --args '[]'
# The C middleware wraps a C++ plugin's job.
expect 0 'job echo jid=.* succeeded' -- --plugin "$plugins/joblog.so" --plugin "$plugins/echo.so" --jobtype echo
expect 1 '"errtype":"UnknownJobtype"' -- --plugin "$plugins/echo.so" --jobtype nope
expect 2 'not an ELF' -- --plugin "$work/../$(basename "$work")/stderr" --jobtype echo

if [[ -f "$plugins/shell.so" ]]; then
  shell() { echo "shell={\"jobtypes\":{$1}}"; }
  expect 0 '"status":"succeeded"' -- --plugin "$plugins/shell.so" \
    --plugin-config "$(shell '"greet":{"command":["/bin/echo","hello","{0}"]}')" --jobtype greet --args '["world"]'
  expect 1 'ShellCommandFailed' -- --plugin "$plugins/shell.so" \
    --plugin-config "$(shell '"ls":{"command":["/bin/ls","/nonexistent-dir"]}')" --jobtype ls
  expect 1 'nonexistent-dir' -- --plugin "$plugins/shell.so" \
    --plugin-config "$(shell '"ls":{"command":["/bin/ls","/nonexistent-dir"]}')" --jobtype ls
  expect 1 'ShellCommandTimeout' -- --plugin "$plugins/shell.so" \
    --plugin-config "$(shell '"slow":{"command":["/bin/sleep","30"],"timeout":"200ms"}')" --jobtype slow
  expect 1 'ShellArgumentError' -- --plugin "$plugins/shell.so" \
    --plugin-config "$(shell '"greet":{"command":["/bin/echo","{1}"]}')" --jobtype greet --args '["only one"]'
  expect 2 'command' -- --plugin "$plugins/shell.so" \
    --plugin-config "$(shell '"bad":{"command":"not a list"}')" --jobtype bad
fi
echo "shipped plugins behave as documented"
