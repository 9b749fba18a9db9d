"""Diagnose mode through Python (as tests/live/test_diagnose.c)."""

import json
import os
import shutil
import socket
import tempfile

import pytest

import agentsbx
from conftest import needs_landlock


@pytest.fixture
def vardir():
    # /var/tmp: beneath /tmp the mount view's private /tmp grants every right.
    d = tempfile.mkdtemp(prefix="sbx-diagnose-py-", dir="/var/tmp")
    os.chmod(d, 0o755)
    with open(os.path.join(d, "f"), "w") as f:
        f.write("x")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_diagnose__open_reported_with_path(policy, vardir):
    needs_landlock()
    path = os.path.join(vardir, "f")
    with open(path) as f:  # the control: readable unconfined
        assert f.read() == "x"
    policy.diagnose().allow_path(vardir, "w").allow_tool("cat")
    r = policy.run(["sh", "-c", f"cat {path}; echo rc=$?"], capture_output=True)
    assert r.stdout == b"rc=1\n" and r.access_denial_count >= 1, r
    denied = [d for d in r.access_denials if d.path == path]
    assert denied and denied[0].kind == "file" and denied[0].missing == ["read"], r.access_denials
    assert denied[0].dir == vardir and denied[0].port == -1 and denied[0].times >= 1
    # Granted: read, and nothing reported.
    policy.allow_path(vardir, "r")
    r = policy.run(["cat", path], capture_output=True)
    assert r.stdout == b"x" and r.access_denials == [] and r.access_denial_count == 0


def test_diagnose__connect_reported_with_port(policy):
    needs_landlock()
    if agentsbx.landlock_abi() < 4:
        pytest.skip("SKIP: the kernel's Landlock has no TCP rules (ABI 4)")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]
    try:
        code = f"import socket; socket.create_connection(('127.0.0.1', {port}))"
        policy.diagnose().allow_tool("python3")
        r = policy.run(["python3", "-c", code], capture_output=True)
        assert r.returncode != 0 and b"PermissionError" in r.stderr, r.stderr
        assert [(d.kind, d.port) for d in r.access_denials] == [("connect", port)], r.access_denials
        policy.allow_connect(port)
        r = policy.run(["python3", "-c", code], capture_output=True)
        assert r.returncode == 0 and r.access_denials == [], (r.stderr, r.access_denials)
    finally:
        srv.close()


def test_diagnose__off_by_default(policy, vardir):
    needs_landlock()
    r = policy.run(["sh", "-c", f"cat {vardir}/f; true"], capture_output=True)
    assert r.access_denials == [] and r.access_denial_count == 0


def test_diagnose__learn_then_run(vardir):
    needs_landlock()
    work = os.path.join(vardir, "work")
    os.mkdir(work)
    script = f"cat {vardir}/f >/dev/null && uname -s >{work}/out && cat {work}/out"
    with agentsbx.Policy() as p:
        p.isolation("minimal").allow_path("/", "rx").allow_path(work, "rw").learn()
        r = p.run(["sh", "-c", script], capture_output=True)
        assert r.returncode == 0 and r.stdout == b"Linux\n", r.stderr
        doc = json.loads(r.learned_policy)
    grants = {g["path"]: g["access"] for g in doc["grants"]}
    assert grants[work] == ["read", "write"] and grants[f"{vardir}/f"] == ["read"], grants
    assert "/usr/bin/uname" in grants and "/" not in grants, grants
    with agentsbx.Policy() as q:
        q.isolation("minimal").load_json(r.learned_policy)
        r2 = q.run(["sh", "-c", script], capture_output=True)
        assert r2.returncode == 0 and r2.stdout == b"Linux\n", r2.stderr
    # The control: not learned, None; and the same script without the grants fails.
    with agentsbx.Policy() as q:
        r3 = q.isolation("minimal").run(["sh", "-c", script], capture_output=True)
        assert r3.returncode != 0 and r3.learned_policy is None
