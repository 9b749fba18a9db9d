"""agentsbx.Session: a confined, stateful Python interpreter running cells (issue 19, item 5)."""

import errno
import os
import time

import pytest

import agentsbx
from conftest import PY


def fd_count():
    return len(os.listdir("/proc/self/fd"))


def no_child_left():
    try:
        os.waitpid(-1, os.WNOHANG | 0x40000000)  # __WALL
    except ChildProcessError:
        return True
    return False


def test_session__state_across_100_cells_and_overhead():
    agentsbx.run(["true"], capture_output=True)  # the library opens what it keeps for all runs once
    before = fd_count()
    with agentsbx.Session(timeout=10) as s:
        first = s.run("x = 0\ndef inc(v):\n    return v + 1")
        assert first.status == "ok" and first.value is None and not first.restarted
        t0 = time.monotonic()
        for i in range(100):
            c = s.run("x = inc(x)\nx")
            assert (c.status, c.value, c.stdout, c.stderr) == ("ok", str(i + 1), "", ""), c
        per_cell = (time.monotonic() - t0) / 100
        assert s.run("print(x * 2)").stdout == "200\n"
        assert s.restarts == 1  # one interpreter for all of them
    with agentsbx.Policy() as p:
        t0 = time.monotonic()
        for i in range(10):
            r = p.run([PY, "-c", f"x = {i}\nprint(x + 1)"], capture_output=True)
            assert r.stdout == f"{i + 1}\n".encode()
        per_run = (time.monotonic() - t0) / 10
    print(f"per-cell: Session {per_cell * 1000:.2f} ms, fresh Policy.run {per_run * 1000:.2f} ms")
    assert per_cell < per_run  # the point of a session: no interpreter start per cell
    assert fd_count() == before and no_child_left()


def test_session__timeout_interrupts_and_keeps_state():
    with agentsbx.Session(timeout=10) as s:
        s.run("kept = 'yes'")
        c = s.run("import time\nwhile True:\n    time.sleep(0.05)", timeout=0.5)
        assert c.status == "timed_out" and not c.restarted, c
        assert c.stderr.endswith("KeyboardInterrupt\n") and 0.5 <= c.duration < 5
        assert s.run("kept").value == "'yes'"  # the same interpreter
        assert s.restarts == 1


def test_session__timeout_kills_a_cell_that_ignores_sigint_then_restarts():
    before = fd_count()
    with agentsbx.Session(timeout=10, interrupt_grace=0.3) as s:
        s.run("kept = 1")
        pid = s.pid
        c = s.run("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('spinning', flush=True)\n"
                  "while True:\n    pass", timeout=0.5)
        assert c.status == "timed_out" and c.restarted and c.stdout == "spinning\n", c
        assert c.result is not None and c.result.status == "killed"
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # killed and reaped
        after = s.run("kept")
        assert after.status == "error" and after.error == "NameError: name 'kept' is not defined"
        assert s.run("1 + 1").value == "2" and s.restarts == 2 and s.pid != pid
    assert fd_count() == before and no_child_left()


def test_session__output_limit_redaction_and_errors():
    with agentsbx.Policy() as p:
        p.redact("hunter22-secret")
        with agentsbx.Session(p, output_limit=1000) as s:
            flood = s.run("import sys\nsys.stdout.write('x' * 10_000_000)\n'done'")
            assert flood.status == "ok" and flood.value == "'done'"
            assert flood.stdout == "x" * 1000 and flood.stdout_truncated and not flood.stderr_truncated
            c = s.run("print('pw=hunter22-secret')")
            assert c.stdout == "pw=[REDACTED]\n" and c.redactions == 1
            e = s.run("raise KeyError('k')")
            assert e.status == "error" and e.error == "KeyError: 'k'" and e.value is None
            assert e.stderr.startswith("Traceback") and 'File "<cell>", line 1' in e.stderr
            assert s.run("input()").error == "EOFError: EOF when reading a line"  # stdin is not the channel
            assert s.run("raise SystemExit(4)").error == "SystemExit: 4"
            assert s.run("(1 +").error.startswith("SyntaxError")
            assert s.run("print('still here')").stdout == "still here\n"


def test_session__interpreter_ends_then_fresh_one():
    with agentsbx.Session() as s:
        s.run("v = 1")
        c = s.run("import os\nprint('bye', flush=True)\nos._exit(3)")
        assert c.status == "ended" and c.restarted and c.stdout == "bye\n"
        assert c.result.status == "exited" and c.result.exit_code == 3
        assert s.run("'v' in dir()").value == "False" and s.restarts == 2


def test_session__confined_by_its_policy(tmp_path):
    """Hostile: a cell writes outside its grants and fails; granted, the same write works (control)."""
    target = tmp_path / "out.txt"
    code = f"open({str(target)!r}, 'w').write('x')"
    with agentsbx.Session() as s:
        c = s.run(code)
        # denied by Landlock, or not even in the child's view of the filesystem (mount namespace)
        assert c.status == "error" and c.error.startswith(("PermissionError", "FileNotFoundError")), c
    assert not target.exists()
    with agentsbx.Policy() as p:
        p.allow_path(tmp_path, "rw")
        with agentsbx.Session(p) as s:
            c = s.run(code)
            assert c.status == "ok" and c.value == "1", c
    assert target.read_text() == "x"


def test_session__bad_input():
    with pytest.raises(TypeError, match="policy must be an agentsbx.Policy"):
        agentsbx.Session("nope")
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        agentsbx.Session(timeout=-1)
    with pytest.raises(ValueError, match="invalid size"):
        agentsbx.Session(output_limit="12Q")
    s = agentsbx.Session(python="/nonexistent/python3")
    with pytest.raises(agentsbx.ProgramNotFoundError) as ei:
        s.run("1")
    assert ei.value.errno == errno.ENOENT and "/nonexistent/python3" in ei.value.message
    s.close()
    with agentsbx.Session() as s:
        with pytest.raises(TypeError, match="code must be a str"):
            s.run(b"1")
        with pytest.raises(ValueError, match="timeout must be a positive number"):
            s.run("1", timeout=0)
    with pytest.raises(ValueError, match="closed Session"):
        s.run("1")
    s.close()  # idempotent
    assert no_child_left()


def test_session__example_async_session():
    """examples/python/async_session.py runs and prints what it promises."""
    from conftest import REPO
    path = os.path.join(os.environ.get("SBX_SOURCE_DIR", REPO), "examples", "python", "async_session.py")
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-B", path], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "exited job 0 key=[REDACTED]", "exited job 1 key=[REDACTED]", "exited job 2 key=[REDACTED]",
        "[ok] value=None restarted=False", "[ok] value=12.566 restarted=False",
        "[timed_out] value=None restarted=False", "[ok] radius=2"]
