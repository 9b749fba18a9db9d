"""Carve-outs: paths denied beneath the grants (as tests/live/test_carve.c)."""

import os

import pytest

import agentsbx
from conftest import PY, needs_landlock


def _read(path):
    return ("try:\n    open(%r).read(); print('ok')\n"
            "except OSError as e: print(e.errno)" % str(path))


def _tree(tmp_path):
    ro = tmp_path / "ro"
    (ro / "a").mkdir(parents=True)
    (ro / "a" / "secret").write_text("s3cret\n")
    (ro / "a" / "pub").write_text("pub\n")
    os.chmod(tmp_path, 0o755)
    return ro


def test_carve__minimal_hides_a_file_in_a_read_grant(policy, tmp_path):
    needs_landlock()
    ro = _tree(tmp_path)
    policy.isolation("minimal").allow_path(ro, "r")
    r = policy.run([PY, "-c", _read(ro / "a" / "secret")], capture_output=True)
    assert r.stdout == b"ok\n"  # the control: granted, readable
    policy.deny_path(ro / "a" / "secret", "r")
    r = policy.run([PY, "-c", _read(ro / "a" / "secret")], capture_output=True)
    assert r.stdout == b"13\n"  # EACCES
    r = policy.run([PY, "-c", _read(ro / "a" / "pub")], capture_output=True)
    assert r.stdout == b"ok\n"


def test_carve__minimal_write_deny_in_write_grant_fails_closed(policy, tmp_path):
    needs_landlock()
    ws = tmp_path / "ws"
    ws.mkdir()
    policy.isolation("minimal").allow_path(ws, "rw").deny_path(ws / ".git" / "hooks", "w")
    with pytest.raises(agentsbx.NotSupportedError) as e:
        policy.run(["true"])
    assert str(ws / ".git" / "hooks") in str(e.value)


def test_carve__view_write_deny(policy, tmp_path):
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / ".git" / "config").write_text("cfg\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(ws, 0o777)
    os.chmod(ws / ".git", 0o777)
    os.chmod(ws / ".git" / "config", 0o666)
    policy.isolation("minimal").unshare("mount").allow_path(ws, "rw")
    write = "open(%r, 'a').write('x')" % str(ws / ".git" / "config")
    probe = "try:\n    %s; print('ok')\nexcept OSError as e: print(e.errno)" % write
    policy.deny_path(ws / ".git" / "config", "w")
    try:
        r = policy.run([PY, "-c", probe], capture_output=True)
    except agentsbx.SandboxError as e:
        pytest.skip(f"no mount namespace here: {e}")
    assert r.stdout == b"30\n"  # EROFS
    assert (ws / ".git" / "config").read_text() == "cfg\n"


def test_carve__bad_input(policy):
    with pytest.raises(agentsbx.InvalidArgumentError, match="not an absolute path"):
        policy.deny_path("rel", "r")
    with pytest.raises(agentsbx.InvalidArgumentError, match="not normalised"):
        policy.deny_path("/a/../b", "r")
    with pytest.raises(agentsbx.InvalidArgumentError, match="access must be"):
        policy.deny_path("/a", "x")
    with pytest.raises(agentsbx.InvalidArgumentError, match="access must be"):
        policy.deny_path("/a", "")
    policy.deny_path("/a/b", "w").deny_path("/c", "rw")
    assert policy.denied == [("/a/b", "w"), ("/c", "rw")]


def test_carve__protected_list(policy):
    default = policy.protected
    assert ".git/config" in default and ".bashrc" in default and ".git/hooks" in default
    policy.protect_path(".env").unprotect(".bashrc")
    assert policy.protected == [n for n in default if n != ".bashrc"] + [".env"]
    with pytest.raises(agentsbx.SandboxError, match="not in the policy's protected list"):
        policy.unprotect(".nothing")
    with pytest.raises(agentsbx.InvalidArgumentError, match="not a relative name"):
        policy.protect_path("/abs")


def test_carve__protected_minimal_fails_closed(policy, tmp_path):
    needs_landlock()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".bashrc").write_text("echo hi\n")
    policy.isolation("minimal").allow_path(ws, "rw")
    # The default list is the view's: without it the run goes on, and its
    # result says there was no mount namespace.
    r = policy.run(["true"])
    assert r.returncode == 0 and "mount" not in r.namespaces
    # A name the policy protects itself fails closed.
    policy.protect_path(".bashrc")
    with pytest.raises(agentsbx.NotSupportedError, match="is protected"):
        policy.run(["true"])
    policy.unprotect(".bashrc")
    assert policy.run(["true"]).returncode == 0


def test_carve__bind_and_tmpfs(policy, tmp_path):
    ro = _tree(tmp_path)
    policy.isolation("minimal").unshare("mount")
    policy.bind(ro, "/agentsbx-py/ro").tmpfs("/agentsbx-py/scratch", 1 << 20)
    script = ("open('/agentsbx-py/scratch/f', 'w').write('x'); "
              "print(open('/agentsbx-py/ro/a/pub').read().strip())")
    try:
        r = policy.run([PY, "-c", script], capture_output=True)
    except agentsbx.SandboxError as e:
        pytest.skip(f"no mount namespace here: {e}")
    assert r.stdout == b"pub\n", r.stderr
    with pytest.raises(agentsbx.InvalidArgumentError, match="below 4096"):
        policy.tmpfs("/x", 10)
    policy.unshare()
    with pytest.raises(agentsbx.NotSupportedError, match="needs the mount namespace's view"):
        policy.run(["true"])
