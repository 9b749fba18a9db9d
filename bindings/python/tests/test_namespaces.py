"""The namespace layer through Python (as tests/live/test_namespace.c)."""

import pytest

import agentsbx


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


def test_namespaces__off_by_default(policy):
    r = policy.run(["sh", "-c", "echo $$"], capture_output=True)
    # run() leaves no survivor: without a pid namespace, its subreaper kills the tree.
    assert r.namespaces == frozenset() and r.tree_kill == "subreaper"
    with policy.spawn(["true"]) as c:
        c.wait()
        assert c.result.tree_kill == "pgroup"
    assert r.stdout != b"2\n"
    policy.unshare("pid")
    policy.unshare()  # none: off again
    r = policy.run(["true"])
    assert r.namespaces == frozenset()


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
    # Without the mount namespace's view the grant cannot hold: refused.
    with pytest.raises(agentsbx.SandboxError, match="needs the mount namespace"):
        policy.run(["true"])
    srv.close()
