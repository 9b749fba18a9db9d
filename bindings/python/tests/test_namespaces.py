"""The namespace layer through Python (as tests/live/test_namespace.c)."""

import pytest

import agentsbx
from conftest import PY


_PID_NS = agentsbx.probe()["pid_ns"]
needs_pid_ns = pytest.mark.skipif(not _PID_NS.available,
                                  reason=f"pid namespaces are not available here: {_PID_NS.reason}")


def test_namespaces__unknown_name_raises(policy):
    with pytest.raises(agentsbx.InvalidArgumentError) as ei:
        policy.unshare("pid", "bogus")
    assert "'bogus'" in str(ei.value)


@needs_pid_ns
def test_namespaces__pid_and_uts(policy):
    policy.unshare("pid", "uts").allow_tool("hostname")
    r = policy.run(["sh", "-c", "echo $$; hostname; exit 3"], capture_output=True)
    assert r.returncode == 3, r.json
    assert r.stdout == b"2\nagentsbx\n"
    assert {"pid", "uts"} <= r.namespaces
    assert r.tree_kill == "pidns"
    assert "namespaces" in r.layers


def test_namespaces__auto_by_default(policy):
    assert policy.get_isolation() == "auto"
    r = policy.run(["sh", "-c", "echo $$"], capture_output=True)
    if r.isolation_fallback is None:
        # The host allows them: pid (the child is pid 2, under the init), mount, ipc, uts, cgroup.
        assert {"pid", "mount", "ipc", "uts", "cgroup"} <= r.namespaces, r.json
        assert "net" not in r.namespaces  # auto never takes the network away
        assert r.tree_kill == "pidns" and r.stdout == b"2\n"
    else:
        assert r.namespaces == frozenset() and r.tree_kill == "subreaper"
        assert r.json["isolation_fallback"] == r.isolation_fallback


def test_namespaces__minimal_is_off(policy):
    policy.isolation("minimal")
    assert policy.get_isolation() == "minimal"
    r = policy.run(["sh", "-c", "echo $$"], capture_output=True)
    # run() leaves no survivor: without a pid namespace, its subreaper kills the tree.
    assert r.namespaces == frozenset() and r.tree_kill == "subreaper"
    assert r.isolation_fallback is None
    with policy.spawn(["true"]) as c:
        c.wait()
        assert c.result.tree_kill == "pgroup"
    assert r.stdout != b"2\n"
    policy.unshare("pid")
    policy.unshare()  # none: off again
    r = policy.run(["true"])
    assert r.namespaces == frozenset()


def test_namespaces__isolation_rejects_bad_input(policy):
    with pytest.raises(ValueError, match="'most'"):
        policy.isolation("most")
    with pytest.raises(TypeError):
        policy.isolation(2)  # type: ignore[arg-type]
    assert policy.get_isolation() == "auto"


def test_namespaces__unix_socket_grant(policy, tmp_path):
    import socket as _socket
    path = tmp_path / "s.sock"
    srv = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(4)
    with pytest.raises(agentsbx.SandboxError, match="not a unix socket"):
        policy.allow_unix_socket(tmp_path)
    with pytest.raises(agentsbx.InvalidArgumentError):
        policy.allow_unix_socket("relative.sock")
    policy.allow_unix_socket(path)
    policy.isolation("minimal")
    # Without the mount namespace's view the grant cannot hold: refused.
    with pytest.raises(agentsbx.SandboxError, match="needs the mount namespace"):
        policy.run(["true"])
    srv.close()


def _needs_view(policy):
    r = policy.run(["true"])
    if "mount" not in r.namespaces:
        pytest.skip(f"no mount namespace here: {r.isolation_fallback}")


def test_namespaces__default_view(policy, tmp_path):
    """The default view: grants only, read grants read-only, a private /tmp."""
    _needs_view(policy)
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    code = ("import os, sys\nfor p in sys.argv[1:]:\n"
            "    try:\n        open(p, 'a').close(); print(p, 'ok')\n"
            "    except OSError as e: print(p, e.errno)\n")
    r = policy.run([PY, "-c", code, str(secret)], capture_output=True)
    assert r.stdout == f"{secret} 2\n".encode()  # not there at all
    policy.allow_path(tmp_path, "r")
    r = policy.run([PY, "-c", code, str(secret)], capture_output=True)
    assert r.stdout == f"{secret} 30\n".encode()  # EROFS: a read-only mount
    policy.allow_path(tmp_path, "rw")
    r = policy.run([PY, "-c", code, str(secret)], capture_output=True)
    assert r.stdout == f"{secret} ok\n".encode()
    # The control: the same probe unconfined.
    import subprocess
    out = subprocess.run([PY, "-c", code, str(secret)], capture_output=True).stdout
    assert out == f"{secret} ok\n".encode()


def test_namespaces__default_runs_multiprocessing(policy):
    """Python's multiprocessing needs a writable /dev/shm (SemLock): the view's own."""
    _needs_view(policy)
    code = ("import multiprocessing as mp\n"
            "def sq(x): return x * x\n"
            "if __name__ == '__main__':\n"
            "    with mp.Pool(2) as p: print(sum(p.map(sq, range(10))))\n")
    r = policy.run([PY, "-c", code], capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout == b"285\n", r.stderr
