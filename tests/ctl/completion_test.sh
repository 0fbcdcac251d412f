#!/usr/bin/env bash
# The bash completion of factotum(8) offers each ctl command, its words and its options.
# Completing is done as bash does it: the line is split into COMP_WORDS at blanks and at the
# ':' and '=' of COMP_WORDBREAKS (tcp://h:7419 is five words, --target=r three). With the
# real bash-completion installed, its _init_completion is used; without it, a stand-in that
# reassembles the words the same way (-n, -s); the test then needs bash alone.
#   usage: completion_test.sh COMPLETION_FILE
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }

helpers=/usr/share/bash-completion/bash_completion
if [[ -r $helpers && -z ${FACTOTUM_TEST_STUB_COMPLETION:-} ]]; then
    set +eu
    # shellcheck source=/dev/null
    source "$helpers"
    set -eu
    echo "using $helpers"
else
    # What _init_completion -s -n CHARS does with COMP_WORDS: words made of CHARS alone are
    # joined with their neighbours (as typed, without blanks around them); -s then splits a
    # current word --opt=value into prev=--opt and cur=value.
    _init_completion() {
        local exclude="" split_value="" flag OPTIND=1
        while getopts "n:s" flag "$@"; do
            case $flag in
                n) exclude+=$OPTARG ;;
                s) split_value=yes exclude+="=" ;;
                *) ;;
            esac
        done
        words=()
        cword=-1
        local i joined=false
        for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
            local word=${COMP_WORDS[i]}
            if [[ -n $word && -z ${word//[$exclude]/} ]] && ((${#words[@]} > 0)); then
                words[-1]+=$word  # ':' or '=': part of the word before it...
                joined=true
            elif $joined; then
                words[-1]+=$word  # ...and of the one after it
                joined=false
            else
                words+=("$word")
            fi
            ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
        done
        cur=${words[cword]}
        prev=${words[cword - 1]:-}
        if [[ -n $split_value ]]; then
            split=false
            if [[ $cur == --?*=* ]]; then
                prev=${cur%%=*}
                cur=${cur#*=}
                split=true
            fi
        fi
        ((cword > 0))
    }
    echo "using a stand-in for bash-completion's _init_completion"
fi
_filedir() { COMPREPLY=("<files${1:+:$1}>"); }
complete() { :; }
# shellcheck source=/dev/null
source "$1"

# COMP_WORDS as bash makes them: split at blanks, and each run of ':' or '=' a word of its own.
split_like_bash() {
    local line=$1 word
    COMP_WORDS=()
    for word in $line; do
        while [[ $word =~ ^([^:=]*)([:=]+)(.*)$ ]]; do
            [[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
            COMP_WORDS+=("${BASH_REMATCH[2]}")
            word=${BASH_REMATCH[3]}
        done
        [[ -n $word ]] && COMP_WORDS+=("$word")
    done
    [[ $line == *" " ]] && COMP_WORDS+=("")
    return 0
}

# expect "LINE" "WORDS...": completing at the end of LINE offers exactly WORDS (any order).
expect() {
    local line=$1 want=$2
    split_like_bash "$line"
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    _factotum
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | xargs)
    want=$(printf '%s\n' $want | sort | xargs)
    [[ $got == "$want" ]] || fail "'$line' offers '$got', expected '$want'"
    echo "ok   '$line' -> $got"
}

expect "factotum ru" "run-job"
expect "factotum c" "ctl"
expect "factotum --pid" "--pidfile"
expect "factotum --pidfile " "<files:pid>"
expect "factotum --config=" "<files:@(yaml|yml)>"
expect "factotum ctl " "push info queue mutate quiet stop"
expect "factotum ctl --url tcp://h:7419 q" "queue quiet"
expect "factotum ctl --url tcp://h:7419 queue " "pause resume remove"
expect "factotum ctl --url=tcp://h:7419 queue " "pause resume remove"
expect "factotum ctl queue " "pause resume remove"
expect "factotum ctl queue pause " ""
expect "factotum ctl queue remove old --" "--config --url --yes --help"
expect "factotum ctl mutate " "requeue discard kill"
expect "factotum ctl mutate requeue --target " "retries scheduled dead"
expect "factotum ctl mutate requeue --target=r" "retries"
expect "factotum ctl mutate requeue --target=" "retries scheduled dead"
expect "factotum ctl mutate kill --target retries --j" "--jobtype --jids"
expect "factotum ctl mutate kill --target=retries --j" "--jobtype --jids"
expect "factotum ctl push send_mail --" "--queue --at --retry --custom --config --url --help"
expect "factotum ctl --config f.yaml info --" "--json --config --url --help"
expect "factotum ctl --config=f.yaml info --" "--json --config --url --help"
expect "factotum ctl stop --" "--pidfile --unit --timeout --no-wait --config --help"
expect "factotum ctl quiet --pidfile " "<files:pid>"
expect "factotum ctl quiet --pidfile=" "<files:pid>"
expect "factotum ctl info --config " "<files:@(yaml|yml)>"
expect "factotum run-job --j" "--jobtype --json"
echo "all completions as expected"
