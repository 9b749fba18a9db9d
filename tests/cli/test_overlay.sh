#!/bin/bash
# The command line's overlay workspaces: run --overlay DIR[:UPPER], the
# "overlay" member of --json, and `agentsbx overlay diff|apply|discard`.
#
#   test_overlay.sh PATH/TO/agentsbx CASE
#
# Exit 0: passed, 1: failed, 77: skipped (with the reason on stderr). Works as
# root and as an unprivileged user.
set -u

. "$(dirname "$0")/common.sh" test_cli_overlay "$@"

sbx() {
    "$SBX" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
    rc=$?
}

show() {
    printf '\n--- stdout:\n%s\n--- stderr:\n%s' "$(cat "$TMP/out")" "$(cat "$TMP/err")"
}

expect_rc() {
    [ "$rc" -eq "$1" ] || fail "expected exit status $1, got $rc$(show)"
}

expect_out() {
    [ "$(cat "$TMP/out")" = "$1" ] || fail "expected stdout '$1'$(show)"
}

expect_err_has() {
    grep -qF -- "$1" "$TMP/err" || fail "stderr does not contain '$1'$(show)"
}

# A workspace: f ("a"), g, d/x.
make_ws() {
    mkdir -p "$TMP/ws/d" && echo a >"$TMP/ws/f" && echo g >"$TMP/ws/g" && echo x >"$TMP/ws/d/x"
}

# The run, skipping where the host cannot make an overlay.
run_overlay() {
    sbx "$@"
    if [ "$rc" -eq 125 ] && grep -qE "mounting an overlay|mount namespace" "$TMP/err"; then
        skip "no overlay here: $(cat "$TMP/err")"
    fi
}

case_run_diff_apply_discard() {
    make_ws
    cd "$TMP/ws" || fail "cd"
    run_overlay run --overlay ".:$TMP/up" --tool sed --tool rm --json -- \
        sh -c 'sed -i s/a/b/ f && rm -r g d && echo n > n'
    expect_rc 0
    /usr/bin/python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
o = d["overlay"]
assert len(o) == 1 and o[0]["lower"] == sys.argv[2] and o[0]["upper"] == sys.argv[3], o
assert o[0]["changes"] == [
    {"path": "d", "kind": "deleted", "type": "dir"},
    {"path": "d/x", "kind": "deleted", "type": "file"},
    {"path": "f", "kind": "modified", "type": "file"},
    {"path": "g", "kind": "deleted", "type": "file"},
    {"path": "n", "kind": "added", "type": "file"}], o[0]["changes"]
' "$TMP/err" "$TMP/ws" "$TMP/up" || fail "--json's overlay$(show)"
    # the host's workspace is untouched
    [ "$(cat "$TMP/ws/f")" = a ] && [ -e "$TMP/ws/g" ] && [ -e "$TMP/ws/d/x" ] &&
        [ ! -e "$TMP/ws/n" ] || fail "the workspace was changed"
    sbx overlay diff . "$TMP/up"
    expect_rc 0
    expect_out "deleted dir d
deleted file d/x
modified file f
deleted file g
added file n"
    sbx overlay apply . "$TMP/up"
    expect_rc 0
    [ "$(cat "$TMP/ws/f")" = b ] && [ ! -e "$TMP/ws/g" ] && [ ! -e "$TMP/ws/d" ] &&
        [ "$(cat "$TMP/ws/n")" = n ] || fail "apply did not give the child's tree"
    sbx overlay discard . "$TMP/up"
    expect_rc 0
    [ ! -e "$TMP/up" ] || fail "discard left $TMP/up"
    ls -A "$TMP" | grep -q agentsbx-work && fail "a work directory is left"
    true
}

case_private_upper() {
    make_ws
    TMPDIR=$TMP run_overlay run --overlay "$TMP/ws" --json -- sh -c "echo new > $TMP/ws/new"
    expect_rc 0
    up=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["overlay"][0]["upper"])' "$TMP/err") ||
        fail "no upper in --json$(show)"
    case $up in "$TMP"/agentsbx-overlay.*) ;; *) fail "the private upper $up is not in \$TMPDIR" ;; esac
    [ -d "$up" ] || fail "the private upper directory $up is not there"
    [ ! -e "$TMP/ws/new" ] || fail "the workspace was changed"
    sbx overlay diff "$TMP/ws" "$up"
    expect_out "added file new"
    sbx overlay discard "$TMP/ws" "$up"
    expect_rc 0
    [ ! -e "$up" ] || fail "discard left $up"
}

case_fails_closed_without_view() {
    make_ws
    sbx run --isolation minimal --overlay "$TMP/ws:$TMP/up" -- sh -c "echo x > $TMP/ws/x"
    expect_rc 125
    expect_err_has "sbx_overlay($TMP/ws): an overlay needs the mount namespace's view"
    expect_err_has "--isolation"
    [ ! -e "$TMP/ws/x" ] && [ ! -e "$TMP/up" ] || fail "something was written"
    # the control: without the overlay the same run writes the workspace
    sbx run --isolation minimal --rw "$TMP/ws" -- sh -c "echo x > $TMP/ws/x"
    expect_rc 0
    [ -e "$TMP/ws/x" ] || fail "the control did not write"
}

case_bad_input() {
    make_ws
    sbx run --overlay "" -- true
    expect_rc 125
    expect_err_has "--overlay: expected DIR[:UPPER]"
    sbx run --overlay "$TMP/nope" -- true
    expect_rc 125
    expect_err_has "$TMP/nope"
    sbx run --overlay "$TMP/ws:$TMP/ws/up" -- true
    expect_rc 125
    expect_err_has "overlap"
    # a private upper directory inside the lower one ($TMPDIR there): refused, nothing left
    mkdir "$TMP/ws/tmp"
    TMPDIR=$TMP/ws/tmp sbx run --overlay "$TMP/ws" -- true
    expect_rc 125
    expect_err_has "and the lower one overlap"
    [ -z "$(ls -A "$TMP/ws/tmp")" ] || fail "a private upper directory was left in $TMP/ws/tmp"
    ls -A "$TMP/ws" | grep -q agentsbx-work && fail "a work directory is left"
    sbx overlay diff "$TMP/ws"
    expect_rc 125
    expect_err_has "expected diff, apply or discard"
    sbx overlay frob "$TMP/ws" "$TMP/up"
    expect_rc 125
    sbx overlay diff "$TMP/ws" "$TMP/ws/f"
    expect_rc 125
    expect_err_has "the upper directory is not a directory"
    sbx overlay discard "$TMP/ws" "$TMP/nope"
    expect_rc 125
    expect_err_has "$TMP/nope"
}

if ! declare -F "case_$CASE" >/dev/null; then
    echo "unknown case '$CASE'" >&2
    exit 2
fi
[ -x "$SBX" ] || fail "$SBX is not executable"
"case_$CASE"
echo "PASS: $CASE"
