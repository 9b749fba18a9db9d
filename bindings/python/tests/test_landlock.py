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
