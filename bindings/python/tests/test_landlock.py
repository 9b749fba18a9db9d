"""Filesystem, exec and network confinement (as tests/live/test_landlock.c)."""

import os
import socket

import pytest

import agentsbx
from conftest import PY, needs_landlock


@pytest.fixture(autouse=True)
def _landlock(policy):
    """Landlock alone: in the default isolation's view an ungranted path is not
    there at all (ENOENT) and a read grant is a read-only mount (EROFS), which
    test_namespaces.py checks; here the Landlock answers (EACCES) are."""
    policy.isolation("minimal")
    needs_landlock()


def _write(path):
    return ("import sys\ntry:\n    open(%r, 'w').write('x'); print('ok')\n"
            "except OSError as e: print(e.errno)" % str(path))


def test_landlock__write_outside_workdir_denied(policy, tmp_path, workdir):
    outside = tmp_path / "outside"
    outside.mkdir()
    policy.set_workdir(workdir)
    r = policy.run([PY, "-c", _write(outside / "f")], capture_output=True)
    assert r.stdout == b"13\n" and not (outside / "f").exists()
    assert "landlock" in r.layers and "fs" in r.landlock_rights and r.landlock_abi >= 1
    r = policy.run([PY, "-c", _write(workdir / "f")], capture_output=True)
    assert r.stdout == b"ok\n"


def test_landlock__read_outside_grants_denied(policy, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    r = policy.run(["sh", "-c", f"read x < {secret} && echo $x || echo denied"], capture_output=True)
    assert r.stdout == b"denied\n"
    policy.allow_path(tmp_path, "r")
    r = policy.run(["sh", "-c", f"read x < {secret} && echo $x || echo denied"], capture_output=True)
    assert r.stdout == b"s3cret\n"


def test_landlock__allow_path_rw_grants_write(policy, tmp_path, workdir):
    outside = tmp_path / "outside"
    outside.mkdir()
    policy.set_workdir(workdir).allow_path(outside, "rw")
    r = policy.run([PY, "-c", _write(outside / "f")], capture_output=True)
    assert r.stdout == b"ok\n" and (outside / "f").read_text() == "x"


def test_landlock__read_grant_is_not_write(policy, tmp_path):
    policy.allow_path(tmp_path, "r")
    r = policy.run([PY, "-c", _write(tmp_path / "f")], capture_output=True)
    assert r.stdout == b"13\n"


def test_landlock__exec_of_file_in_workdir_denied_unless_x(policy, workdir):
    script = workdir / "tool.sh"
    script.write_text("#!/bin/sh\necho ran\n")
    script.chmod(0o755)
    policy.set_workdir(workdir)
    r = policy.run(["sh", "-c", "./tool.sh; echo rc=$?"], capture_output=True)
    assert r.stdout == b"rc=126\n"
    policy.allow_path(workdir, "rx")
    r = policy.run(["sh", "-c", "./tool.sh; echo rc=$?"], capture_output=True)
    assert r.stdout == b"ran\nrc=0\n"


def test_landlock__private_tmpdir_writable_and_removed(policy):
    r = policy.run(["sh", "-c", 'echo hi > "$TMPDIR/f" && echo "$TMPDIR"'], capture_output=True, text=True)
    assert r.returncode == 0
    tmpdir = r.stdout.strip()
    assert tmpdir and not os.path.exists(tmpdir)
    policy.private_tmp(False)
    r = policy.run(["sh", "-c", 'echo "${TMPDIR-none}"'], capture_output=True)
    assert r.stdout == b"none\n"


def test_landlock__optional_missing_path(policy, tmp_path):
    with pytest.raises(agentsbx.PathNotFoundError) as ei:
        policy.allow_path(tmp_path / "nope")
    assert ei.value.errno == 2 and isinstance(ei.value, FileNotFoundError)
    policy.allow_path(tmp_path / "nope", "rw", optional=True)
    assert policy.run(["true"]).returncode == 0


def test_landlock__tcp_connect_denied_without_grant(policy):
    if agentsbx.landlock_abi() < 4:
        pytest.skip("Landlock ABI < 4: no TCP rules")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    code = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', %d), 2); print('ok')\n"
            "except OSError as e: print(e.errno)" % port)
    try:
        r = policy.run([PY, "-c", code], capture_output=True)
        assert r.stdout == b"13\n" and "tcp" in r.landlock_rights
        policy.allow_connect(port)
        r = policy.run([PY, "-c", code], capture_output=True)
        assert r.stdout == b"ok\n", r.stderr
    finally:
        srv.close()


def test_landlock__allow_network(policy):
    policy.allow_network().allow_bind(0)
    r = policy.run([PY, "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print('ok')"],
                   capture_output=True)
    assert r.stdout == b"ok\n", r.stderr


def test_landlock__allow_tool(policy):
    policy.allow_tool("ls")
    r = policy.run(["sh", "-c", "ls /usr >/dev/null; echo rc=$?"], capture_output=True)
    assert r.stdout == b"rc=0\n"
    with pytest.raises(agentsbx.PathNotFoundError) as ei:
        policy.allow_tool("agentsbx-no-such-tool")
    assert ei.value.errno == 2


def _note(d):
    return ("the child started in / instead of the host's current directory %s, which the "
            "policy does not let it read; set a working directory (sbx_set_workdir(), "
            "--workdir DIR) or grant it read (sbx_allow_path(p, DIR, SBX_FS_READ), --ro DIR)" % d)


@pytest.mark.parametrize("mode", ["minimal", "auto"])
def test_landlock__start_dir_unreadable_starts_in_root(policy, tmp_path, monkeypatch, mode):
    """No cwd and no workdir: the child starts in the host's directory when the
    policy lets it read it (the control), else in / and the result says why."""
    policy.isolation(mode)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    monkeypatch.chdir(hidden)
    r = policy.run(["/bin/pwd"], capture_output=True)
    assert (r.returncode, r.stdout) == (0, b"/\n"), r.json
    assert r.workdir_note == _note(hidden)
    assert r.json["workdir_note"] == r.workdir_note
    policy.allow_path(hidden, "r")
    r = policy.run(["/bin/pwd"], capture_output=True)
    assert (r.returncode, r.stdout) == (0, b"%s\n" % bytes(hidden)), r.json
    assert r.workdir_note is None and "workdir_note" not in r.json


def test_landlock__exec_system_runs_installed_not_written(policy, workdir):
    """--exec system: /usr/bin/uname runs, a copy of it in the workdir does not
    (EACCES, the shell's 126); the copy runs unconfined (the control)."""
    import shutil
    import subprocess
    copy = workdir / "u"
    shutil.copy("/usr/bin/uname", copy)
    copy.chmod(0o755)
    policy.set_workdir(workdir)
    script = "uname -s; ./u; echo rc=$?"
    r = policy.run(["sh", "-c", script], capture_output=True)
    assert r.stdout == b"rc=126\n"  # the allow-list: uname is not granted either
    assert policy.exec_mode("system") is policy and policy.get_exec_mode() == "system"
    r = policy.run(["sh", "-c", script], capture_output=True)
    assert r.stdout == b"Linux\nrc=126\n", r.stderr
    assert b"Permission denied" in r.stderr
    assert subprocess.run([str(copy), "-s"], capture_output=True).stdout == b"Linux\n"
    policy.exec_mode("allowlist")
    assert policy.get_exec_mode() == "allowlist"


def test_landlock__exec_system_bad_input(policy):
    with pytest.raises(ValueError):
        policy.exec_mode("everything")
    with pytest.raises(TypeError):
        policy.exec_mode(1)
    policy.exec_mode("system").allow_path("/usr/local", "rw")
    with pytest.raises(agentsbx.InvalidArgumentError) as ei:
        policy.run(["true"])
    assert ei.value.errno == 22
    assert "exec mode system: /usr/local is a write grant, and overlaps the system directory /usr" in str(ei.value)
