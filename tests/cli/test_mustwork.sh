#!/bin/bash
# The must-work suite: real workloads an agent runs, in the default
# configuration of the agentsbx command-line tool (auto isolation), each with
# an unconfined control that shows the workload itself works here, and again
# with the namespaces off (--isolation minimal), where a case that needs them
# fails with its documented message.
#
#   test_mustwork.sh PATH/TO/agentsbx CASE
#
# Runs one case, a function case_CASE below; tests/cli/CMakeLists.txt registers
# each as the ctest test test_mustwork__CASE. Exit 0: passed, 1: failed, 77:
# skipped (with the reason on stderr). Works as root and as an unprivileged
# user. Grants are what the workload needs and nothing wider: its project
# directory (--workdir) and the programs it runs (--tool).
set -u

. "$(dirname "$0")/common.sh" test_mustwork "$@"
PY=/usr/bin/python3
cd "$TMP" || exit 1
mkdir "$TMP/work"

show() {
    printf '\n--- stdout (first 2000 bytes):\n%s\n--- stderr:\n%s\n' \
        "$(head -c 2000 "$TMP/out")" "$(head -c 4000 "$TMP/err")"
}

# sbx OPTIONS... -- COMMAND...: the command in the sandbox, with the project
# directory as its working directory.
sbx() {
    "$SBX" run --workdir "$TMP/work" "$@" <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}
: >"$TMP/in"

# unconfined COMMAND...: the control, in the same directory.
unconfined() {
    (cd "$TMP/work" && "$@") <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}

expect_ok() { # expect_ok WHAT EXPECTED_STDOUT
    [ "$rc" -eq 0 ] || fail "$1: exit status $rc$(show)"
    [ "$(cat "$TMP/out")" = "$2" ] || fail "$1: expected stdout '$2'$(show)"
}

need() {
    for p in "$@"; do
        command -v "$p" >/dev/null 2>&1 || skip "$p is not installed"
    done
}

# The default run has the namespaces (else the host refused them, and the
# default is the minimal configuration: the case then checks that one only).
namespaced() {
    "$SBX" run --json -- /bin/true 2>"$TMP/probe" >/dev/null
    grep -q '"namespaces":\[[^]]*"mount"' "$TMP/probe"
}

# ---------------------------------------------------------------- python

MP_PY='
import multiprocessing as mp, sys
from multiprocessing import shared_memory
def sq(x): return x * x
def put(q): q.put("queued")
if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    with mp.Pool(2) as p:
        total = sum(p.map(sq, range(10)))
    q = mp.Queue()
    pr = mp.Process(target=put, args=(q,))
    pr.start(); got = q.get(timeout=30); pr.join()
    shm = shared_memory.SharedMemory(create=True, size=64)
    shm.buf[:2] = b"ok"; peer = shared_memory.SharedMemory(name=shm.name)
    said = bytes(peer.buf[:2]).decode(); peer.close(); shm.close(); shm.unlink()
    print(sys.argv[1], total, got, said)
'

case_python_multiprocessing() {
    # A file, not -c: the spawn and forkserver methods import the main module.
    printf '%s\n' "$MP_PY" >"$TMP/work/mp.py"
    for method in fork spawn forkserver; do
        unconfined timeout 60 "$PY" mp.py "$method"
        expect_ok "control $method" "$method 285 queued ok"
        sbx --timeout 60 -- "$PY" mp.py "$method"
        if namespaced; then
            expect_ok "$method" "$method 285 queued ok"
        fi
        # Without the namespaces /dev/shm is the host's, which Landlock keeps
        # read-only: SemLock fails, as docs/containers.md says.
        sbx --isolation minimal --timeout 60 -- "$PY" mp.py "$method"
        [ "$rc" -ne 0 ] || fail "minimal $method: expected the documented failure$(show)"
        grep -q "PermissionError" "$TMP/err" || fail "minimal $method: no PermissionError$(show)"
    done
}

PPE_PY='
import concurrent.futures as cf, os
def pid(_): return os.getpid()
if __name__ == "__main__":
    with cf.ProcessPoolExecutor(4) as ex:
        print(len(list(ex.map(pid, range(100)))))
'

case_python_process_pool() {
    printf '%s\n' "$PPE_PY" >"$TMP/work/ppe.py"
    unconfined timeout 60 "$PY" ppe.py
    expect_ok control 100
    sbx --timeout 60 -- "$PY" ppe.py
    if namespaced; then
        expect_ok default 100
    fi
    sbx --isolation minimal --timeout 60 -- "$PY" ppe.py
    [ "$rc" -ne 0 ] && grep -q "PermissionError" "$TMP/err" ||
        fail "minimal: expected the documented failure$(show)"
}

THREADS_PY='
import threading
n = []
def work(i): n.append(i)
ts = [threading.Thread(target=work, args=(i,)) for i in range(256)]
for t in ts: t.start()
for t in ts: t.join()
print(len(n))
'

case_threads() {
    unconfined "$PY" -c "$THREADS_PY"
    expect_ok control 256
    sbx -- "$PY" -c "$THREADS_PY"
    expect_ok default 256
    sbx --isolation minimal -- "$PY" -c "$THREADS_PY"
    expect_ok minimal 256
}

case_pytest() {
    [ -x /usr/bin/pytest-3 ] || skip "pytest (python3-pytest) is not installed"
    cat >"$TMP/work/test_sample.py" <<'EOF'
import tempfile, os
def test_add(): assert 1 + 1 == 2
def test_tmp(tmp_path): (tmp_path / "f").write_text("x"); assert (tmp_path / "f").read_text() == "x"
def test_tempfile():
    with tempfile.NamedTemporaryFile() as f: f.write(b"x")
EOF
    local args=(-q -p no:cacheprovider test_sample.py)
    unconfined /usr/bin/pytest-3 "${args[@]}"
    [ "$rc" -eq 0 ] || fail "control$(show)"
    sbx -- /usr/bin/pytest-3 "${args[@]}"
    [ "$rc" -eq 0 ] && grep -q "3 passed" "$TMP/out" || fail "default$(show)"
    sbx --isolation minimal -- /usr/bin/pytest-3 "${args[@]}"
    [ "$rc" -eq 0 ] && grep -q "3 passed" "$TMP/out" || fail "minimal$(show)"
}

# ---------------------------------------------------------------- terminals and /proc

PTY_PY='
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv("/bin/echo", ["echo", "through a pty"])
out = b""
while True:
    try:
        b = os.read(fd, 1024)
    except OSError:
        break
    if not b: break
    out += b
os.waitpid(pid, 0)
print(out.decode().strip())
'

case_pty() {
    unconfined "$PY" -c "$PTY_PY"
    expect_ok control "through a pty"
    sbx --tool /bin/echo -- "$PY" -c "$PTY_PY"
    if namespaced; then
        expect_ok default "through a pty"
        need script
        sbx --tool /bin/echo --tool sh -- script -qec "/bin/echo in script" /dev/null
        [ "$rc" -eq 0 ] && grep -q "in script" "$TMP/out" || fail "script$(show)"
    fi
    # Without the view there is no pty of the child's own: /dev/ptmx is not granted.
    sbx --isolation minimal --tool /bin/echo -- "$PY" -c "$PTY_PY"
    [ "$rc" -ne 0 ] || fail "minimal: expected the documented failure$(show)"
}

case_proc_tools() {
    need ps free
    unconfined sh -c 'ps -e >/dev/null && free >/dev/null && echo ok'
    expect_ok control ok
    namespaced || skip "the namespaces are not available here: $(cat "$TMP/probe")"
    # The child's own processes only: sh (pid 2 under the init) and ps.
    sbx --tool ps --tool free --tool wc --tool grep --tool cat -- sh -c 'ps -e -o pid=,comm= | wc -l; free | grep -c Mem:; cat /proc/self/status | grep -c ^Pid; echo $$'
    expect_ok default "$(printf '4\n1\n1\n2')"
    sbx -- "$PY" -c 'import os; print(os.cpu_count() > 0, len(os.sched_getaffinity(0)) > 0)'
    expect_ok cpu_count "True True"
}

# ---------------------------------------------------------------- builds

case_cmake_gcc_build() {
    need cmake gcc make
    mkdir -p "$TMP/work/src"
    cat >"$TMP/work/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.13)
project(hello C)
add_executable(hello hello.c)
EOF
    printf '#include <stdio.h>\nint main(void) { puts("built and ran"); return 0; }\n' \
        >"$TMP/work/src/hello.c"
    local build='cmake -S src -B build >/dev/null && cmake --build build >/dev/null && ./build/hello'
    unconfined sh -c "$build"
    expect_ok control "built and ran"
    rm -rf "$TMP/work/build"
    # The toolchain: the programs it executes, and the project's own binaries.
    local tools=(--rx /usr/bin --rx /usr/lib/gcc --rx /usr/libexec --rx "$TMP/work")
    sbx "${tools[@]}" -- sh -c "$build"
    expect_ok default "built and ran"
    rm -rf "$TMP/work/build"
    sbx --isolation minimal "${tools[@]}" -- sh -c "$build"
    expect_ok minimal "built and ran"
}

case_git() {
    need git
    mkdir "$TMP/origin"
    (cd "$TMP/origin" && git init -q && git -c user.email=t@t -c user.name=t commit -q --allow-empty -m first) ||
        fail "setting up the origin"
    local script='git init -q repo && cd repo && echo x >f && git add f &&
git -c user.email=a@b -c user.name=a commit -qm one && git branch feature &&
git branch --list | wc -l && cd .. && git clone -q "$1" clone && git -C clone log --oneline | wc -l'
    unconfined sh -c "$script" sh "$TMP/origin"
    expect_ok control "$(printf '2\n1')"
    rm -rf "$TMP/work/repo" "$TMP/work/clone"
    # The origin is granted read-only: a clone only reads it.
    sbx --ro "$TMP/origin" --rx /usr/lib/git-core --tool git --tool wc -- sh -c "$script" sh "$TMP/origin"
    expect_ok default "$(printf '2\n1')"
    rm -rf "$TMP/work/repo" "$TMP/work/clone"
    sbx --isolation minimal --ro "$TMP/origin" --rx /usr/lib/git-core --tool git --tool wc -- \
        sh -c "$script" sh "$TMP/origin"
    expect_ok minimal "$(printf '2\n1')"
}

case_node_worker_threads() {
    need node
    local js='const { Worker, isMainThread, parentPort } = require("worker_threads");
if (isMainThread) {
  let done = 0;
  for (let i = 0; i < 4; i++) {
    const w = new Worker(__filename);
    w.on("message", () => { if (++done === 4) console.log("4 workers"); });
  }
} else { parentPort.postMessage("hi"); }'
    printf '%s\n' "$js" >"$TMP/work/w.js"
    unconfined node w.js
    expect_ok control "4 workers"
    sbx -- node w.js
    expect_ok default "4 workers"
    sbx --isolation minimal -- node w.js
    expect_ok minimal "4 workers"
}

case_npm_offline_install() {
    need npm node
    mkdir -p "$TMP/pkg" "$TMP/work/app"
    printf '{"name":"agentsbx-local-dep","version":"1.0.0","main":"index.js"}\n' >"$TMP/pkg/package.json"
    printf 'module.exports = () => "from the tarball";\n' >"$TMP/pkg/index.js"
    (cd "$TMP" && npm_config_cache="$TMP/.npm-pack" npm pack ./pkg --silent >/dev/null 2>"$TMP/err") ||
        fail "npm pack: $(cat "$TMP/err")"
    local tgz="$TMP/agentsbx-local-dep-1.0.0.tgz"
    [ -f "$tgz" ] || fail "npm pack made no tarball"
    printf '{"name":"app","version":"1.0.0"}\n' >"$TMP/work/app/package.json"
    local script='cd app && npm install --offline --no-audit --no-fund --silent "$1" >/dev/null &&
node -e "console.log(require(\"agentsbx-local-dep\")())"'
    # The cache is the project's own: npm writes it, HOME is not granted.
    unconfined env npm_config_cache="$TMP/work/.npm" sh -c "$script" sh "$tgz"
    expect_ok control "from the tarball"
    rm -rf "$TMP/work/app/node_modules" "$TMP/work/app/package-lock.json" "$TMP/work/.npm"
    printf '{"name":"app","version":"1.0.0"}\n' >"$TMP/work/app/package.json"
    sbx --ro "$tgz" --env "npm_config_cache=$TMP/work/.npm" --rx /usr/lib/node_modules \
        --tool node --tool npm -- sh -c "$script" sh "$tgz"
    expect_ok default "from the tarball"
}

# ---------------------------------------------------------------- shells and output

case_shell_pipeline() {
    local script='seq 1 1000 | grep 7 | sort -r | head -n 3 | tr "\n" " "; echo'
    local tools=(--tool seq --tool grep --tool sort --tool head --tool tr)
    unconfined sh -c "$script"
    local want
    want=$(cat "$TMP/out")
    [ "$rc" -eq 0 ] && [ -n "$want" ] || fail "control$(show)"
    sbx "${tools[@]}" -- sh -c "$script"
    expect_ok default "$want"
    sbx --isolation minimal "${tools[@]}" -- sh -c "$script"
    expect_ok minimal "$want"
}

case_output_50mb() {
    local code='import sys
chunk = b"x" * 65535 + b"\n"
for _ in range(800): sys.stdout.buffer.write(chunk)
sys.exit(3)'
    unconfined "$PY" -c "$code"
    [ "$rc" -eq 3 ] && [ "$(stat -c %s "$TMP/out")" -eq 52428800 ] || fail "control$(show)"
    for iso in auto minimal; do
        sbx --isolation "$iso" --timeout 60 -- "$PY" -c "$code"
        [ "$rc" -eq 3 ] || fail "$iso: exit status $rc, expected 3$(show)"
        [ "$(stat -c %s "$TMP/out")" -eq 52428800 ] ||
            fail "$iso: $(stat -c %s "$TMP/out") bytes of output, expected 52428800$(show)"
    done
}

if ! declare -F "case_$CASE" >/dev/null; then
    echo "unknown case '$CASE'" >&2
    exit 2
fi
[ -x "$SBX" ] || fail "$SBX is not executable"
"case_$CASE"
echo "PASS: $CASE"
