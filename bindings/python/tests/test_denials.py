"""Exec denials through Python (as tests/live/test_denials.c)."""

import agentsbx
from conftest import needs_landlock


def test_denials__exec_reported_with_path(policy):
    needs_landlock()
    policy.exec_reporting()
    r = policy.run(["sh", "-c", "uname; echo rc=$?"], capture_output=True)
    assert b"rc=126" in r.stdout or b"rc=127" in r.stdout, r.stdout
    assert r.exec_denial_count >= 1
    paths = {d.path for d in r.exec_denials}
    assert any(p.endswith("/uname") for p in paths), r.exec_denials
    assert all(d.reason == "not granted" and d.times >= 1 for d in r.exec_denials)
    # The control: granted, it runs and nothing is reported.
    policy.allow_tool("uname")
    r = policy.run(["sh", "-c", "uname >/dev/null; echo rc=$?"], capture_output=True)
    assert r.stdout == b"rc=0\n" and r.exec_denials == [] and r.exec_denial_count == 0


def test_denials__off_by_default(policy):
    needs_landlock()
    r = policy.run(["sh", "-c", "uname; true"], capture_output=True)
    assert r.exec_denials == [] and r.exec_denial_count == 0
    assert isinstance(r.violations_benign, int)
