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
: >"$work/stderr"

[[ -x "$factotum" ]] || fail "$factotum is missing: build the factotum target first"
for so in echo joblog shell; do
  [[ -f "$plugins/$so.so" ]] || fail "$plugins/$so.so is missing: build the $so target first"
done

# echo: logs its args and succeeds.
expect 0 '"status":"succeeded"' -- --plugin "$plugins/echo.so" --jobtype echo --args '["hi"]'
expect 0 'echo \["hi"\]' -- --plugin "$plugins/echo.so" --jobtype echo --args '["hi"]'
expect 1 '"errtype":"UnknownJobtype"' -- --plugin "$plugins/echo.so" --jobtype nope

# joblog (plain C): sleep, and the middleware around a C++ plugin's job.
expect 0 '"status":"succeeded"' -- --plugin "$plugins/joblog.so" --jobtype sleep --args '[10]'
expect 1 '"errtype":"ArgumentError"' -- --plugin "$plugins/joblog.so" --jobtype sleep --args '[]'
expect 1 '"errtype":"ArgumentError"' -- --plugin "$plugins/joblog.so" --jobtype sleep --args '["ten"]'
expect 0 'job echo jid=.* succeeded in' -- --plugin "$plugins/joblog.so" --plugin "$plugins/echo.so" --jobtype echo
expect 0 'job sleep jid=.* succeeded in' -- --plugin "$plugins/joblog.so" --jobtype sleep --args '[5]'
expect 1 'job sleep jid=.* failed in' -- --plugin "$plugins/joblog.so" --jobtype sleep --args '[]'
expect 2 'not an ELF' -- --plugin "$work/stderr" --no-strict-permissions --jobtype echo

# shell: --plugin-config shell=JSON, as the daemon converts plugins.config.shell.
shell_config() { echo "shell={\"jobtypes\":{$1}}"; }
run_shell() {  # run_shell EXIT PATTERN JOBTYPES_JSON JOBTYPE [ARGS]
  expect "$1" "$2" -- --plugin "$plugins/shell.so" --plugin-config "$(shell_config "$3")" \
    --jobtype "$4" --args "${5:-[]}"
}
run_shell 0 '"status":"succeeded"' '"greet":{"command":["/bin/echo","hello","{0}"]}' greet '["world"]'
# Strings are substituted verbatim (one argv element, no shell), other values as JSON.
run_shell 0 '"status":"succeeded"' \
  '"check":{"command":["/bin/sh","-c","[ \"$1\" = \"a b;c\" ] && [ \"$2\" = 42 ] && [ \"$3\" = \"{{\\\"k\\\":[1]}}\" ]","sh","{0}","{1}","{2}"]}' \
  check '["a b;c",42,{"k":[1]}]'
run_shell 1 '"message":"/bin/sh exited with status 3: oops"' \
  '"three":{"command":["/bin/sh","-c","echo oops >&2; exit 3"]}' three
run_shell 1 '"errtype":"ShellCommandFailed"' '"ls":{"command":["/bin/ls","/nonexistent-dir"]}' ls
run_shell 1 'nonexistent-dir' '"ls":{"command":["/bin/ls","/nonexistent-dir"]}' ls
run_shell 1 'killed by signal SIGKILL' '"die":{"command":["/bin/sh","-c","kill -KILL $$"]}' die
run_shell 1 '"errtype":"ShellCommandTimeout"' '"slow":{"command":["/bin/sleep","30"],"timeout":"200ms"}' slow
run_shell 1 '"errtype":"ShellArgumentError"' '"greet":{"command":["/bin/echo","{1}"]}' greet '["only one"]'
run_shell 2 'plugins.config.shell.jobtypes.bad.command: expected a non-empty list of strings' \
  '"bad":{"command":"not a list"}' bad
run_shell 2 'plugins.config.shell.jobtypes.bad.timeout' \
  '"bad":{"command":["/bin/true"],"timeout":"soon"}' bad

echo "shipped plugins behave as documented"
