#!/bin/sh
# usage: expect_run.sh STATUS STDOUT_REGEX STDERR_REGEX COMMAND [ARG...]
# Runs COMMAND once and fails unless it exits with STATUS, its stdout matches the extended
# regular expression STDOUT_REGEX ("" = stdout must be empty) and its stderr matches
# STDERR_REGEX ("" = stderr is not checked). Both the status and the output are checked:
# ctest's PASS_REGULAR_EXPRESSION would ignore the exit status, and in `cmd | grep` the
# status is grep's.
want_status=$1 want_stdout=$2 want_stderr=$3
shift 3
command="$*"

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
"$@" >"$work/stdout" 2>"$work/stderr"
status=$?

fail() {
  echo "FAIL: $*" >&2
  echo "  command: $command" >&2
  echo "  stdout: $(cat "$work/stdout")" >&2
  echo "  stderr: $(cat "$work/stderr")" >&2
  exit 1
}

[ "$status" -eq "$want_status" ] || fail "exited $status, expected $want_status"
if [ -z "$want_stdout" ]; then
  [ ! -s "$work/stdout" ] || fail "printed to stdout, expected nothing"
else
  grep -Eq -- "$want_stdout" "$work/stdout" || fail "stdout does not match /$want_stdout/"
fi
if [ -n "$want_stderr" ]; then
  grep -Eq -- "$want_stderr" "$work/stderr" || fail "stderr does not match /$want_stderr/"
fi
echo "ok: exited $status"
