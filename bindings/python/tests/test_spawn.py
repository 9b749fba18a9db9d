"""Exit codes, signals, capture, stdin, truncation, env, workdir, setup errors (as tests/live/test_spawn.c)."""

import errno
import os
import signal

import pytest

import agentsbx
from conftest import PY


def test_spawn__exec_of_ungranted_tool_denied(policy):
    # The default policy executes only the program itself: sh cannot run cat.
    r = policy.run(["sh", "-c", "cat /dev/null; echo rc=$?"], capture_output=True)
    assert r.stdout == b"rc=126\n"
    policy.allow_tool("cat")
    r = policy.run(["sh", "-c", "cat /dev/null; echo rc=$?"], capture_output=True)
    assert r.stdout == b"rc=0\n"


def test_spawn__exit_codes(policy):
    for code in (0, 1, 42, 255):
        r = policy.run(["sh", "-c", f"exit {code}"])
        assert (r.returncode, r.status, r.exit_code, r.signal) == (code, "exited", code, None)


def test_spawn__death_by_signal_is_negative_returncode(policy):
    r = policy.run(["sh", "-c", "kill -SEGV $$"], capture_output=True)
    assert (r.returncode, r.status, r.signal, r.exit_code) == (-signal.SIGSEGV, "signaled", signal.SIGSEGV, None)


def test_spawn__run_captures_stdout_and_stderr(policy):
    r = policy.run(["sh", "-c", "printf out; printf err >&2"], capture_output=True)
    assert (r.stdout, r.stderr) == (b"out", b"err")
    assert not r.stdout_truncated and not r.stderr_truncated
    assert {"hygiene", "seccomp"} <= r.layers
    assert r.json["status"] == "exited"


def test_spawn__run_text_mode(policy):
    r = policy.run(["cat"], input="héllo", text=True, capture_output=True)
    assert r.stdout == "héllo" and r.stderr == ""


def test_spawn__run_feeds_stdin_large_no_deadlock(policy):
    data = os.urandom(3 << 20)
    r = policy.run(["cat"], input=data, capture_output=True)
    assert r.returncode == 0 and r.stdout == data


def test_spawn__run_null_input_is_dev_null(policy):
    r = policy.run([PY, "-c", "import sys; print(repr(sys.stdin.read()))"], capture_output=True)
    assert r.stdout == b"''\n"


def test_spawn__uncaptured_input_through_spawn(policy, capfd):
    policy.allow_tool("tr")
    r = policy.run(["sh", "-c", "tr a-z A-Z; echo done >&2"], input=b"abc\n")
    assert r.returncode == 0 and r.stdout is None and r.stderr is None
    out, err = capfd.readouterr()
    assert out == "ABC\n" and err == "done\n"


def test_spawn__run_truncates_output(policy):
    policy.limit(output="1K").allow_tool("head")
    r = policy.run(["sh", "-c", "head -c 100000 /dev/zero"], capture_output=True)
    assert r.returncode == 0 and len(r.stdout) == 1024 and r.stdout_truncated and not r.stderr_truncated


def test_spawn__result_usage(policy):
    r = policy.run([PY, "-c", "x = bytearray(50 << 20); sum(range(3_000_000))"], capture_output=True)
    assert r.returncode == 0, r.stderr
    assert r.wall_time > 0 and r.cpu_time > 0 and r.peak_rss >= 50 << 20


def test_spawn__env_host_secret_absent_and_default_exact(policy, monkeypatch):
    monkeypatch.setenv("SBX_HOST_SECRET", "hunter2")
    r = policy.run(["env"], capture_output=True, text=True)
    env = dict(line.split("=", 1) for line in r.stdout.splitlines())
    assert "SBX_HOST_SECRET" not in env
    assert set(env) - {"TMPDIR"} == {"PATH", "LANG", "HOME"}


def test_spawn__env_set_unset_pass(policy, monkeypatch):
    monkeypatch.setenv("SBX_PASSED", "v1")
    policy.set_env("FOO", "bar").unset_env("LANG").pass_env("SBX_PASSED").pass_env("SBX_NOT_ON_HOST")
    monkeypatch.setenv("SBX_PASSED", "v2")  # read when pass_env was called
    r = policy.run(["env"], capture_output=True, text=True)
    env = dict(line.split("=", 1) for line in r.stdout.splitlines())
    assert env["FOO"] == "bar" and env["SBX_PASSED"] == "v1"
    assert "LANG" not in env and "SBX_NOT_ON_HOST" not in env


def test_spawn__per_call_env_and_cwd_do_not_change_policy(policy, workdir):
    r = policy.run(["sh", "-c", 'echo "$X:$(pwd)"'], env={"X": "1"}, cwd=workdir, capture_output=True, text=True)
    assert r.stdout == f"1:{workdir}\n"
    r = policy.run(["sh", "-c", 'echo "$X:$HOME"'], capture_output=True, text=True)
    assert r.stdout == ":/\n"


def test_spawn__env_none_removes_variable(policy):
    r = policy.run(["sh", "-c", 'echo "${LANG-unset}"'], env={"LANG": None}, capture_output=True, text=True)
    assert r.stdout == "unset\n"


def test_spawn__workdir_and_home(policy, workdir):
    policy.set_workdir(workdir)
    assert policy.workdir == str(workdir)
    r = policy.run(["sh", "-c", 'pwd; echo "$HOME"; echo hi > f'], capture_output=True, text=True)
    assert r.stdout == f"{workdir}\n{workdir}\n" and (workdir / "f").read_text() == "hi\n"


def test_spawn__setup_workdir_missing(policy, tmp_path):
    policy.set_workdir(tmp_path / "nope")
    with pytest.raises(agentsbx.PathNotFoundError) as ei:
        policy.run(["true"])
    e = ei.value
    assert isinstance(e, FileNotFoundError) and not isinstance(e, agentsbx.ProgramNotFoundError)
    assert e.errno == errno.ENOENT and e.stage == "workdir" and "nope" in e.message


def test_spawn__workdir_not_a_directory_at_the_setter(policy, tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(NotADirectoryError) as ei:
        policy.set_workdir(f)
    e = ei.value
    assert isinstance(e, agentsbx.PathNotADirectoryError) and isinstance(e, agentsbx.SandboxError)
    assert e.errno == errno.ENOTDIR and e.message == f"sbx_set_workdir({f}): Not a directory"
    assert policy.workdir is None  # the policy is unchanged
    with pytest.raises(NotADirectoryError, match="Not a directory"):
        policy.run(["true"], cwd=f)
    # the same class as a grant through a file
    with pytest.raises(NotADirectoryError) as ei:
        policy.allow_path(f / "x", "r")
    assert ei.value.errno == errno.ENOTDIR and str(f / "x") in ei.value.message


def test_spawn__setup_workdir_became_a_file(policy, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    policy.set_workdir(d)  # a directory when set, a file at spawn: the library says so
    d.rmdir()
    d.write_text("")
    with pytest.raises(NotADirectoryError) as ei:
        policy.run(["true"])
    assert ei.value.errno == errno.ENOTDIR and ei.value.stage == "workdir"


def test_spawn__setup_program_not_in_path(policy):
    with pytest.raises(agentsbx.ProgramNotFoundError) as ei:
        policy.run(["agentsbx-no-such-program"])
    assert ei.value.errno == errno.ENOENT and ei.value.stage == "program"
    assert "agentsbx-no-such-program" in str(ei.value)


def test_spawn__setup_program_absolute_missing(policy):
    with pytest.raises(FileNotFoundError) as ei:
        policy.run(["/bin/agentsbx-nope"], capture_output=True)
    assert isinstance(ei.value, agentsbx.ProgramNotFoundError) and ei.value.stage in ("program", "exec")


def test_spawn__setup_program_not_executable(policy, workdir):
    f = workdir / "script"
    f.write_text("#!/bin/sh\n")
    f.chmod(0o644)
    with pytest.raises(agentsbx.SandboxPermissionError) as ei:
        policy.run([str(f)])
    assert ei.value.errno == errno.EACCES and isinstance(ei.value, PermissionError)


def test_spawn__check_raises_called_process_error(policy):
    import subprocess
    with pytest.raises(subprocess.CalledProcessError) as ei:
        policy.run(["sh", "-c", "echo o; exit 3"], capture_output=True, check=True)
    e = ei.value
    assert isinstance(e, agentsbx.SandboxProcessError)
    assert (e.returncode, e.stdout, e.result.status) == (3, b"o\n", "exited")
    assert policy.run(["true"], check=True).returncode == 0


def test_spawn__module_run_default_policy():
    r = agentsbx.run(["echo", "x"], capture_output=True)
    assert r.stdout == b"x\n"


def test_spawn__stdio_pipe_roundtrip(policy):
    policy.allow_tool("cat")
    with policy.spawn(["sh", "-c", "cat; echo e >&2"], stdin=agentsbx.PIPE, stdout=agentsbx.PIPE,
                      stderr=agentsbx.PIPE) as c:
        out, err = c.communicate(b"ping")
        assert (out, err, c.returncode) == (b"ping", b"e\n", 0)


def test_spawn__stdio_fd_and_devnull(policy, tmp_path):
    path = tmp_path / "out"
    policy.allow_tool("cat")
    with open(path, "wb") as f, policy.spawn(["sh", "-c", "echo to-file; cat"], stdout=f,
                                               stdin=agentsbx.DEVNULL) as c:
        assert c.wait() == 0
    assert path.read_bytes() == b"to-file\n"


def test_spawn__pass_fds_kept_others_closed(policy):
    r, w = os.pipe()
    try:
        with policy.spawn([PY, "-c", f"import os; os.write({w}, b'kept\\n')"],
                          pass_fds=[w], stdout=agentsbx.PIPE) as c:
            out, _ = c.communicate()
        os.close(w)
        w = -1
        assert os.read(r, 100) == b"kept\n"
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_spawn__prepare_ahead(policy):
    """The second and later runs of one program take the sandbox prepared while
    the one before ran; what they do and see is the same."""
    policy.prepare_ahead().set_env("X", "x")
    outs = []
    for i in range(5):
        r = policy.run([PY, "-c", "import os, sys; print(sys.argv[1], os.getpid(), "
                        "os.environ.get('X'))", str(i)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        outs.append((r.stdout, r.prepared_ahead, r.namespaces))
    if "pid" not in outs[0][2] or "mount" not in outs[0][2]:
        pytest.skip("no pid and mount namespace here: nothing is prepared ahead")
    assert [o[1] for o in outs] == [False, True, True, True, True]
    assert [o[0] for o in outs] == [f"{i} 2 x\n" for i in range(5)]  # pid 2: the init's child
    policy.prepare_ahead(False)
    r = policy.run([PY, "-c", "pass"], capture_output=True)
    assert r.returncode == 0 and not r.prepared_ahead


def test_spawn__prepare_ahead_auto(policy):
    """"auto" prepares after the second run in a row of one program: the third
    and later take a prepared sandbox; another program does not, and False
    turns it off."""
    policy.prepare_ahead("auto")
    flags = []
    for i in range(4):
        r = policy.run([PY, "-c", "pass"], capture_output=True)
        assert r.returncode == 0, r.stderr
        flags.append(r.prepared_ahead)
    if "pid" not in r.namespaces or "mount" not in r.namespaces:
        pytest.skip("no pid and mount namespace here: nothing is prepared ahead")
    assert flags == [False, False, True, True]
    assert not policy.run(["/bin/true"], capture_output=True).prepared_ahead
    policy.prepare_ahead(False)
    assert not policy.run([PY, "-c", "pass"], capture_output=True).prepared_ahead
    with pytest.raises(ValueError):
        policy.prepare_ahead("sometimes")


def test_spawn__prepare_ahead_per_call(policy, tmp_path):
    """env= and timeout= are the call's own and take the prepared sandbox
    (they go in the spawn's options); cwd= runs under a copy of the policy and
    takes none, and the copy prepares nothing for itself."""
    policy.prepare_ahead().set_env("X", "policy")
    prog = [PY, "-c", "import os, sys, time; print(os.environ.get('X'), os.environ.get('Y'), "
            "os.getcwd()); sys.stdout.flush(); time.sleep(float(sys.argv[1]))"]
    first = policy.run(prog + ["0"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    if "pid" not in first.namespaces or "mount" not in first.namespaces:
        pytest.skip("no pid and mount namespace here: nothing is prepared ahead")
    here = first.stdout.split()[2]
    r = policy.run(prog + ["0"], capture_output=True, text=True, env={"X": None, "Y": "call"})
    assert (r.returncode, r.prepared_ahead, r.stdout.split()) == (0, True, ["None", "call", here])
    r = policy.run(prog + ["0"], capture_output=True, text=True)  # the call's env= is gone
    assert (r.returncode, r.prepared_ahead, r.stdout.split()) == (0, True, ["policy", "None", here])
    with pytest.raises(agentsbx.TimeoutExpired) as e:
        policy.run(prog + ["30"], capture_output=True, text=True, timeout=0.5)
    assert e.value.result.status == "timed_out" and e.value.result.prepared_ahead
    with policy.spawn(prog + ["0"], stdout=agentsbx.PIPE, env={"Y": "spawned"}) as child:
        out, _ = child.communicate()
        child.wait()
    assert child.result is not None and child.result.prepared_ahead and out.split()[:2] == [b"policy", b"spawned"]
    r = policy.run(prog + ["0"], capture_output=True, text=True, cwd=tmp_path)
    assert (r.returncode, r.prepared_ahead, r.stdout.split()[2]) == (0, False, str(tmp_path))
    r = policy.run(prog + ["0"], capture_output=True, text=True)  # the policy's own, still ready
    assert (r.returncode, r.prepared_ahead) == (0, True)
