#!/bin/bash
# Tests of the agentsbx command-line tool.
#
#   test_cli.sh PATH/TO/agentsbx CASE
#
# Runs one case, a function case_CASE below; tests/cli/CMakeLists.txt registers
# each of them as the ctest test test_cli__CASE. Exit 0: passed, 1: failed,
# 77: skipped (with the reason on stderr). The cases work as root and as an
# unprivileged user; temporary files live in a mktemp -d directory.
set -u

. "$(dirname "$0")/common.sh" test_cli "$@"

# sbx ARGS...: run agentsbx with stdin from /dev/null; stdout in $TMP/out,
# stderr in $TMP/err, exit status in $rc.
sbx() {
    "$SBX" "$@" <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}
: >"$TMP/in"

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

expect_err_lacks() {
    ! grep -qF -- "$1" "$TMP/err" || fail "stderr contains '$1'$(show)"
}

expect_err_empty() {
    [ ! -s "$TMP/err" ] || fail "stderr is not empty$(show)"
}

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# json_check PYTHON-EXPRESSION: stderr must be exactly one JSON object, bound
# to d, for which the expression is true.
json_check() {
    local py
    # The system's python3 first: it starts faster than a version manager's shim.
    if [ -x /usr/bin/python3 ]; then
        py=/usr/bin/python3
    else
        py=$(command -v python3) || skip "python3 is not installed"
    fi
    "$py" -c '
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text)
assert isinstance(d, dict), "not an object"
assert text.count("\n") == 1 and text.endswith("\n"), "not one line"
assert eval(sys.argv[2]), "false: " + sys.argv[2]
' "$TMP/err" "$1" 2>"$TMP/py.err" || fail "JSON check '$1': $(cat "$TMP/py.err")$(show)"
}

# ---------------------------------------------------------------- exit status

case_exit_code() {
    sbx run -- sh -c 'exit 3'
    expect_rc 3
    sbx run sh -c 'exit 0'
    expect_rc 0
    sbx run sh -c 'exit 255'
    expect_rc 255
    sbx run echo hello
    expect_rc 0
    expect_out hello
    expect_err_empty
}

case_stdio() {
    echo "from stdin" >"$TMP/in"
    sbx run --tool cat sh -c 'cat; echo to-stderr >&2'
    expect_rc 0
    expect_out "from stdin"
    [ "$(cat "$TMP/err")" = "to-stderr" ] || fail "child's stderr not passed through$(show)"
}

case_signal() {
    sbx run -- sh -c 'kill -TERM $$'
    expect_rc 143
    sbx run -- sh -c 'kill -KILL $$'
    expect_rc 137
}

case_timeout() {
    local t0 t1
    t0=$(now_ms)
    sbx run --timeout 0.3 sleep 10
    t1=$(now_ms)
    expect_rc 124
    expect_err_has "agentsbx: timed out after 0.300 s"
    [ $((t1 - t0)) -lt 5000 ] || fail "took $((t1 - t0)) ms"
    [ $((t1 - t0)) -ge 300 ] || fail "returned after $((t1 - t0)) ms, before the timeout"
    # A fraction of a millisecond rounds up to 1 ms; it does not become "no limit".
    sbx run --timeout 0.0001 sleep 5
    expect_rc 124
    # A child that ends in time is not affected.
    sbx run --timeout 5 sh -c 'exit 7'
    expect_rc 7
    expect_err_empty
}

case_timeout_kills_group() {
    # The whole process group goes, not only the main process.
    local t0 t1
    t0=$(now_ms)
    sbx run --timeout 0.3 --tool sleep sh -c 'sleep 10 & sleep 10 & wait'
    t1=$(now_ms)
    expect_rc 124
    [ $((t1 - t0)) -lt 5000 ] || fail "took $((t1 - t0)) ms"
}

# The --json object is always stderr's last line, whole, also when the child's
# own last line there was left unfinished: without a newline at the end, or cut
# by a kill (the timeout here); with 2>&1, where stdout's unfinished line counts.
case_json_own_line() {
    local py=/usr/bin/python3
    [ -x "$py" ] || py=$(command -v python3) || skip "python3 is not installed"
    last_line_is_json() {
        "$py" -c '
import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "", "no newline at the end"
d = json.loads(lines[-2])
assert lines[-3] == sys.argv[2], "line before the object: %r" % lines[-3]
assert "" not in lines[:-1] or sys.argv[2] == "", "an empty line was added"
' "$1" "$2" 2>"$TMP/py.err" || fail "last line of $1: $(cat "$TMP/py.err")$(show)"
    }
    sbx run --json -- sh -c 'printf "one\nunfinished" >&2; exit 3'
    expect_rc 3
    last_line_is_json "$TMP/err" unfinished
    sbx run --json --timeout 0.5 --tool sleep -- sh -c 'printf "cut" >&2; exec sleep 30'
    expect_rc 124
    last_line_is_json "$TMP/err" cut
    # A finished line gets no empty line after it.
    sbx run --json -- sh -c 'echo whole >&2'
    expect_rc 0
    last_line_is_json "$TMP/err" whole
    # 2>&1: the child's stdout left unfinished.
    "$SBX" run --json -- sh -c 'printf "out-unfinished"' <"$TMP/in" >"$TMP/both" 2>&1
    rc=$?
    expect_rc 0
    last_line_is_json "$TMP/both" out-unfinished
    # The control: without the fix the object would be glued to the line.
    grep -q '^out-unfinished{' "$TMP/both" && fail "glued$(show)"
    return 0
}

case_quiet() {
    sbx run --quiet --timeout 0.3 sleep 10
    expect_rc 124
    expect_err_empty
    sbx run --quiet --workdir "$TMP/nope" true
    expect_rc 125
    expect_err_empty
    sbx run --quiet --rw "$TMP" --fsize 1K dd if=/dev/zero of="$TMP/f" bs=1M count=1 status=none
    expect_rc 153
    expect_err_empty
}

case_not_found() {
    sbx run no-such-program-agentsbx-test
    expect_rc 127
    expect_err_has "agentsbx: "
    sbx run -- "$TMP/no-such-program"
    expect_rc 127
    expect_err_has "$TMP/no-such-program"
    # A path through a file: a component is not a directory.
    : >"$TMP/file"
    sbx run -- "$TMP/file/prog"
    expect_rc 127
}

case_not_executable() {
    printf '#!/bin/sh\nexit 0\n' >"$TMP/script"
    chmod 644 "$TMP/script"
    sbx run -- "$TMP/script"
    expect_rc 126
    expect_err_has "agentsbx: "
    chmod 755 "$TMP/script"
    sbx run -- "$TMP/script"
    expect_rc 0
    # A directory is found but cannot be executed.
    sbx run -- "$TMP"
    expect_rc 126
}

case_workdir_missing() {
    sbx run --workdir "$TMP/nope" true
    expect_rc 125
    expect_err_has "agentsbx: "
    expect_err_has "chdir("
    expect_err_has "$TMP/nope"
    # A relative one is reported resolved against the current directory.
    cd "$TMP" || fail "cd"
    sbx run --workdir nope true
    expect_rc 125
    expect_err_has "chdir($TMP/nope)"
}

case_workdir() {
    mkdir -p "$TMP/a/b"
    ln -s a/b "$TMP/link"
    sbx run --workdir "$TMP/a" pwd
    expect_rc 0
    expect_out "$TMP/a"
    cd "$TMP" || fail "cd"
    sbx run --workdir a/b pwd
    expect_rc 0
    expect_out "$TMP/a/b"
    sbx run --workdir link sh -c 'pwd -P'
    expect_rc 0
    expect_out "$TMP/a/b"
    # The directory is resolved before the library sees it (HOME is set to it).
    sbx run --workdir a/../link sh -c 'echo "$HOME"'
    expect_rc 0
    expect_out "$TMP/a/b"
    cd "$TMP/a" || fail "cd"
    sbx run pwd
    expect_rc 0
    expect_out "$TMP/a"
}

# Without --workdir the current directory is granted read-only, but never the
# home directory: run from there, the child starts in / and the run says why
# (the library's note); from a directory that is granted, it starts there.
case_start_dir_unreadable() {
    need_python3
    mkdir -p "$TMP/home" "$TMP/proj"
    local note="the child started in / instead of the host's current directory $TMP/home, which the policy does not let it read; set a working directory (sbx_set_workdir(), --workdir DIR) or grant it read (sbx_allow_path(p, DIR, SBX_FS_READ), --ro DIR)"
    for mode in minimal auto; do
        cd "$TMP/home" || fail "cd"
        HOME=$TMP/home sbx run --isolation $mode -- /bin/pwd
        expect_rc 0
        expect_out "/"
        [ "$(cat "$TMP/err")" = "agentsbx: $note" ] || fail "$mode: expected the note$(show)"
        HOME=$TMP/home sbx run --isolation $mode --json -- /bin/pwd
        expect_rc 0
        NOTE=$note json_check "d['workdir_note'] == __import__('os').environ['NOTE']"
        HOME=$TMP/home sbx run --isolation $mode --ro "$TMP/home" -- /bin/pwd
        expect_rc 0
        expect_out "$TMP/home"
        expect_err_empty
        cd "$TMP/proj" || fail "cd"
        HOME=$TMP/home sbx run --isolation $mode -- /bin/pwd
        expect_rc 0
        expect_out "$TMP/proj"
        expect_err_empty
    done
}

# ---------------------------------------------------------- option values

case_unshare() {
    sbx run --unshare user,bogus true
    expect_rc 125
    expect_err_has "agentsbx: --unshare: sbx_parse_namespaces: unknown namespace 'bogus'"
    [ ! -s "$TMP/out" ] || fail "ran the program with a bad --unshare$(show)"
    if ! "$SBX" check --json | /usr/bin/python3 -c '
import json, sys
sys.exit(0 if json.load(sys.stdin)["features"]["pid_ns"]["available"] else 1)'; then
        skip "pid namespaces are not available here"
    fi
    # The program is pid 2 (the init is 1), and its exit status comes through.
    sbx run --unshare pid,uts --json -- sh -c 'echo $$; exit 3'
    expect_rc 3
    expect_out "2"
    json_check '"namespaces" in d["layers"] and d["exit_code"] == 3'
}

case_bad_size() {
    local v
    for v in 12Q -1 '' ' 1' '+1' 1KK 1.5K 0x10 1K2 K 18446744073709551616 \
        99999999999999999999 18014398509481984G; do
        sbx run --memory "$v" true
        expect_rc 125
        expect_err_has "agentsbx: --memory: invalid size '$v'"
        [ ! -s "$TMP/out" ] || fail "ran the program with --memory '$v'$(show)"
    done
    sbx run --fsize=12Q true
    expect_rc 125
    expect_err_has "agentsbx: --fsize: invalid size '12Q'"
    # Good ones pass, and a value the library refuses is reported by name.
    sbx run --memory 64M --fsize 1g true
    expect_rc 0
    sbx run --memory 12 true
    expect_rc 125
    expect_err_has "agentsbx: --memory '12': "
}

case_bad_duration() {
    local v
    for v in abc -1 '' 1. . 1e3 ' 1' 1S 1sec inf nan 0x1 1,5 0.1234567891 \
        99999999999999999999 18446744074; do
        sbx run --timeout "$v" true
        expect_rc 125
        expect_err_has "agentsbx: --timeout: invalid duration '$v'"
        sbx run --cpu "$v" true
        expect_rc 125
        expect_err_has "agentsbx: --cpu: invalid duration '$v'"
    done
    sbx run --timeout .5 --cpu 0.25 true
    expect_rc 0
    sbx run --timeout 500ms --cpu 1s true # the library's grammar (sbx_parse_duration)
    expect_rc 0
    sbx run --json --timeout 2m --cpu 1h true
    expect_rc 0
    sbx run --timeout 0 true
    expect_rc 125
    expect_err_has "agentsbx: --timeout '0': "
}

case_bad_count() {
    local v
    for v in 1K -3 '' ' 4' 4x 99999999999999999999; do
        sbx run --files "$v" true
        expect_rc 125
        expect_err_has "agentsbx: --files: invalid count '$v'"
        sbx run --procs "$v" true
        expect_rc 125
        expect_err_has "agentsbx: --procs: invalid count '$v'"
    done
    sbx run --files 2 true
    expect_rc 125
    expect_err_has "agentsbx: --files '2': "
}

case_usage_errors() {
    sbx
    expect_rc 125
    expect_err_has "Usage: agentsbx"
    sbx frobnicate
    expect_rc 125
    expect_err_has "unknown command 'frobnicate'"
    expect_err_has "Usage: agentsbx"
    sbx --frobnicate
    expect_rc 125
    expect_err_has "agentsbx: unknown or ambiguous option '--frobnicate'"
    sbx -x
    expect_rc 125
    expect_err_has "agentsbx: unknown option '-x'"
    sbx run --bogus true
    expect_rc 125
    expect_err_has "agentsbx: run: unknown or ambiguous option '--bogus'"
    sbx run -x true
    expect_rc 125
    expect_err_has "'-x'"
    sbx run
    expect_rc 125
    expect_err_has "missing PROGRAM"
    sbx run --memory
    expect_rc 125
    expect_err_has "'--memory' requires an argument"
    sbx run --json=yes true
    expect_rc 125
    sbx run --env NOEQUALS true
    expect_rc 125
    expect_err_has "--env"
    sbx run --best-effort bogus true
    expect_rc 125
    expect_err_has "unknown layer 'bogus'"
    [ ! -s "$TMP/out" ] || fail "something ran$(show)"
}

case_program_options() {
    # Options after PROGRAM belong to it.
    sbx run echo --json --timeout 1
    expect_rc 0
    expect_out "--json --timeout 1"
    expect_err_empty
    # "--" lets PROGRAM start with '-'.
    sbx run -- -no-such-program
    expect_rc 127
}

case_best_effort() {
    sbx run --best-effort all true
    expect_rc 0
    sbx run --best-effort rlimits,cgroup --best-effort landlock true
    expect_rc 0
    sbx run --best-effort rlimits, true
    expect_rc 125
}

# ------------------------------------------------------------ environment

case_env() {
    PASSME=hello SECRET_HOST_VAR=s3cret sbx run --env FOO=bar --env 'EQ=a=b' \
        --pass-env PASSME sh -c 'printf "%s|%s|%s|%s\n" "$FOO" "$EQ" "$PASSME" "${SECRET_HOST_VAR-unset}"'
    expect_rc 0
    expect_out "bar|a=b|hello|unset"
    # A later setting wins; passing an unset variable removes it.
    unset NOT_SET_ANYWHERE
    sbx run --env X=1 --env X=2 --env NOT_SET_ANYWHERE=z --pass-env NOT_SET_ANYWHERE \
        sh -c 'echo "$X|${NOT_SET_ANYWHERE-unset}"'
    expect_rc 0
    expect_out "2|unset"
    # The child's environment is clean: no HOSTNAME, USER, ... from the host.
    SECRET_HOST_VAR=s3cret sbx run env
    expect_rc 0
    if grep -q SECRET_HOST_VAR "$TMP/out"; then fail "host variable leaked$(show)"; fi
}

# ---------------------------------------------------- files and network

# Skip when Landlock cannot confine the child here.
need_landlock() {
    sbx run --json true
    if [ "$rc" -eq 125 ] && grep -q landlock "$TMP/err"; then
        skip "Landlock is not available: $(cat "$TMP/err")"
    fi
    expect_rc 0
    grep -q '"landlock"' "$TMP/err" || fail "landlock is not among the layers$(show)"
}

# Whether the default run has the mount view of auto isolation, where a path
# without a grant is not there at all (ENOENT) rather than denied (EACCES).
has_view() {
    sbx run --json true
    expect_rc 0
    grep -q '"namespaces":\[[^]]*"mount"' "$TMP/err"
}

case_grants_fs() {
    need_landlock
    mkdir "$TMP/r" "$TMP/w"
    echo secret >"$TMP/r/file"
    # Reading needs a grant; a relative path is resolved. In the view the file
    # is not there; without namespaces Landlock denies it.
    if has_view; then
        sbx run cat "$TMP/r/file"
        [ "$rc" -ne 0 ] || fail "read without a grant$(show)"
        expect_err_has "No such file or directory"
    fi
    sbx run --isolation minimal cat "$TMP/r/file"
    [ "$rc" -ne 0 ] || fail "read without a grant$(show)"
    expect_err_has "Permission denied"
    sbx run --ro "$TMP/r" cat "$TMP/r/file"
    expect_rc 0
    expect_out secret
    (cd "$TMP" && sbx run --ro r cat "$TMP/r/file" && expect_out secret) || exit 1
    # Writing needs a write grant: a read grant is not enough.
    sbx run --ro "$TMP/w" sh -c "echo x >'$TMP/w/f'"
    [ "$rc" -ne 0 ] || fail "wrote without a grant$(show)"
    [ ! -e "$TMP/w/f" ] || fail "the file was created"
    sbx run --rw "$TMP/w" sh -c "echo x >'$TMP/w/f'"
    expect_rc 0
    [ "$(cat "$TMP/w/f")" = x ] || fail "the file was not written"
    # The working directory is granted read and write.
    sbx run --workdir "$TMP/w" sh -c 'echo y >g && read -r l <g && echo "$l"'
    expect_rc 0
    expect_out y
    # A private TMPDIR, writable, and gone afterwards.
    # (In the view it is the child's own /tmp, a tmpfs the host never sees.)
    mark="agentsbx-test-mark.$$"
    sbx run sh -c "echo z >\"\$TMPDIR/$mark\" && echo \"\$TMPDIR\""
    expect_rc 0
    [ -n "$(cat "$TMP/out")" ] || fail "no TMPDIR$(show)"
    [ ! -e "$(cat "$TMP/out")/$mark" ] || fail "$(cat "$TMP/out")/$mark was left on the host"
    if [ "$(cat "$TMP/out")" != /tmp ]; then
        [ ! -e "$(cat "$TMP/out")" ] || fail "TMPDIR $(cat "$TMP/out") was not removed"
    fi
    sbx run --isolation minimal sh -c 'echo z >"$TMPDIR/f" && echo "$TMPDIR"'
    expect_rc 0
    [ -n "$(cat "$TMP/out")" ] || fail "no TMPDIR$(show)"
    [ ! -e "$(cat "$TMP/out")" ] || fail "TMPDIR $(cat "$TMP/out") was not removed"
}

case_grants_exec() {
    need_landlock
    mkdir "$TMP/bin"
    printf '#!/bin/sh\necho hello\n' >"$TMP/bin/hello"
    chmod 755 "$TMP/bin/hello"
    # Only PROGRAM (and its interpreters) may be executed.
    sbx run sh -c 'cat /dev/null'
    expect_rc 126
    sbx run --tool cat sh -c 'cat /dev/null'
    expect_rc 0
    if has_view; then
        sbx run sh -c "'$TMP/bin/hello'"
        expect_rc 127 # not in the view
    fi
    sbx run --isolation minimal sh -c "'$TMP/bin/hello'"
    expect_rc 126
    sbx run --rx "$TMP/bin" sh -c "'$TMP/bin/hello'"
    expect_rc 0
    expect_out hello
    sbx run --tool "$TMP/bin/hello" sh -c "'$TMP/bin/hello'"
    expect_rc 0
    expect_out hello
    # A bare tool name is searched in the child's PATH, as --env sets it
    # (whatever the order of the options).
    sbx run --tool hello --env "PATH=$TMP/bin:/usr/bin:/bin" sh -c hello
    expect_rc 0
    expect_out hello
    # PROGRAM itself needs no grant.
    sbx run "$TMP/bin/hello"
    expect_rc 0
    expect_out hello
    # A tool that does not exist is a command-line error.
    sbx run --tool no-such-tool-agentsbx-test true
    expect_rc 125
    expect_err_has "agentsbx: --tool 'no-such-tool-agentsbx-test': "
}

# --exec system: whatever is installed beneath /usr runs; a copy of it the
# child could write does not (126); the same copy runs unconfined.
case_exec_system() {
    need_landlock
    mkdir "$TMP/w"
    cp /usr/bin/uname "$TMP/w/u"
    "$TMP/w/u" -s >/dev/null || fail "the control: $TMP/w/u does not run unconfined"
    for iso in auto minimal; do
        sbx run --isolation "$iso" --workdir "$TMP/w" sh -c 'uname -s'
        expect_rc 126
        sbx run --isolation "$iso" --exec system --workdir "$TMP/w" sh -c 'uname -s'
        expect_rc 0
        expect_out Linux
        sbx run --isolation "$iso" --exec system --workdir "$TMP/w" sh -c './u -s'
        expect_rc 126
        expect_err_has "Permission denied"
        sbx run --isolation "$iso" --exec system sh -c 'cp /usr/bin/uname "$TMPDIR/v" && "$TMPDIR/v"'
        expect_rc 126
    done
    sbx run --exec system --rw /usr/local true
    expect_rc 125
    expect_err_has "agentsbx: exec mode system: /usr/local is a write grant, and overlaps the system directory /usr"
    sbx run --exec everything true
    expect_rc 125
    expect_err_has "agentsbx: --exec: expected allowlist or system, got 'everything'"
}

# Under valgrind, which does not know landlock_create_ruleset (nor seccomp,
# pidfd_open, clone3, mount_setattr), `check` and a strict run say what was
# observed and name valgrind, instead of "kernel Landlock ABI 0". The control:
# the same commands without valgrind see the kernel's Landlock.
case_check_under_valgrind() {
    need_landlock
    command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/install-deps.sh)"
    if ldd "$SBX" | grep -q 'libasan'; then
        skip "a sanitizer build: valgrind cannot run it"
    fi
    sbx check
    grep -qE '^landlock +ABI [1-9]' "$TMP/out" || fail "the control: no Landlock ABI$(show)"
    VG="valgrind -q --error-exitcode=99"
    $VG "$SBX" check <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    expect_rc 1
    grep -qF 'why: landlock_create_ruleset returned ENOSYS: the kernel lacks Landlock (Linux older than 5.13, or built without CONFIG_SECURITY_LANDLOCK; this is Linux ' "$TMP/out" ||
        fail "no ENOSYS reason$(show)"
    grep -qF 'or the program runs under valgrind or an emulator (valgrind does not know this system call)' "$TMP/out" ||
        fail "valgrind not named$(show)"
    grep -qE '^ +why: pidfd_open: Function not implemented \(Linux 5.3 is needed; this is Linux [0-9]+\.[0-9]+, which has it: the program runs under valgrind or an emulator that does not know this system call\)$' "$TMP/out" ||
        fail "pidfd_open: valgrind not named$(show)"
    ! grep -qF 'Landlock ABI 0' "$TMP/out" || fail "still says ABI 0$(show)"
    $VG "$SBX" run true <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    expect_rc 125
    expect_err_has "agentsbx: landlock: this kernel cannot enforce Landlock itself (landlock_create_ruleset returned ENOSYS: "
    expect_err_has "valgrind does not know this system call)); mark SBX_LAYER_LANDLOCK best-effort to run without it"
}

case_grants_values() {
    local v
    for v in -1 '' 65536 80x 1K; do
        sbx run --connect "$v" true
        expect_rc 125
        expect_err_has "agentsbx: --connect: invalid port '$v'"
    done
    sbx run --connect 0 true
    expect_rc 125
    expect_err_has "agentsbx: --connect '0': "
    sbx run --connect 443 --bind 0 true
    expect_rc 0
    sbx run --allow-network true
    expect_rc 0
    sbx run --ro "$TMP/nope" true
    expect_rc 125
    expect_err_has "agentsbx: --ro '$TMP/nope': "
}

# Host grants: curl in the child reaches the granted name through its egress
# broker (the proxy variables the library sets), the result's JSON counts it;
# a name not granted gets the broker's 403; bad values are command-line errors.
case_egress_hosts() {
    need_landlock
    command -v curl >/dev/null || skip "curl is not installed"
    sbx run --allow-host 'a..b' true
    expect_rc 125
    expect_err_has "agentsbx: --allow-host 'a..b': "
    expect_err_has "empty label"
    sbx run --resolve nocolon true
    expect_rc 125
    expect_err_has "agentsbx: --resolve: expected NAME:ADDR, not 'nocolon'"
    sbx run --allow-host a.test --resolve a.test:not-an-address true
    expect_rc 125
    expect_err_has "the address must be a numeric"
    # Policy files: network.hosts and network.deny_hosts, written back normalised.
    echo '{"version": 1, "network": {"hosts": ["PyPI.org", "*.a.test:8443"], "deny_hosts": ["x.a.test"]}}' >"$TMP/p.json"
    sbx policy show --policy "$TMP/p.json"
    expect_rc 0
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["network"]; assert d=={"hosts":["pypi.org","*.a.test:8443"],"deny_hosts":["x.a.test"]}, d' "$TMP/out" ||
        fail "policy show: $(cat "$TMP/out")"
    echo '{"version": 1, "network": {"hosts": [443]}}' >"$TMP/bad.json"
    sbx run --policy "$TMP/bad.json" true
    expect_rc 125
    expect_err_has '$.network.hosts[0]: expected a host pattern, got 443'
    python3 "$(dirname "$0")/../live/broker_origin.py" >"$TMP/port" &
    local pid=$! port="" i
    for i in $(seq 100); do
        port=$(head -n1 "$TMP/port")
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { kill "$pid"; fail "the origin server did not start"; }
    sbx run --json --allow-host "origin.test:$port" --resolve origin.test:127.0.0.1 --tool curl \
        -- curl -sS -w '|%{http_code}' "http://origin.test:$port/cli" \
        --next -sS -o /dev/null -w '|%{http_code}' "http://other.test:$port/"
    kill "$pid"
    wait "$pid" 2>/dev/null
    expect_rc 0
    expect_out "origin origin.test:$port /cli
|200|403"
    json_check 'd["network"]["connections"] == 1 and d["network"]["denied"][0]["host"] == "other.test" and d["network"]["denied"][0]["reason"] == "host not allowed"'
}

# ----------------------------------------------------------------- limits

case_cpu() {
    local t0 t1
    t0=$(now_ms)
    sbx run --cpu 1 --timeout 30 sh -c 'while :; do :; done'
    t1=$(now_ms)
    [ "$rc" -eq 152 ] || [ "$rc" -eq 137 ] || fail "expected exit status 152 or 137, got $rc$(show)"
    expect_err_has "agentsbx: CPU limit reached"
    [ $((t1 - t0)) -lt 10000 ] || fail "took $((t1 - t0)) ms"
    # Fractions round up: 0.2 s is a 1 s limit, which this sleep does not reach.
    sbx run --cpu 0.2 sh -c 'sleep 0.2; exit 5'
    expect_rc 5
}

case_fsize() {
    sbx run --rw "$TMP" --fsize 1K dd if=/dev/zero of="$TMP/f" bs=1M count=1 status=none
    expect_rc 153
    expect_err_has "agentsbx: file size limit reached"
    [ "$(stat -c %s "$TMP/f")" -le 1024 ] || fail "file is $(stat -c %s "$TMP/f") bytes"
    sbx run --rw "$TMP" --fsize 2M dd if=/dev/zero of="$TMP/g" bs=1M count=1 status=none
    expect_rc 0
}

case_files() {
    sbx run --files 16 sh -c 'ulimit -n'
    expect_rc 0
    expect_out 16
    # The limit holds: descriptor 15 can be opened, 16 cannot.
    sbx run --files 16 bash -c 'exec 15</dev/null && echo ok15; exec 16</dev/null || echo no16'
    expect_out "ok15
no16"
    sbx run sh -c 'ulimit -n'
    [ "$(cat "$TMP/out")" != 16 ] || fail "no --files still gives 16"
}

case_memory() {
    sbx run --memory 16M --json sh -c 'ulimit -d'
    expect_rc 0
    if grep -q '"memory_limit":"cgroup"' "$TMP/err"; then
        # a root host's memory limit takes a cgroup where one is usable: no rlimit
        [ "$(id -u)" -eq 0 ] || fail "an unprivileged run took a cgroup unasked$(show)"
        expect_out unlimited
    else
        expect_out 16384
    fi
}

case_procs() {
    if [ "$(id -u)" -eq 0 ]; then
        # RLIMIT_NPROC does not bind root: a cgroup takes the limit where one is
        # usable; else strict fails and best-effort runs.
        sbx run --procs 64 --json true
        if grep -q '"process_limit":"cgroup"' "$TMP/err"; then
            expect_rc 0
        else
            expect_rc 125
            expect_err_has "RLIMIT_NPROC"
        fi
        sbx run --procs 64 --best-effort rlimits true
        expect_rc 0
    else
        # This user already has more than one process: a child cannot fork.
        sbx run --procs 1 sh -c '(exit 0) && echo forked'
        [ "$rc" -ne 0 ] || fail "forked despite --procs 1$(show)"
        # A limit within the hard one (an unprivileged process cannot raise it) lets it fork.
        local n
        n=$(ulimit -Hu)
        if [ "$n" = unlimited ] || [ "$n" -gt 4096 ]; then n=4096; fi
        sbx run --procs "$n" sh -c '(exit 0) && echo forked'
        expect_rc 0
        expect_out forked
    fi
}

# -------------------------------------------------------------------- JSON

case_cgroup() {
    if ! "$SBX" check --json | /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["features"]["cgroup"]["available"] else 1)'; then
        # No usable cgroup (an unprivileged user here): strict fails and says why, best-effort runs.
        sbx run --cgroup --procs 8 true
        expect_rc 125
        grep -qF 'cgroup: no writable' "$TMP/err" || fail "no reason$(show)"
        sbx run --json --cgroup --memory 64M --best-effort cgroup true
        expect_rc 0
        json_check '"cgroup" not in d["layers"] and d["memory_limit"] == "rlimit" and d["peak_memory_bytes"] == 0'
        return
    fi
    # pids.max binds root too: no --best-effort needed.
    sbx run --json --cgroup --procs 8 --memory 64M -- sh -c '(exit 0)'
    expect_rc 0
    json_check '"cgroup" in d["layers"] and d["process_limit"] == "cgroup" and d["memory_limit"] == "cgroup" and d["peak_memory_bytes"] > 0'
    sbx run --cgroup-parent relative/dir true
    expect_rc 125
}

case_cpu_rate() {
    # Refused values: not a number, below 0.01 CPU (10 millicpus), none at all.
    sbx run --cpu-rate half --cgroup true
    expect_rc 125
    expect_err_has "agentsbx: --cpu-rate: invalid number of CPUs 'half'"
    sbx run --cpu-rate 0.005 --cgroup true
    expect_rc 125
    expect_err_has "agentsbx: --cpu-rate '0.005': "
    # Without the cgroup layer: an error that says so, or not enforced when best-effort.
    sbx run --cpu-rate 0.5 true
    expect_rc 125
    expect_err_has "CPU rate limit: it needs the cgroup layer"
    sbx run --json --cpu-rate 0.5 --best-effort cgroup true
    expect_rc 0
    json_check 'd["cpu_rate_limit"] == "none" and "cgroup" not in d["layers"]'
    if ! "$SBX" check --json | /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["features"]["cgroup"]["available"] else 1)'; then
        # No usable cgroup (an unprivileged user here): strict fails and says why.
        sbx run --cgroup --cpu-rate 0.5 true
        expect_rc 125
        expect_err_has "cgroup: no writable"
        return
    fi
    # Two bash loops for 1 s of wall time under 0.2 CPU, the first one waited
    # for (so the result counts both): at most ~0.35 s of CPU.
    local burn='end=$((${EPOCHREALTIME/./} + 1000000)); while [ ${EPOCHREALTIME/./} -lt $end ]; do :; done'
    sbx run --json --cgroup --cpu-rate 0.2 --timeout 20 -- bash -c "($burn) & $burn; wait; echo burned"
    expect_rc 0
    expect_out burned
    json_check 'd["cpu_rate_limit"] == "cgroup" and "cgroup" in d["layers"] and d["user_cpu_ms"] + d["system_cpu_ms"] <= 350'
}

case_json() {
    sbx run --json -- sh -c 'exit 3'
    expect_rc 3
    json_check 'd["status"] == "exited" and d["exit_code"] == 3 and d["signal"] == 0 and isinstance(d["layers"], list)'
    sbx run --json true
    expect_rc 0
    json_check 'd["status"] == "exited" and d["exit_code"] == 0'
}

case_json_limits() {
    sbx run --json --timeout 0.3 sleep 10
    expect_rc 124
    expect_err_lacks "timed out after"
    json_check 'd["status"] == "timed_out"'
    sbx run --json -- sh -c 'kill -TERM $$'
    expect_rc 143
    json_check 'd["status"] == "signaled" and d["signal"] == 15'
    sbx run --json --quiet --rw "$TMP" --fsize 1K dd if=/dev/zero of="$TMP/f" bs=1M count=1 status=none
    expect_rc 153
    json_check 'd["status"] == "file_size_limit" and d["signal"] == 25'
}

case_json_setup_failed() {
    sbx run --json --workdir "$TMP/nope" true
    expect_rc 125
    json_check 'd["status"] == "setup_failed" and d["stage"] == "workdir" and d["errno"] == "ENOENT" and "chdir(" in d["error"]'
    sbx run --json --quiet no-such-program-agentsbx-test
    expect_rc 127
    json_check 'd["status"] == "setup_failed" and d["errno"] == "ENOENT" and d["stage"] in ("program", "exec")'
    # The message is escaped: a quote, a backslash, a newline and a byte that
    # is not UTF-8 in the path still give valid JSON.
    sbx run --json --workdir "$TMP/a\"b\\c
d$(printf '\377')" true
    expect_rc 125
    json_check 'd["status"] == "setup_failed" and "a\"b\\c\nd\ufffd" in d["error"]'
}

# -------------------------------------------------------------------- system calls

# A python3 program that makes the raw system calls named on its command line
# (ptrace, bpf, getppid, mbind) and prints "NAME ERRNO" for each (0: success).
SYSCALLS_PY='
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
calls = {"ptrace": (101, 16, -1), "bpf": (321, -1), "getppid": (110,), "mbind": (237,)}
for name in sys.argv[1:]:
    ctypes.set_errno(0)
    args = (calls[name] + (0,) * 7)[:7] # the number and six arguments
    r = libc.syscall(*[ctypes.c_long(a) for a in args])
    print(name, ctypes.get_errno() if r < 0 else 0, flush=True)
'

need_python3() {
    [ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is not installed"
}

case_syscalls_denied_and_reported() {
    need_python3
    sbx run -- /usr/bin/python3 -c "$SYSCALLS_PY" ptrace bpf getppid
    expect_rc 0
    expect_out "ptrace 1
bpf 1
getppid 0"
    expect_err_has "agentsbx: 2 denied system calls: ptrace (EPERM), bpf (EPERM)"
    sbx run --quiet -- /usr/bin/python3 -c "$SYSCALLS_PY" ptrace ptrace
    expect_rc 0
    expect_err_empty
    sbx run --json -- /usr/bin/python3 -c "$SYSCALLS_PY" ptrace bpf
    expect_rc 0
    expect_err_lacks "denied system calls"
    json_check 'd["violation_count"] == 2 and [v["syscall"] for v in d["violations"]] == ["ptrace", "bpf"] and d["violations"][0]["errno"] == "EPERM" and d["violations"][0]["nr"] == 101 and d["violations"][0]["args"][:2] == ["0x10", "0xffffffffffffffff"]'
    # A clean run reports nothing.
    sbx run true
    expect_rc 0
    expect_err_empty
}

case_exec_denied_named() {
    [ -x /usr/bin/id ] || skip "/usr/bin/id is missing"
    sbx run --tool sh -- sh -c '/usr/bin/id -u >/dev/null; echo rc=$?'
    expect_rc 0
    expect_out "rc=126"
    expect_err_has "agentsbx: 1 exec denied: /usr/bin/id (not granted); to allow: --tool id"
    sbx run --json --tool sh -- sh -c '/usr/bin/id -u >/dev/null 2>&1; /usr/bin/id -u >/dev/null 2>&1; true'
    expect_rc 0
    json_check 'd["exec_denial_count"] == 2 and d["exec_denials"][0]["path"] == "/usr/bin/id" and d["exec_denials"][0]["reason"] == "not granted" and d["exec_denials"][0]["count"] == 2 and d["violation_count"] == 0'
    # The control: granted, it runs and nothing is named.
    sbx run --tool sh --tool id -- sh -c '/usr/bin/id -u >/dev/null; echo rc=$?'
    expect_rc 0
    expect_out "rc=0"
    expect_err_empty
    # A file outside the system's bin directories is named by its path.
    cp /bin/true "$TMP/mytrue"
    sbx run --tool sh --ro "$TMP" -- sh -c "'$TMP/mytrue'; echo rc=\$?"
    expect_out "rc=126"
    expect_err_has "1 exec denied: $TMP/mytrue (not granted); to allow: --tool $TMP/mytrue"
    # Relative to the child's directory: the directory is what to grant.
    sbx run --tool sh --workdir "$TMP" -- sh -c "./mytrue; echo rc=\$?"
    expect_out "rc=126"
    expect_err_has "1 exec denied: ./mytrue (not granted); to allow: --rx DIR (of ./mytrue)"
}

case_diagnose_named() {
    mkdir "$TMP/data" && echo a >"$TMP/data/in.csv" || fail "cannot make $TMP/data"
    # Without the mount view, where Landlock is what refuses (in the view an
    # ungranted path is not there at all).
    sbx run --isolation minimal --diagnose --tool cat -- sh -c "cat '$TMP/data/in.csv'; echo rc=\$?"
    expect_rc 0
    expect_out "rc=1"
    expect_err_has "agentsbx: 1 access denied: $TMP/data/in.csv (read); to allow: --ro $TMP/data"
    sbx run --isolation minimal --diagnose --json --tool cat -- sh -c "cat '$TMP/data/in.csv' 2>/dev/null"
    expect_rc 1
    json_check "d['access_denial_count'] == 1 and d['access_denials'][0]['path'] == '$TMP/data/in.csv' and d['access_denials'][0]['dir'] == '$TMP/data' and d['access_denials'][0]['missing'] == ['read'] and d['access_denials'][0]['kind'] == 'file' and d['violation_count'] == 0"
    # The control: granted, it reads and nothing is named.
    sbx run --isolation minimal --diagnose --ro "$TMP/data" --tool cat -- cat "$TMP/data/in.csv"
    expect_rc 0
    expect_out "a"
    expect_err_empty
    # Without --diagnose: refused, not named.
    sbx run --isolation minimal --tool cat -- cat "$TMP/data/in.csv"
    expect_rc 1
    expect_err_lacks "access denied"
    sbx run --isolation minimal --json --tool cat -- sh -c "cat '$TMP/data/in.csv' 2>/dev/null"
    json_check "'access_denials' not in d"
}

case_benign_probes_apart() {
    need_python3
    sbx run -- /usr/bin/python3 -c 'import socket
for f in (16, 16, 40):
    try: socket.socket(f, socket.SOCK_RAW, 0)
    except OSError as e: print(e.errno)'
    expect_rc 0
    expect_err_has "agentsbx: 1 denied system call: socket (EPERM)"
    expect_err_has "agentsbx: 2 denied probes (benign): socket x2 (EPERM)"
    sbx run -- /usr/bin/python3 -c 'import socket
try: socket.socket(16, socket.SOCK_RAW, 0)
except OSError as e: print(e.errno)'
    expect_err_lacks "denied system call"
    expect_err_has "agentsbx: 1 denied probe (benign): socket (EPERM)"
}

case_syscalls_rules() {
    need_python3
    sbx run --deny-syscall getppid:EACCES --deny-syscall ptrace:3 -- /usr/bin/python3 -c "$SYSCALLS_PY" getppid ptrace
    expect_rc 0
    expect_out "getppid 13
ptrace 3"
    expect_err_has "2 denied system calls: getppid (EACCES), ptrace (ESRCH)"
    sbx run --deny-syscall getppid:kill -- /usr/bin/python3 -c "$SYSCALLS_PY" getppid
    expect_rc 159 # 128 + SIGSYS
    sbx run --syscall-allowlist -- /usr/bin/python3 -c "$SYSCALLS_PY" mbind getppid
    expect_rc 0
    expect_out "mbind 38
getppid 0"
    expect_err_has "1 denied system call: mbind (ENOSYS)"
    sbx run --syscall-allowlist --allow-syscall mbind --quiet -- /usr/bin/python3 -c "$SYSCALLS_PY" mbind
    expect_rc 0
    expect_out "mbind 0"
    sbx run --max-violations 2 -- /usr/bin/python3 -c "$SYSCALLS_PY" bpf bpf bpf getppid
    expect_rc 137
    expect_out "bpf 1"
    expect_err_has "killed after 2 denied system calls (--max-violations)"
    sbx run --json --max-violations 1 -- /usr/bin/python3 -c "$SYSCALLS_PY" ptrace
    expect_rc 137
    json_check 'd["status"] == "violation" and d["violation_count"] == 1'
}

case_syscalls_violation_rate() {
    need_python3
    # 2000 denied calls in a burst: more than --violation-rate 50 a second
    sbx run --violation-rate 50 --audit "$TMP/audit.log" --audit-limit 4K -- /usr/bin/python3 -c \
        "$SYSCALLS_PY" $(for i in $(seq 1000); do echo bpf ptrace; done)
    expect_rc 137
    expect_err_has "agentsbx: 51 denied system calls: bpf x26 (EPERM), ptrace x25 (EPERM)"
    expect_err_has "killed after 51 denied system calls, too many in one second (--violation-rate)"
    /usr/bin/python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert [e["event"] for e in ev].count("violation") == 16, ev
ex = ev[-1]
assert ex["event"] == "exit" and ex["status"] == "violation" and ex["violations"] == 51, ex
assert ex["violation_kinds"] == [{"syscall": "bpf", "errno": "EPERM", "count": 26},
                                 {"syscall": "ptrace", "errno": "EPERM", "count": 25}], ex
' "$TMP/audit.log" 2>"$TMP/py.err" || fail "audit log: $(cat "$TMP/py.err"): $(cat "$TMP/audit.log")"
    # no limit: all 2000 are answered
    sbx run --json --violation-rate 0 -- /usr/bin/python3 -c "$SYSCALLS_PY" \
        $(for i in $(seq 1000); do echo bpf ptrace; done)
    expect_rc 0
    json_check 'd["violation_count"] == 2000 and "violation_kill" not in d'
    for v in -1 x 1000001; do
        sbx run --violation-rate "$v" true
        expect_rc 125
        expect_err_has "violation-rate"
    done
    for v in 100 4095 x -1; do
        sbx run --audit-limit "$v" true
        expect_rc 125
        expect_err_has "--audit-limit"
    done
}

case_syscalls_bad_values() {
    sbx run --deny-syscall no_such_call true
    expect_rc 125
    expect_err_has "unknown system call 'no_such_call'"
    sbx run --allow-syscall no_such_call true
    expect_rc 125
    expect_err_has "unknown system call 'no_such_call'"
    for v in getppid:EWHAT getppid:0 getppid:4096 getppid: :EPERM '' getppid:-1; do
        sbx run --deny-syscall "$v" true
        expect_rc 125
        expect_err_has "expected NAME[:ERRNO|kill]"
    done
    sbx run --deny-syscall execve true
    expect_rc 125
    expect_err_has "cannot be denied"
    for v in 0 -1 x 4294967296; do
        sbx run --max-violations "$v" true
        expect_rc 125
        expect_err_has "max-violations"
    done
}

# -------------------------------------------------------------------- misc

case_version() {
    sbx --version
    expect_rc 0
    grep -Eqx 'agentsbx [0-9]+\.[0-9]+\.[0-9]+' "$TMP/out" || fail "bad --version$(show)"
    if [ -n "${SBX_EXPECTED_VERSION:-}" ]; then
        expect_out "agentsbx $SBX_EXPECTED_VERSION"
    fi
    expect_err_empty
}

case_help() {
    sbx --help
    expect_rc 0
    grep -q '^Usage: agentsbx' "$TMP/out" || fail "no usage$(show)"
    grep -q '^  run ' "$TMP/out" || fail "run not listed$(show)"
    expect_err_empty
    sbx help
    expect_rc 0
    grep -q '^Usage: agentsbx' "$TMP/out" || fail "no usage$(show)"
    sbx run --help
    expect_rc 0
    grep -q '^Usage: agentsbx run' "$TMP/out" || fail "no run usage$(show)"
    grep -q -- '--timeout SECONDS' "$TMP/out" || fail "no --timeout$(show)"
    grep -q 'rounded up' "$TMP/out" || fail "--cpu rounding not said$(show)"
    grep -q 'no_new_privs' "$TMP/out" || fail "layers not listed$(show)"
    expect_err_empty
    local run_help
    run_help=$(cat "$TMP/out")
    sbx help run
    expect_rc 0
    [ "$(cat "$TMP/out")" = "$run_help" ] || fail "'help run' differs from 'run --help'"
    sbx help nope
    expect_rc 125
    sbx help run extra
    expect_rc 125
    # No line of the help is wider than 80 columns or ends in a space.
    sbx run --help
    if awk 'length > 80 { exit 1 }' "$TMP/out"; then :; else fail "line over 80 columns"; fi
    if grep -q ' $' "$TMP/out"; then fail "trailing space$(show)"; fi
}

case_check() {
    sbx check
    expect_rc 0
    grep -qE '^landlock +ABI [0-9]+ ' "$TMP/out" || fail "no landlock row$(show)"
    grep -qF 'can be enforced here with every layer strict' "$TMP/out" || fail "no verdict$(show)"
    sbx check --json
    expect_rc 0
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
f = d["features"]
assert d["default_policy_strict"] is True, d
assert f["landlock"]["available"] and f["landlock"]["level"] >= 6, f
assert set(f) == {"landlock", "seccomp", "seccomp_notify", "pidfd", "clone3", "close_range", "cgroup",
                  "user_ns", "pid_ns", "net_ns", "ipc_ns", "uts_ns", "mount_ns", "tree_kill",
                  "isolation"}, f
assert f["tree_kill"]["level"] in (1, 2, 3), f
# what auto isolation gives: a namespace mask (pid 2, mount 0x20) or 0 and why
iso = f["isolation"]
assert (iso["level"] & 0x22) == 0x22 if iso["available"] else iso["level"] == 0 and iso["reason"], iso
' "$TMP/out" || fail "bad check --json$(show)"
    # A kernel with an older Landlock (as the library sees it): not strict, and why.
    AGENTSBX_TEST_LANDLOCK_ABI=3 "$SBX" check >"$TMP/out" 2>"$TMP/err"
    rc=$?
    expect_rc 1
    grep -qF 'Landlock ABI 3 lacks rights' "$TMP/out" || fail "no explanation$(show)"
    AGENTSBX_TEST_LANDLOCK_ABI=0 "$SBX" check >"$TMP/out" 2>"$TMP/err"
    rc=$?
    expect_rc 1
    grep -qE '^landlock +missing' "$TMP/out" || fail "landlock not missing$(show)"
    grep -qF 'why: disabled for testing' "$TMP/out" || fail "no reason$(show)"
    sbx check --bogus
    expect_rc 125
}

# policy_py CHECK: stdout must be one JSON policy document, bound to d, for
# which the Python statements CHECK hold (they may use the variable tmp).
policy_py() {
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
tmp = sys.argv[2]
assert d["version"] == 1, d
exec(sys.argv[3])
' "$TMP/out" "$TMP" "$1" || fail "stdout is not the expected policy$(show)"
}

case_policy_show() {
    sbx policy show
    expect_rc 0
    expect_err_empty
    expect_out '{
  "version": 1
}'
    sbx policy show --profile minimal
    expect_rc 0
    policy_py 'assert d == {"version": 1, "private_tmp": False}, d'
    (cd "$TMP" && sbx policy show --profile workspace) || exit 1
    expect_rc 0
    policy_py 'assert d == {"version": 1, "workdir": tmp}, d'
    # Options add to the profile, whatever their order.
    (cd "$TMP" && sbx policy show --connect 22 --ro "$TMP" --memory 64M --profile networked \
        --deny-syscall ptrace:EACCES) || exit 1
    expect_rc 0
    policy_py '
assert d["network"] == {"connect": [80, 443, 22]}, d
assert d["grants"] == [{"path": tmp, "access": ["read"]}], d
assert d["limits"] == {"memory": "64M"}, d
assert d["seccomp"] == {"deny": {"ptrace": "EACCES"}}, d
assert d["workdir"] == tmp, d'
    # What it prints loads again (--policy, or --profile with a '/'), to the same policy.
    cp "$TMP/out" "$TMP/saved.json"
    sbx policy show --policy "$TMP/saved.json"
    expect_rc 0
    cmp -s "$TMP/out" "$TMP/saved.json" || fail "the saved policy does not load the same$(show)"
    (cd "$TMP" && sbx policy show --profile ./saved.json) || exit 1
    cmp -s "$TMP/out" "$TMP/saved.json" || fail "--profile ./FILE differs$(show)"
    cp "$TMP/saved.json" "$TMP/noslash.json"
    (cd "$TMP" && sbx policy show --profile noslash.json) || exit 1
    cmp -s "$TMP/out" "$TMP/saved.json" || fail "--profile FILE.json differs$(show)"
    # A file starts from a profile and adds grants.
    printf '{"version": 1, "profile": "minimal", "grants": [{"path": "%s", "access": ["read", "write"]}]}' \
        "$TMP" >"$TMP/p.json"
    sbx policy show --policy "$TMP/p.json"
    expect_rc 0
    policy_py 'assert d == {"version": 1, "private_tmp": False, "grants": [{"path": tmp, "access": ["read", "write"]}]}, d'
}

case_policy_errors() {
    sbx policy show --profile nope
    expect_rc 125
    expect_err_has "agentsbx: --profile 'nope': unknown profile 'nope' (built-in profiles: minimal, workspace, networked)"
    sbx policy show --profile "$TMP/missing.json"
    expect_rc 125
    expect_err_has "agentsbx: --profile '$TMP/missing.json': $TMP/missing.json: No such file or directory"
    printf '{"version": 1,\n "limits": {"memory": -5}}' >"$TMP/bad.json"
    sbx policy show --policy "$TMP/bad.json"
    expect_rc 125
    expect_err_has "$TMP/bad.json: \$.limits.memory: expected a size, got -5"
    [ ! -s "$TMP/out" ] || fail "printed a policy$(show)"
    printf '{"version": 1,\n "limits": {' >"$TMP/cut.json"
    sbx policy show --policy "$TMP/cut.json"
    expect_rc 125
    expect_err_has "not valid JSON"
    expect_err_has "line 2"
    sbx run --profile nope true
    expect_rc 125
    expect_err_has "unknown profile 'nope'"
    sbx policy
    expect_rc 125
    expect_err_has "missing subcommand"
    sbx policy list
    expect_rc 125
    expect_err_has "unknown subcommand 'list'"
    sbx policy show extra
    expect_rc 125
    expect_err_has "unexpected argument 'extra'"
    sbx policy show --bogus
    expect_rc 125
    sbx policy show --help
    expect_rc 0
    grep -qF -- '--profile NAME|FILE' "$TMP/out" || fail "no --profile in the help$(show)"
}

case_profile_run() {
    need_landlock
    mkdir "$TMP/w"
    # minimal: the working directory is not writable (and there is no TMPDIR) ...
    (cd "$TMP/w" && sbx run --profile minimal sh -c 'echo x >f; echo "tmp=${TMPDIR:-none}"') || exit 1
    [ ! -e "$TMP/w/f" ] || fail "minimal wrote into the working directory$(show)"
    grep -qx 'tmp=none' "$TMP/out" || fail "minimal has a TMPDIR$(show)"
    # ... the control: workspace writes there, and so does minimal with a grant added.
    (cd "$TMP/w" && sbx run --profile workspace sh -c 'echo x >f') || exit 1
    expect_rc 0
    [ "$(cat "$TMP/w/f")" = x ] || fail "workspace could not write its working directory$(show)"
    rm "$TMP/w/f"
    (cd "$TMP/w" && sbx run --profile minimal --rw "$TMP/w" sh -c 'echo x >f') || exit 1
    expect_rc 0
    [ -e "$TMP/w/f" ] || fail "a grant added to minimal did not apply$(show)"
}

# ---------------------------------------------------------------- output and audit

case_redact() {
    sbx run --redact hunter2-value -- sh -c 'echo "pw hunter2-value AKIAIOSFODNN7EXAMPLE"; echo "e hunter2-value" >&2'
    expect_rc 0
    expect_out "pw [REDACTED] [REDACTED]"
    expect_err_has "e [REDACTED]"
    expect_err_has "agentsbx: 3 secrets redacted from the output"
    expect_err_lacks "hunter2-value"
    # the shapes can be turned off, the registered value cannot
    sbx run --quiet --no-redact-patterns --redact hunter2-value -- echo hunter2-value AKIAIOSFODNN7EXAMPLE
    expect_out "[REDACTED] AKIAIOSFODNN7EXAMPLE"
    expect_err_empty
    # with --json, the counts are in "output"
    sbx run --json --redact hunter2-value -- echo hunter2-value
    expect_rc 0
    json_check 'd["output"]["redactions"] == 1 and d["output"]["stdout_bytes"] == 11'
    # too short a value is a command-line error
    sbx run --redact abc -- true
    expect_rc 125
    expect_err_has "--redact: sbx_redact_value: the value is 3 bytes long"
}

case_redact_env() {
    SBX_TEST_TOKEN=tok-1234-secret "$SBX" run --redact-env SBX_TEST_TOKEN -- \
        sh -c 'echo "$SBX_TEST_TOKEN" "${#SBX_TEST_TOKEN}"' <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    expect_rc 0
    expect_out "[REDACTED] 15" # passed to the child (15 bytes), redacted from its output
    sbx run --redact-env SBX_TEST_UNSET_VARIABLE -- true
    expect_rc 125
    expect_err_has "--redact-env SBX_TEST_UNSET_VARIABLE: the variable is not set"
}

case_output_limit() {
    sbx run --output-limit 5 -- sh -c 'echo 0123456789; echo abcdefgh >&2'
    expect_rc 0
    [ "$(cat "$TMP/out")" = 01234 ] || fail "stdout not cut at 5 bytes$(show)"
    expect_err_has "abcde"
    expect_err_lacks "abcdef"
    expect_err_has "agentsbx: stdout truncated at 5 bytes (--output-limit)"
    expect_err_has "agentsbx: stderr truncated at 5 bytes (--output-limit)"
    # the child never blocks on a full pipe: a flood ends normally
    sbx run --output-limit 1K -- sh -c 'i=0; while [ $i -lt 20000 ]; do echo 0123456789; i=$((i+1)); done; exit 7'
    expect_rc 7
    [ "$(wc -c <"$TMP/out")" -eq 1024 ] || fail "stdout is not 1024 bytes$(show)"
    sbx run --output-limit 5X -- true
    expect_rc 125
    expect_err_has "--output-limit: expected a size"
}

case_escape_output() {
    sbx run --escape-output=always -- printf 'a\033[31mb\n'
    expect_rc 0
    expect_out 'a\x1b[31mb'
    # not a terminal: auto keeps the bytes
    sbx run -- printf 'a\033[31mb\n'
    [ "$(cat "$TMP/out")" = "$(printf 'a\033[31mb')" ] || fail "auto changed output to a file$(show)"
    sbx run --escape-output=never -- printf 'a\033[31mb\n'
    [ "$(cat "$TMP/out")" = "$(printf 'a\033[31mb')" ] || fail "never changed the output$(show)"
    sbx run --escape-output=sometimes -- true
    expect_rc 125
    expect_err_has "--escape-output: expected auto, always or never, got 'sometimes'"
}

case_unicode() {
    # "ig" in tag characters, a right-to-left override, a zero-width space
    local text='a\363\240\201\251\363\240\201\247b\342\200\256c\342\200\213d\n'
    # the tool's default: tags and bidi escaped, invisible kept; all counted
    sbx run --json -- printf "$text"
    expect_rc 0
    [ "$(cat "$TMP/out")" = "$(printf 'a\\u{E0069}\\u{E0067}b\\u{202E}c\342\200\213d')" ] ||
        fail "tags and bidi not escaped by default$(show)"
    json_check 'd["output"]["unicode"] == {"tags": 2, "bidi": 1, "invisible": 1, "invalid_utf8": 0, "tag_text": "ig"}'
    # the control: every class kept, the bytes as they were
    sbx run --unicode tags=keep --unicode bidi=keep -- printf "$text"
    [ "$(cat "$TMP/out")" = "$(printf "$text")" ] || fail "kept classes changed the output$(show)"
    # strip, replace
    sbx run --unicode tags=strip --unicode bidi=strip --unicode invisible=strip \
        --unicode invalid_utf8=replace -- printf 'a\363\240\201\251b\342\200\256c\342\200\213d\377\n'
    [ "$(cat "$TMP/out")" = "$(printf 'abcd\357\277\275')" ] || fail "not stripped / replaced$(show)"
    sbx run --unicode tags=drop -- true
    expect_rc 125
    expect_err_has "--unicode: expected CLASS=ACTION (CLASS: tags, bidi, invisible or invalid_utf8; ACTION: keep, strip, escape or replace), got 'tags=drop'"
    sbx run --unicode emoji=keep -- true
    expect_rc 125
    expect_err_has "got 'emoji=keep'"
}

case_audit() {
    need_python3
    sbx run --audit "$TMP/audit.log" --redact hunter2-value -- sh -c 'exit 3' hunter2-value
    expect_rc 3
    sbx run --audit "$TMP/audit.log" --timeout 0.2 -- sleep 5
    expect_rc 124
    [ "$(stat -c %a "$TMP/audit.log")" = 600 ] || fail "the audit log is not mode 0600"
    ! grep -qF hunter2-value "$TMP/audit.log" || fail "a secret reached the audit log: $(cat "$TMP/audit.log")"
    /usr/bin/python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
kinds = [e["event"] for e in ev]
assert kinds == ["spawn", "exit", "spawn", "limit", "kill", "exit"], kinds
assert ev[0]["argv"] == ["sh", "-c", "exit 3", "[REDACTED]"], ev[0]["argv"]
assert ev[0]["policy_digest"].startswith("sha256:") and len(ev[0]["policy_digest"]) == 71
assert ev[1]["status"] == "exited" and ev[1]["exit_code"] == 3
assert ev[3]["limit"] == "timeout" and ev[4]["reason"] == "timeout"
assert ev[5]["status"] == "timed_out" and ev[5]["signal"] == 9
assert all(e["pid"] == ev[0]["pid"] for e in ev[:2]) and all(e["pid"] == ev[2]["pid"] for e in ev[2:])
assert all(e["time"].endswith("Z") and len(e["time"]) == 24 for e in ev)
' "$TMP/audit.log" 2>"$TMP/py.err" || fail "audit log: $(cat "$TMP/py.err"): $(cat "$TMP/audit.log")"
    sbx run --audit "$TMP/no/such/dir/log" -- true
    expect_rc 125
    expect_err_has "--audit $TMP/no/such/dir/log: No such file or directory"
}

# ---------------------------------------------------------------- capabilities

case_cap_keep() {
    sbx run --json -- true
    expect_rc 0
    json_check 'all(d["capabilities"][s] == "0x0" for s in ("effective", "permitted", "inheritable", "ambient"))'
    sbx run --cap-keep CAP_NOPE -- true
    expect_rc 125
    expect_err_has "--cap-keep: unknown capability 'CAP_NOPE'"
    # Root holds it; an ordinary user holds it only inside the child's own user
    # namespace (the default isolation), and not at all without one.
    sbx run --cap-keep net_bind_service --json -- true
    if [ "$(id -u)" -eq 0 ] || grep -q '"namespaces":\[[^]]*"user"' "$TMP/err"; then
        expect_rc 0
        json_check 'd["capabilities"]["effective"] == "0x400" and d["capabilities"]["bounding"] == "0x400" and d["capabilities"]["ambient"] == "0x400"'
    fi
    sbx run --isolation minimal --cap-keep net_bind_service --json -- true
    if [ "$(id -u)" -eq 0 ]; then
        expect_rc 0
        json_check 'd["capabilities"]["effective"] == "0x400"'
    else
        expect_rc 125
        expect_err_has "sbx_keep_capability(CAP_NET_BIND_SERVICE): this process does not hold it"
    fi
}


# ------------------------------------------- a slow reader, the tool's own lifetime

# pids of the processes whose command line is exactly "sleep ARG" (found, never killed, by name)
sleeping_pids() {
    pgrep -x -f "sleep $1"
}

# wait_for CONDITION SECONDS: poll a shell condition every 0.1 s
wait_for() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        eval "$1" && return 0
        sleep 0.1
    done
    return 1
}

# --timeout holds while the child floods a reader that stalls: the tool does
# not block in its writes past the deadline (plus 1 s for the last output).
case_timeout_slow_reader() {
    local t0 t1 py=/usr/bin/python3
    [ -x "$py" ] || skip "python3 is not installed"
    # a reader that takes a little, then sleeps
    t0=$(now_ms)
    { "$SBX" run --timeout 1 -- /usr/bin/yes </dev/null 2>"$TMP/err"; echo $? >"$TMP/rc"; now_ms >"$TMP/t1"; } |
        "$py" -c 'import sys, time
sys.stdin.buffer.read(65536)
time.sleep(6)'
    rc=$(cat "$TMP/rc") t1=$(cat "$TMP/t1")
    expect_rc 124
    [ $((t1 - t0)) -lt 4000 ] || fail "the tool returned after $((t1 - t0)) ms with a slow reader$(show)"
    expect_err_has "stdout truncated: its reader did not take it in time"
    # a reader that never reads
    t0=$(now_ms)
    { "$SBX" run --timeout 1 --json -- /usr/bin/yes </dev/null 2>"$TMP/err"; echo $? >"$TMP/rc"; now_ms >"$TMP/t1"; } |
        sleep 6
    rc=$(cat "$TMP/rc") t1=$(cat "$TMP/t1")
    expect_rc 124
    [ $((t1 - t0)) -lt 4000 ] || fail "the tool returned after $((t1 - t0)) ms with a stalled reader$(show)"
    json_check 'd["status"] == "timed_out" and d["output"]["stdout_truncated"] is True'
    # the control: a fast reader gets the flood
    [ "$("$SBX" run --timeout 5 -- /usr/bin/yes </dev/null 2>/dev/null | head -c 10M | wc -c)" = 10485760 ] ||
        fail "no flood to a fast reader"
}

# SIGTERM to the tool: it kills the child, waits for its end (the library
# removes its TMPDIR, the audit log gets the exit event), exits 128+15.
case_signal_to_tool() {
    local pid tag=30.$$ t0 t1 tmpdir
    command -v pgrep >/dev/null || skip "pgrep is not installed"
    mkdir "$TMP/rw"
    # without namespaces: the TMPDIR is then the host's /dev/shm/agentsbx.*
    "$SBX" run --isolation minimal --audit "$TMP/audit" --rw "$TMP/rw" --tool sleep -- \
        sh -c "echo \$TMPDIR >$TMP/rw/tmpdir; exec sleep $tag" </dev/null >/dev/null 2>"$TMP/err" &
    pid=$!
    wait_for '[ -s "$TMP/rw/tmpdir" ] && [ -n "$(sleeping_pids $tag)" ]' 10 ||
        fail "the child did not start$(show)"
    tmpdir=$(cat "$TMP/rw/tmpdir")
    case $tmpdir in */agentsbx.*) ;; *) fail "TMPDIR is '$tmpdir'" ;; esac
    [ -d "$tmpdir" ] || fail "the child's TMPDIR $tmpdir is not on the host"
    t0=$(now_ms)
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    t1=$(now_ms)
    expect_rc 143
    [ $((t1 - t0)) -lt 3000 ] || fail "the tool took $((t1 - t0)) ms to end"
    [ -z "$(sleeping_pids $tag)" ] || fail "the child survived the tool"
    [ ! -e "$tmpdir" ] || fail "the child's TMPDIR $tmpdir was left behind"
    grep -q '"event":"exit"' "$TMP/audit" || fail "no exit event in the audit log: $(cat "$TMP/audit")"
    # without a timeout, a stalled reader (a fifo no one reads) does not keep it either
    mkfifo "$TMP/fifo"
    exec 3<>"$TMP/fifo"
    "$SBX" run -- /usr/bin/yes </dev/null >"$TMP/fifo" 2>"$TMP/err" &
    pid=$!
    sleep 1
    t0=$(now_ms)
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    t1=$(now_ms)
    exec 3<&-
    expect_rc 143
    [ $((t1 - t0)) -lt 3000 ] || fail "the tool took $((t1 - t0)) ms to end with a stalled reader"
    # SIGINT and SIGHUP alike
    for sig in INT HUP; do
        "$SBX" run --tool sleep -- sleep "$tag" </dev/null >/dev/null 2>&1 &
        pid=$!
        wait_for '[ -n "$(sleeping_pids $tag)" ]' 10 || fail "the child did not start"
        kill -"$sig" "$pid"
        wait "$pid"
        rc=$?
        expect_rc $((128 + $(kill -l "$sig")))
        wait_for '[ -z "$(sleeping_pids $tag)" ]' 3 || fail "the child survived SIG$sig to the tool"
    done
}

# The tool dies with its caller (PR_SET_PDEATHSIG), and so does the child.
case_caller_dies() {
    local caller cli tag=31.$$ pid
    command -v pgrep >/dev/null || skip "pgrep is not installed"
    bash -c "\"$SBX\" run --tool sleep -- sleep $tag </dev/null >/dev/null 2>&1 & echo \$! >$TMP/cli; wait" &
    caller=$!
    wait_for '[ -s "$TMP/cli" ] && [ -n "$(sleeping_pids $tag)" ]' 10 || fail "the child did not start"
    cli=$(cat "$TMP/cli")
    kill -KILL "$caller"
    wait "$caller" 2>/dev/null
    wait_for '! kill -0 '"$cli"' 2>/dev/null && [ -z "$(sleeping_pids $tag)" ]' 3 ||
        fail "the tool ($cli) or the child outlived the caller"
    # the control: a plain sleep outlives its killed caller
    tag=32.$$
    bash -c "sleep $tag </dev/null >/dev/null 2>&1 & wait" &
    caller=$!
    wait_for '[ -n "$(sleeping_pids $tag)" ]' 10 || fail "the control did not start"
    kill -KILL "$caller"
    wait "$caller" 2>/dev/null
    sleep 0.5
    pid=$(sleeping_pids $tag)
    [ -n "$pid" ] || fail "the control did not outlive its caller: the check proves nothing"
    kill "$pid"
}

# ------------------------------------------------------------------ the terminal

# pty_run INPUT SIGNAL_AFTER ARGS...: run agentsbx ARGS on a pty this test
# makes (its slave as stdin, stdout and stderr, in a session of its own);
# INPUT (Python escapes) is typed 0.7 s in, each part between '|' one second
# after the one before ("@winch": the window grows from 30x100 to 40x120 and
# the tool gets SIGWINCH); SIGNAL_AFTER seconds in (0: never)
# the tool gets SIGTERM. Leaves, in $TMP/pty.json: rc, out (what the test's
# side read), slave (its name), same_mode (the pty's termios unchanged), echo.
pty_run() {
    [ -x /usr/bin/python3 ] || skip "python3 is not installed"
    cat >"$TMP/drive.py" <<'PY'
import fcntl, json, os, select, signal, struct, subprocess, sys, termios, time
outfile, inp, sig_after = sys.argv[1], sys.argv[2], float(sys.argv[3])
pieces = [x for x in inp.encode().decode("unicode_escape").encode("latin1").split(b"|") if x]
m, s = os.openpty()
fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
before = termios.tcgetattr(s)
p = subprocess.Popen(sys.argv[4:], stdin=s, stdout=s, stderr=s, start_new_session=True)
out, t0, sent, signalled = b"", time.monotonic(), 0, not sig_after
quiet = None  # since when nothing came after the tool ended
while True:
    now = time.monotonic() - t0
    if sent < len(pieces) and now > 0.7 + sent:
        if pieces[sent] == b"@winch":  # the window grows, and the tool is told
            fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            p.send_signal(signal.SIGWINCH)
        else:
            os.write(m, pieces[sent])
        sent += 1
    if not signalled and now > sig_after:
        p.send_signal(signal.SIGTERM)
        signalled = True
    r, _, _ = select.select([m], [], [], 0.05)
    if r:
        try:
            out += os.read(m, 65536)
        except OSError:
            pass
    # What the tool wrote last reaches this master through a kernel worker, late
    # on a loaded machine: after its end, stop once nothing came for 0.5 s.
    if p.poll() is not None and not r:
        quiet = quiet if quiet is not None else now
        if now - quiet > 0.5:
            break
    elif r:
        quiet = None
    if now > 20:
        p.kill()
after = termios.tcgetattr(s)
json.dump({"rc": p.returncode, "out": out.decode("latin1"), "slave": os.ttyname(s),
           "same_mode": before == after, "echo": bool(after[3] & termios.ECHO)},
          open(outfile, "w"))
PY
    local inp=$1 sig=$2
    shift 2
    /usr/bin/python3 "$TMP/drive.py" "$TMP/pty.json" "$inp" "$sig" "$SBX" "$@" ||
        fail "the pty driver failed"
}

# pty_check PYTHON-EXPRESSION: true of d, the record pty_run left.
pty_check() {
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert eval(sys.argv[2]), "false: %s; %r" % (sys.argv[2], d)
' "$TMP/pty.json" "$1" 2>"$TMP/py.err" || fail "$(cat "$TMP/py.err")"
}

# The child's own pty: its mode changes and escapes do not reach the host's.
case_pty_mode_and_escapes() {
    pty_run "" 0 run --tool stty -- stty -echo
    pty_check 'd["rc"] == 0 and d["same_mode"] and d["echo"]'
    # the control: the real terminal handed over, echo is left off
    pty_run "" 0 run --stdin tty --tool stty -- stty -echo
    pty_check 'd["rc"] == 0 and not d["same_mode"] and not d["echo"]'
    pty_run "" 0 run -- printf '\033[2J\033]0;x\007hi\n'
    pty_check 'd["rc"] == 0 and "\x1b" not in d["out"] and d["out"] == "\\x1b[2J\\x1b]0;x\\x07hi\r\n"'
    # written to stdin (the terminal, for a child that inherits it) alike
    pty_run "" 0 run -- sh -c "printf '\\033[2J\\033]0;x\\007hi\\n' >&0"
    pty_check 'd["rc"] == 0 and d["out"] == "\\x1b[2J\\x1b]0;x\\x07hi\r\n"'
    # the control: with the real terminal handed over, the escapes reach it
    pty_run "" 0 run --stdin tty -- sh -c "printf '\\033[2J\\033]0;x\\007hi\\n' >&0"
    pty_check 'd["rc"] == 0 and d["out"] == "\x1b[2J\x1b]0;x\x07hi\r\n"'
}

# Interactive programs work through the relay; line editing is kept.
case_pty_interactive() {
    pty_run 'helx\x7flo\r\x04' 0 run -- cat
    pty_check 'd["rc"] == 0 and d["out"] == "helx\b \blo\r\nhello\r\n" and d["same_mode"]'
    pty_run 'print(6*7)\rexit()\r' 0 run -- /usr/bin/python3 -i
    pty_check 'd["rc"] == 0 and ">>> print(6*7)\r\n42\r\n>>> " in d["out"]'
    pty_run 'echo $((6*7))\rexit 4\r' 0 run -- sh -i
    pty_check 'd["rc"] == 4 and "\r\n42\r\n" in d["out"]'
    # the interrupt key is SIGINT to the child (which has no controlling terminal)
    pty_run 'import time; time.sleep(5)\r|\x03|exit(7)\r' 0 run -- /usr/bin/python3 -i
    pty_check 'd["rc"] == 7 and "KeyboardInterrupt\r\n>>> exit(7)" in d["out"] and d["same_mode"]'
    pty_run 'x\x03' 0 run -- cat
    pty_check 'd["rc"] == 130 and d["same_mode"]'
}

# The pty has the window's size, and follows it.
case_pty_window_size() {
    pty_run '@winch' 0 run --tool stty --tool sleep -- sh -c 'stty size; sleep 1.5; stty size'
    pty_check 'd["rc"] == 0 and d["out"] == "30 100\r\n40 120\r\n"'
}

# --stdin null, tty and pipe; exit status and --json on a pty.
case_pty_stdin_modes() {
    pty_run "" 0 run --stdin null -- sh -c 'read x; echo "read $?"; test -t 0 || echo notty'
    pty_check 'd["rc"] == 0 and d["out"] == "read 1\r\nnotty\r\n"'
    # (without namespaces: the view of a mount namespace has no host /dev/pts
    # for ttyname(3) to find the name in)
    pty_run "" 0 run --isolation minimal --stdin tty --tool tty -- sh -c 'test -t 0 && tty'
    pty_check 'd["rc"] == 0 and d["out"] == d["slave"] + "\r\n"'
    pty_run 'line\r\x04' 0 run --stdin pipe -- sh -c 'test -t 0 || echo notty; test -p /dev/stdin && echo pipe; read x; echo "got $x"'
    pty_check 'd["rc"] == 0 and d["out"] == "notty\r\npipe\r\nline\r\ngot line\r\n"'
    # without the pty: the child's stdin is a tty (the control of "notty" above)
    pty_run "" 0 run --stdin auto -- sh -c 'test -t 0 && test -t 1 && echo tty; exit 3'
    pty_check 'd["rc"] == 3 and d["out"] == "tty\r\n"'
    pty_run "" 0 run --json -- sh -c 'exit 3'
    pty_check 'd["rc"] == 3 and "\"status\":\"exited\",\"exit_code\":3" in d["out"]'
    sbx run --stdin bogus -- true
    expect_rc 125
    expect_err_has "--stdin: expected auto, tty, null or pipe, got 'bogus'"
    echo piped >"$TMP/in"
    sbx run --stdin pipe --tool cat -- sh -c 'test -p /dev/stdin && cat'
    expect_rc 0
    expect_out piped
}

# The host terminal's mode is restored however the run ends.
case_pty_restored() {
    pty_run "" 0 run --timeout 1 --tool sleep -- sleep 10
    pty_check 'd["rc"] == 124 and d["same_mode"] and d["out"] == "agentsbx: timed out after 1.000 s\r\n"'
    pty_run "" 1 run --tool sleep -- sleep 10
    pty_check 'd["rc"] == -15 and d["same_mode"]'
    pty_run "" 0 run -- /nonexistent/program
    pty_check 'd["rc"] == 127 and d["same_mode"]'
}

# Host operations: `run --capability NAME=COMMAND` serves, `call` calls
# (docs/capabilities.md). The command runs in the host: it can read a file the
# child cannot, and the child gets only what it prints.
case_capability_call() {
    local sbxdir
    sbxdir=$(dirname "$(dirname "$SBX")") # the build tree: the tool and its library
    # a sanitizer build's agentsbx inside: LeakSanitizer needs ptrace, denied there
    local inner_asan="ASAN_OPTIONS=detect_leaks=0"
    echo "host-only-$$" >"$TMP/hostdata"
    chmod 600 "$TMP/hostdata"
    # the control: no operation granted, no channel
    sbx run --rx "$sbxdir" --env "$inner_asan" -- "$SBX" call issue 7
    expect_rc 2
    expect_err_has "no capability channel (SBX_CAPS_FD is not set"
    sbx run --rx "$sbxdir" --tool cat --env "$inner_asan" \
        --capability "issue=read n; test -s '$TMP/hostdata' && echo \"{\\\"number\\\":\$n}\"" \
        --capability "private=echo 'issue is private' >&2; exit 3" \
        -- sh -c "\"$SBX\" call issue 7; echo rc=\$?; \"$SBX\" call private; echo rc=\$?;
                  \"$SBX\" call nope 1; echo rc=\$?; cat '$TMP/hostdata'; echo rc=\$?"
    expect_rc 0
    [ "$(cat "$TMP/out")" = "$(printf '{"number":7}\nrc=0\nrc=1\nrc=1\nrc=1')" ] ||
        fail "unexpected output$(show)"
    expect_err_has 'agentsbx: call: private: {"code":"failed","error":"issue is private"}'
    expect_err_has 'agentsbx: call: nope: {"code":"unknown_op"'
    # what the host's command read, the child cannot (not granted; not even
    # there in a mount view)
    expect_err_has "cat: $TMP/hostdata: "
    ! grep -q "host-only-$$" "$TMP/out" "$TMP/err" || fail "the child read the host's file$(show)"
    sbx run --capability "bad" -- true
    expect_rc 125
    expect_err_has "--capability bad: expected NAME=COMMAND"
    sbx run --capability "no way=true" -- true
    expect_rc 125
    expect_err_has 'operation name "no way" is not 1 to 64 characters'
}

# ---- agentsbx learn (issue 18, item 2) -----------------------------------------------------

# Drop the grant of PATH from the policy file $1 into $2.
drop_grant() {
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
before = len(d["grants"])
d["grants"] = [g for g in d["grants"] if g["path"] != sys.argv[3]]
assert len(d["grants"]) == before - 1, "no grant of " + sys.argv[3]
json.dump(d, open(sys.argv[2], "w"))
' "$1" "$2" "$3" || fail "cannot drop $3 from $1"
}

# learn, then run the same command with --policy: it succeeds; without one
# program's grant (drop) it fails, and the result names that program (as the
# child named it: denied).
learn_then_run() {
    local dir=$1 cmd=$2 expect=$3 drop=$4 denied=$5 clean=$6
    shift 6
    (cd "$dir" && "$SBX" learn --out "$TMP/learned.json" "$@" -- sh -c "$cmd") \
        >"$TMP/out" 2>"$TMP/err"
    rc=$?
    expect_rc 0
    expect_out "$expect"
    expect_err_has "agentsbx: learn: the policy is in $TMP/learned.json"
    grep -qF "\"path\": \"$dir\"" "$TMP/learned.json" || fail "no grant of $dir: $(cat "$TMP/learned.json")"
    # The learning run wrote nothing beyond its directory, and neither does the
    # policy grant more: the second run starts from scratch.
    (cd "$dir" && eval "$clean")
    (cd "$dir" && "$SBX" run --policy "$TMP/learned.json" -- sh -c "$cmd") >"$TMP/out" 2>"$TMP/err"
    rc=$?
    expect_rc 0
    expect_out "$expect"
    expect_err_lacks "denied"
    drop_grant "$TMP/learned.json" "$TMP/less.json" "$drop"
    (cd "$dir" && eval "$clean")
    (cd "$dir" && "$SBX" run --policy "$TMP/less.json" --json -- sh -c "{ $cmd; } 2>/dev/null") \
        >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -ne 0 ] || fail "the run without $drop succeeded$(show)"
    json_check "'$denied' in [x['path'] for x in d['exec_denials']]"
}

case_learn_c_build() {
    need_python3
    command -v cmake >/dev/null && command -v cc >/dev/null && command -v make >/dev/null ||
        skip "cmake, cc or make is not installed"
    mkdir "$TMP/proj"
    printf 'cmake_minimum_required(VERSION 3.10)\nproject(hello C)\nadd_executable(hello main.c)\n' \
        >"$TMP/proj/CMakeLists.txt"
    printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' >"$TMP/proj/main.c"
    # make is executed by cmake --build (as gmake), which no tool's helpers bring.
    [ "$(readlink -f /usr/bin/gmake)" = /usr/bin/make ] || skip "/usr/bin/gmake is not make"
    learn_then_run "$TMP/proj" \
        'cmake -S . -B build >/dev/null && cmake --build build >/dev/null && ./build/hello' \
        "hello" /usr/bin/make /usr/bin/gmake "rm -rf build"
}

case_learn_git() {
    need_python3
    command -v git >/dev/null || skip "git is not installed"
    mkdir "$TMP/repo" && echo hi >"$TMP/repo/a.txt"
    learn_then_run "$TMP/repo" \
        'git init -q . && git add a.txt && git commit -qm one && git log --oneline | wc -l' \
        "1" /usr/bin/wc /usr/bin/wc "rm -rf .git" \
        --env GIT_AUTHOR_NAME=t --env GIT_AUTHOR_EMAIL=t@example.org \
        --env GIT_COMMITTER_NAME=t --env GIT_COMMITTER_EMAIL=t@example.org --env "HOME=$TMP/repo"
}

case_learn_shell_session() {
    need_python3
    mkdir "$TMP/sess"
    cat >"$TMP/sess/session.sh" <<'SCRIPT'
set -e
uname -m >facts.txt
date +%Y >>facts.txt
mkdir -p notes && echo one >notes/a && cp notes/a notes/b
ls notes | sort | tr '\n' ' '
wc -l <facts.txt
SCRIPT
    learn_then_run "$TMP/sess" 'sh session.sh' "a b 2" /usr/bin/uname /usr/bin/uname \
        "rm -rf facts.txt notes"
}

# npm (issue 18's "done when"): learn an offline install of a package whose
# postinstall script npm runs with sh, replay it from the learned policy in a
# fresh directory, and without sh's grant the run names sh as the program
# denied. HOME and npm's cache are the test's own (granted --rw, so that the
# policy file carries them); nothing reaches the network.
case_learn_npm() {
    need_python3
    command -v npm >/dev/null || skip "npm not installed"
    local h="$TMP/npmhome" proj="$TMP/proj" sh_file
    sh_file=$(readlink -f /bin/sh)
    mkdir -p "$h" "$TMP/pkg"
    printf '{"name":"sbx-tiny","version":"1.0.0","main":"index.js","scripts":{"postinstall":"echo built >built.txt"}}\n' \
        >"$TMP/pkg/package.json"
    echo 'module.exports = 42;' >"$TMP/pkg/index.js"
    local -a env=(--env "HOME=$h" --env "npm_config_cache=$h/.npm" --env npm_config_update_notifier=false)
    local -a install=(npm install --offline --no-audit --no-fund "$TMP/sbx-tiny-1.0.0.tgz")
    (cd "$TMP/pkg" && HOME=$h npm_config_cache=$h/.npm npm_config_update_notifier=false \
        npm pack --pack-destination "$TMP") >"$TMP/out" 2>"$TMP/err" || fail "npm pack$(show)"
    # a fresh directory and a fresh cache for each run
    fresh() { rm -rf "$proj" "$h/.npm" && mkdir "$proj"; }
    fresh
    (cd "$proj" && "$SBX" learn --out "$TMP/learned.json" --rw "$h" "${env[@]}" -- "${install[@]}") \
        >"$TMP/out" 2>"$TMP/err"
    rc=$?
    expect_rc 0
    expect_err_has "agentsbx: learn: the policy is in $TMP/learned.json"
    [ -f "$proj/node_modules/sbx-tiny/index.js" ] && [ -f "$proj/node_modules/sbx-tiny/built.txt" ] ||
        fail "learn: the package or its postinstall's file is missing$(show)"
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
g = {x["path"]: x["access"] for x in d["grants"]}
assert "exec" in g.get(sys.argv[2], []), "sh (%s) is not granted exec: %s" % (sys.argv[2], g)
assert "write" in g.get(sys.argv[3], []), "the directory is not writable: %s" % g
assert "network" not in d, "the network was learned: %s" % d["network"]
# node reads its cgroup'"'"'s memory limit: named after this session, so optional
for p, a in g.items():
    assert not p.startswith("/sys/fs/cgroup/") or "optional" in a, "%s is not optional" % p
' "$TMP/learned.json" "$sh_file" "$proj" || fail "the learned policy: $(cat "$TMP/learned.json")"
    fresh
    (cd "$proj" && "$SBX" run --policy "$TMP/learned.json" -- "${install[@]}") >"$TMP/out" 2>"$TMP/err"
    rc=$?
    expect_rc 0
    expect_err_lacks "exec"
    [ -f "$proj/node_modules/sbx-tiny/index.js" ] && [ -f "$proj/node_modules/sbx-tiny/built.txt" ] ||
        fail "replay: the package or its postinstall's file is missing$(show)"
    drop_grant "$TMP/learned.json" "$TMP/less.json" "$sh_file"
    fresh
    (cd "$proj" && "$SBX" run --policy "$TMP/less.json" -- "${install[@]}") >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -ne 0 ] || fail "the run without sh succeeded$(show)"
    expect_err_has "/bin/sh (not granted)"
    expect_err_has "; to allow: --tool sh"
    fresh
    (cd "$proj" && "$SBX" run --policy "$TMP/less.json" --json -- "${install[@]}" --loglevel=silent) \
        >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" -ne 0 ] || fail "the run without sh succeeded$(show)"
    json_check "'/bin/sh' in [x['path'] for x in d['exec_denials']]"
}

case_learn_usage() {
    sbx learn
    expect_rc 125
    expect_err_has "agentsbx: learn: missing PROGRAM"
    sbx learn --out "" -- true
    expect_rc 125
    expect_err_has "agentsbx: learn: --out: expected a file name"
    sbx learn --out "$TMP/nodir/p.json" -- true
    expect_rc 125
    expect_err_has "agentsbx: learn: writing $TMP/nodir/p.json: No such file or directory"
    sbx learn --bogus -- true
    expect_rc 125
    sbx learn --help
    expect_rc 0
    grep -qF "Usage: agentsbx learn [--out FILE]" "$TMP/out" || fail "no usage$(show)"
}

if ! declare -F "case_$CASE" >/dev/null; then
    echo "unknown case '$CASE'" >&2
    exit 2
fi
[ -x "$SBX" ] || fail "$SBX is not executable"
"case_$CASE"
echo "PASS: $CASE"

