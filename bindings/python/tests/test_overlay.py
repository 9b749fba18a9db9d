"""Overlay workspaces (as tests/live/test_overlay.c): the child edits a tree it
sees writable; the host's tree is untouched, the change list exact, and apply
or discard settle it."""

import os
import subprocess

import pytest

import agentsbx


def _ws(tmp_path):
    ws = tmp_path / "ws"
    (ws / "d").mkdir(parents=True)
    (ws / "f").write_text("a\n")
    (ws / "g").write_text("g\n")
    (ws / "d" / "x").write_text("x\n")
    os.chmod(tmp_path, 0o755)
    return ws


def _run(policy, argv):
    try:
        return policy.run(argv, capture_output=True)
    except agentsbx.SandboxError as e:
        if "mounting an overlay" in str(e) or "mount namespace" in str(e):
            pytest.skip(f"no overlay here: {e}")
        raise


EDIT = "sed -i s/a/b/ f && rm -r g d && echo n > n"


def test_overlay__edit_review_apply(policy, tmp_path):
    ws = _ws(tmp_path)
    upper = tmp_path / "upper"
    policy.isolation("full").set_workdir(ws).allow_tool("sed").allow_tool("rm")
    policy.overlay(ws, upper)
    r = _run(policy, ["/bin/sh", "-c", EDIT])
    assert r.returncode == 0, r.stderr
    assert r.overlays == [(str(ws), str(upper))]
    # the host's tree is untouched
    assert (ws / "f").read_text() == "a\n" and (ws / "g").exists() and (ws / "d" / "x").exists()
    assert not (ws / "n").exists()
    assert agentsbx.overlay_changes(ws, upper) == [
        agentsbx.Change("d", "deleted", "dir"),
        agentsbx.Change("d/x", "deleted", "file"),
        agentsbx.Change("f", "modified", "file"),
        agentsbx.Change("g", "deleted", "file"),
        agentsbx.Change("n", "added", "file"),
    ]
    # the control: the same edit unconfined on a copy; applying gives its tree
    ctl = _ws(tmp_path / "ctl")
    subprocess.run(["/bin/sh", "-c", "umask 077 && " + EDIT], cwd=ctl, check=True)
    agentsbx.overlay_apply(ws, upper)
    assert sorted(os.listdir(ws)) == sorted(os.listdir(ctl)) == ["f", "n"]
    assert (ws / "f").read_text() == (ctl / "f").read_text() == "b\n"
    assert (ws / "n").read_text() == "n\n"
    agentsbx.overlay_discard(upper)
    assert not upper.exists()


def test_overlay__private_upper(policy, tmp_path, monkeypatch):
    ws = _ws(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    policy.isolation("full").overlay(ws)
    r = _run(policy, ["/bin/sh", "-c", f"echo hi > {ws}/hello"])
    assert r.returncode == 0, r.stderr
    (lower, upper), = r.overlays
    assert lower == str(ws) and upper.startswith(str(tmp_path / "agentsbx-overlay."))
    assert not (ws / "hello").exists()
    assert agentsbx.overlay_changes(ws, upper) == [agentsbx.Change("hello", "added", "file")]
    agentsbx.overlay_discard(upper)
    assert not os.path.exists(upper)


def test_overlay__minimal_fails_closed(policy, tmp_path):
    ws = _ws(tmp_path)
    policy.isolation("minimal").set_workdir(ws).overlay(ws, tmp_path / "upper")
    with pytest.raises(agentsbx.NotSupportedError, match="--isolation"):
        policy.run(["/bin/sh", "-c", "echo x > written"])
    assert not (ws / "written").exists()
    # the control: without the overlay the same run writes the tree
    with agentsbx.Policy() as p:
        p.isolation("minimal").set_workdir(ws)
        assert p.run(["/bin/sh", "-c", "echo x > written"]).returncode == 0
    assert (ws / "written").exists()


def test_overlay__bad_input(policy, tmp_path):
    ws = _ws(tmp_path)
    with pytest.raises(agentsbx.InvalidArgumentError, match="not an absolute, normalised"):
        policy.overlay("relative")
    with pytest.raises(agentsbx.PathNotFoundError, match="nope"):
        policy.overlay(tmp_path / "nope")
    with pytest.raises(agentsbx.PathNotADirectoryError):
        policy.overlay(ws / "f")
    with pytest.raises(agentsbx.InvalidArgumentError, match="overlap"):
        policy.overlay(ws, ws / "up")
    with pytest.raises(TypeError):
        policy.overlay(None)
    with pytest.raises(agentsbx.PathNotFoundError, match="nope"):
        agentsbx.overlay_changes(ws, tmp_path / "nope")
    with pytest.raises(agentsbx.PathNotADirectoryError):
        agentsbx.overlay_apply(ws, ws / "f")
    with pytest.raises(agentsbx.InvalidArgumentError, match="not an absolute path"):
        agentsbx.overlay_discard("relative")
